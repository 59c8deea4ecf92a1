import assert from 'node:assert/strict';
import { client, failure, raw, useSandbox } from './helpers.ts';

describe('hubspot sandbox: rate limits', () => {
  const ctx = useSandbox({ rateLimits: { tenSecondly: 5, searchPerSecond: 2 } });

  it('sends X-HubSpot-RateLimit headers and a TEN_SECONDLY_ROLLING 429 past the limit', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await raw(ctx.sb, 'GET', '/crm/v3/objects/contacts');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-hubspot-ratelimit-max'), '5');
      assert.equal(res.headers.get('x-hubspot-ratelimit-remaining'), String(4 - i));
      assert.equal(res.headers.get('x-hubspot-ratelimit-interval-milliseconds'), '10000');
    }
    const err = await failure(client(ctx.sb).crm.contacts.basicApi.getPage());
    assert.equal(err.code, 429);
    assert.equal(err.body.policyName, 'TEN_SECONDLY_ROLLING');
    assert.equal(err.body.errorType, 'RATE_LIMIT');
    assert.equal(err.body.message, 'You have reached your ten_secondly_rolling limit.');

    // The user token and other portals have their own budgets.
    assert.equal((await raw(ctx.sb, 'GET', '/crm/v3/objects/contacts', undefined, ctx.sb.portal.userToken)).status, 200);
    const other = ctx.sb.createPortal();
    assert.equal((await raw(ctx.sb, 'GET', '/crm/v3/objects/contacts', undefined, other.accessToken)).status, 200);
  });

  it('limits search per second with SECONDLY (no rate-limit headers), which the api-client retries', async () => {
    const body = { filterGroups: [], sorts: [], properties: [], limit: 1, after: '0' } as never;
    const first = await raw(ctx.sb, 'POST', '/crm/v3/objects/contacts/search', {});
    assert.equal(first.status, 200);
    assert.equal(first.headers.get('x-hubspot-ratelimit-max'), null);
    await raw(ctx.sb, 'POST', '/crm/v3/objects/contacts/search', {});
    const limited = await raw(ctx.sb, 'POST', '/crm/v3/objects/contacts/search', {});
    assert.equal(limited.status, 429);
    assert.equal(limited.body.policyName, 'SECONDLY');
    assert.equal(limited.body.message, 'You have reached your secondly limit.');

    const started = Date.now();
    const retried = await client(ctx.sb, ctx.sb.portal.accessToken, 2).crm.contacts.searchApi.doSearch(body);
    assert.equal(retried.total, 0);
    assert.ok(Date.now() - started >= 500, 'waited for the retry');
  });

  it('can be switched off over HTTP', async () => {
    const off = await raw(ctx.sb, 'PUT', '/__sandbox/rate-limits', { enabled: false }, null);
    assert.equal(off.body.enabled, false);
    for (let i = 0; i < 8; i++) assert.equal((await raw(ctx.sb, 'GET', '/crm/v3/objects/contacts')).status, 200);
  });
});
