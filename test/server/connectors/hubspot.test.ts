import assert from 'node:assert/strict';
import { startHubSpotSandbox, type HubSpotSandbox, type PortalCredentials } from '../../../sandbox/hubspot/index.ts';
import { ConnectorError } from '../../../server/src/connectors/errors.ts';
import type { ApiCallObserver, RetryPolicy } from '../../../server/src/connectors/http-retry.ts';
import { budgetKeys, InMemoryRateBudget, type RateBudget } from '../../../server/src/connectors/rate-budget.ts';
import {
  createHubSpotTokenSource, DYNAMICS_LINK_GROUP, DYNAMICS_LINK_PROPERTIES, HubSpotConnector, type HubSpotTokens,
} from '../../../server/src/connectors/hubspot/index.ts';

interface Call { operation: string; status: number | 'network' }

/** Test retry timings: the policy waits are shortened, the behaviour (which wait applies when) is not. */
const FAST: Partial<RetryPolicy> = { baseDelayMs: 5, maxDelayMs: 50, rollingWindowMs: 100, secondlyWaitMs: 1_000, maxAttempts: 10 };

describe('HubSpot connector (against the HubSpot sandbox)', function () {
  this.timeout(30_000);
  let sb: HubSpotSandbox;

  before(async () => { sb = await startHubSpotSandbox({ accessTokenTtlSeconds: 4 }); });
  after(async () => { await sb.close(); });
  afterEach(() => sb.faults.reset());

  function connect(portal: PortalCredentials, o: { budget?: RateBudget; retry?: Partial<RetryPolicy> } = {}) {
    const calls: Call[] = [];
    const refreshes: HubSpotTokens[] = [];
    const observer: ApiCallObserver = (system, operation, status) => {
      assert.equal(system, 'hubspot');
      calls.push({ operation, status });
    };
    const tokens = createHubSpotTokenSource({
      basePath: sb.baseUrl, portalId: portal.portalId, clientId: sb.app.clientId, clientSecret: sb.app.clientSecret,
      refreshToken: portal.refreshToken, refreshBeforeMs: 1_500, onTokens: (t) => { refreshes.push(t); }, observer,
    });
    const hs = new HubSpotConnector({ portalId: portal.portalId, basePath: sb.baseUrl, tokens, observer, retry: { ...FAST, ...o.retry }, budget: o.budget });
    return { hs, calls, refreshes, tokens };
  }

  const control = (path: string, body: unknown) =>
    fetch(`${sb.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('refreshes the access token before it expires, without meeting a 401', async () => {
    const { hs, calls, refreshes } = connect(sb.createPortal());
    assert.equal(await hs.getObject('contacts', '999999'), null);
    assert.equal(refreshes.length, 1, 'first call obtains a token by refresh grant');
    await new Promise((r) => setTimeout(r, 2_700)); // now inside the 1.5 s refresh margin of the 4 s token
    assert.equal(await hs.getObject('contacts', '999999'), null);
    assert.equal(refreshes.length, 2, 'refreshed ahead of expiry');
    assert.notEqual(refreshes[1].accessToken, refreshes[0].accessToken);
    assert.ok(refreshes[1].expiresAt > Date.now() + 2_000);
    assert.equal(calls.filter((c) => c.status === 401).length, 0);
  });

  it('refreshes once and retries after a forced expiry (401 EXPIRED_AUTHENTICATION)', async () => {
    const { hs, calls, refreshes } = connect(sb.createPortal());
    const created = await hs.createObject('contacts', { properties: { email: 'expiry@example.com' } });
    const res = await control('/__sandbox/tokens/expire', { accessToken: refreshes[0].accessToken });
    assert.equal(res.status, 200);
    const again = await hs.getObject('contacts', created.id, { properties: ['email'] });
    assert.equal(again?.properties.email, 'expiry@example.com');
    assert.equal(calls.filter((c) => c.status === 401).length, 1);
    assert.equal(refreshes.length, 2);
  });

  it('upserts 250 records in 3 batch calls, idempotently', async () => {
    const { hs, calls } = connect(sb.createPortal());
    const inputs = Array.from({ length: 250 }, (_, i) => ({ id: `bulk${i}@example.com`, idProperty: 'email', properties: { firstname: `N${i}` } }));
    const first = await hs.batchUpsert('contacts', inputs);
    assert.equal(calls.filter((c) => c.operation === 'batch upsert contacts').length, 3);
    assert.equal(first.length, 250);
    assert.ok(first.every((o) => o.ok && o.isNew === true));
    const second = await hs.batchUpsert('contacts', inputs.map((i) => ({ ...i, properties: { firstname: 'Again' } })));
    assert.ok(second.every((o) => o.ok && o.isNew === false));
    assert.deepEqual(second.map((o) => o.ok && o.id), first.map((o) => o.ok && o.id));
    const { records, missing } = await hs.batchRead('contacts', [...first.map((o) => (o.ok ? o.id : '')), '77777777'], ['firstname']);
    assert.equal(records.length, 250);
    assert.ok(records.every((r) => r.properties.firstname === 'Again'));
    assert.deepEqual(missing, ['77777777']);
  });

  it('reports a 207 partial failure per input and parses Existing ID of 409 conflicts', async () => {
    const { hs } = connect(sb.createPortal());
    const existing = await hs.createObject('contacts', { properties: { email: 'taken@example.com' } });
    const outcomes = await hs.batchCreate('contacts', [
      { properties: { email: 'fine1@example.com' } },
      { properties: { email: 'bad@example.com', no_such_property: 'x' } },
      { properties: { email: 'taken@example.com' } },
      { properties: { email: 'fine2@example.com' } },
    ]);
    assert.deepEqual(outcomes.map((o) => o.ok), [true, false, false, true]);
    const [ok1, bad, dup, ok2] = outcomes;
    assert.ok(ok1.ok && ok2.ok && ok1.id !== ok2.id);
    assert.ok(!bad.ok && bad.error.status === 400 && !bad.error.retryable);
    assert.match(bad.error.message, /^HubSpot batch create contacts contacts email=bad@example.com failed: HTTP 400/);
    assert.match(bad.error.message, /no_such_property/);
    assert.ok(!dup.ok);
    assert.equal(dup.error.status, 409);
    assert.equal(dup.error.existingId, existing.id);

    const updates = await hs.batchUpdate('contacts', [{ id: existing.id, properties: { firstname: 'T' } }, { id: '12345678', properties: { firstname: 'X' } }]);
    assert.equal(updates[0].ok, true);
    assert.ok(!updates[1].ok && updates[1].error.status === 404 && updates[1].error.record === 'contacts/12345678');

    // Single create: the thrown error says what, where, why, and that retrying will not help.
    const err = await hs.createObject('contacts', { properties: { email: 'taken@example.com' } }).then(() => assert.fail('expected 409'), (e: unknown) => e);
    assert.ok(err instanceof ConnectorError);
    assert.equal(err.existingId, existing.id);
    assert.equal(err.retryable, false);
    assert.match(err.message, /HubSpot create contacts contacts email=taken@example.com failed: HTTP 409 \[CONFLICT\]: Contact already exists\. Existing ID: \d+ \(not retryable/);
  });

  it('walks modified-since search with a (lastmodified, id) cursor across many equal timestamps, resumably', async () => {
    const { hs, calls } = connect(sb.createPortal());
    const since = Date.now() - 1;
    const ids: string[] = [];
    for (let b = 0; b < 3; b++) {
      const out = await hs.batchCreate('contacts', Array.from({ length: 100 }, (_, i) => ({ properties: { email: `s${b}-${i}@example.com` } })));
      ids.push(...out.map((o) => (o.ok ? o.id : assert.fail('create failed'))));
    }
    const pageSize = 15;
    // The point of the test: far more records share a timestamp than fit in one page.
    const { records: all } = await hs.batchRead('contacts', ids, ['lastmodifieddate']);
    const perStamp = new Map<string, number>();
    for (const r of all) perStamp.set(r.properties.lastmodifieddate!, (perStamp.get(r.properties.lastmodifieddate!) ?? 0) + 1);
    assert.ok(Math.max(...perStamp.values()) > pageSize, `expected a timestamp shared by more than ${pageSize} records`);

    const seen: string[] = [];
    let cursor = { since, afterId: '0' };
    let pages = 0;
    for await (const page of hs.searchModifiedSince('contacts', since, { pageSize, properties: ['email'] })) {
      seen.push(...page.records.map((r) => r.id));
      assert.ok(page.cursor.since >= cursor.since, 'cursor never goes back');
      cursor = page.cursor;
      if (++pages === 4) break; // stop early, resume from the stored cursor
    }
    for await (const page of hs.searchModifiedSince('contacts', cursor, { pageSize })) {
      seen.push(...page.records.map((r) => r.id));
      cursor = page.cursor;
    }
    assert.equal(new Set(seen).size, seen.length, 'no record delivered twice');
    assert.deepEqual([...seen].sort(), [...ids].sort());
    // Only 200s, or a SECONDLY 429 when our 5/s budget and HubSpot's window disagree by a few ms (retried).
    assert.ok(calls.filter((c) => c.operation.startsWith('search')).every((c) => c.status === 200 || c.status === 429));
    // Nothing new: resuming from the final cursor yields nothing.
    let more = 0;
    for await (const page of hs.searchModifiedSince('contacts', cursor)) more += page.records.length;
    assert.equal(more, 0);
  });

  it('retries injected 429 (TEN_SECONDLY_ROLLING) and 502 responses until they succeed', async () => {
    const { hs, calls } = connect(sb.createPortal());
    await hs.getObject('contacts', '1'); // token first, so faults hit API calls
    sb.faults.set({ rate429: 0.25, rate502: 0.15 });
    const created = [];
    for (let i = 0; i < 15; i++) created.push(await hs.createObject('companies', { properties: { name: `Retry Co ${i}`, domain: `retry${i}.example.com` } }));
    assert.equal(created.length, 15);
    assert.ok(calls.some((c) => c.status === 429), 'saw a 429');
    assert.ok(calls.some((c) => c.status === 502), 'saw a 502');
    assert.ok(sb.faults.injected['429'] > 0 && sb.faults.injected['502'] > 0);
  });

  it('retries the search SECONDLY limit after a second', async () => {
    const { hs, calls } = connect(sb.createPortal(), { budget: { take: async () => undefined } });
    const runs = await Promise.all(Array.from({ length: 8 }, async () => {
      const got = [];
      for await (const p of hs.searchModifiedSince('companies', 0)) got.push(...p.records);
      return got.length;
    }));
    assert.deepEqual(runs, runs.map(() => 0));
    assert.ok(calls.some((c) => c.status === 429), 'the sandbox refused some searches (5/s)');
  });

  it('waits on the rate budget instead of calling past it', async () => {
    const portal = sb.createPortal();
    const budget = new InMemoryRateBudget(() => ({ limit: 3, windowMs: 300 }));
    const { hs, calls } = connect(portal, { budget });
    await Promise.all(Array.from({ length: 9 }, (_, i) => hs.getObject('contacts', String(1000 + i))));
    const key = budgetKeys.hubspot(portal.portalId);
    assert.equal(budget.statsFor(key).taken, calls.filter((c) => c.operation !== 'OAuth token refresh').length);
    // 9 calls at 3 per window: the 4th and the 7th each had to wait for a window to pass.
    assert.ok(budget.statsFor(key).waited >= 2, `waited ${budget.statsFor(key).waited} times`);
    assert.ok(calls.every((c) => c.status === 404 || c.operation === 'OAuth token refresh'), 'nothing was refused by HubSpot');
  });

  it('adds a dropdown option while keeping the existing ones, and creates link properties once', async () => {
    const { hs } = connect(sb.createPortal());
    const first = await hs.ensureProperties('contacts', DYNAMICS_LINK_GROUP, [
      ...DYNAMICS_LINK_PROPERTIES,
      { name: 'sync_rating', label: 'Rating', type: 'enumeration', fieldType: 'select', options: [{ label: 'Cold', value: 'cold' }, { label: 'Warm', value: 'warm' }] },
    ]);
    assert.equal(first.groupCreated, true);
    assert.deepEqual(first.created, ['dynamics_id', 'dynamics_entity', 'dynamics_url', 'sync_rating']);
    const second = await hs.ensureProperties('contacts', DYNAMICS_LINK_GROUP, DYNAMICS_LINK_PROPERTIES);
    assert.deepEqual(second, { groupCreated: false, created: [] });
    assert.equal((await hs.getProperty('contacts', 'dynamics_url'))?.groupName, 'dynamics_365');

    const added = await hs.addEnumerationOption('contacts', 'sync_rating', 'Hot');
    assert.deepEqual({ label: added.label, value: added.value }, { label: 'Hot', value: 'Hot' });
    const cached = await hs.getProperty('contacts', 'sync_rating');
    assert.deepEqual(cached?.options.map((o) => o.value), ['cold', 'warm', 'Hot'], 'cache updated');
    const fresh = await hs.getProperty('contacts', 'sync_rating', { refresh: true });
    assert.deepEqual(fresh?.options.map((o) => o.label), ['Cold', 'Warm', 'Hot'], 'HubSpot kept the old options');
    await hs.addEnumerationOption('contacts', 'sync_rating', 'Warm');
    assert.equal((await hs.getProperty('contacts', 'sync_rating', { refresh: true }))?.options.length, 3, 'an existing label is not added twice');
    const c = await hs.createObject('contacts', { properties: { email: 'rated@example.com', sync_rating: 'Hot', dynamics_id: 'abc' } });
    assert.equal(c.properties.sync_rating, 'Hot');
  });

  it('looks owners up by email (any case) and id, cached until refreshed', async () => {
    const portal = sb.createPortal();
    const { hs, calls } = connect(portal);
    const owners = await hs.listOwners();
    assert.ok(owners.length >= 1);
    const someone = owners[0];
    assert.equal((await hs.findOwnerByEmail(`  ${someone.email!.toUpperCase()} `))?.id, someone.id);
    assert.equal((await hs.findOwnerById(someone.id))?.email, someone.email);
    const added = await control(`/__sandbox/portals/${portal.portalId}/owners`, { firstName: 'New', lastName: 'Rep', email: 'new.rep@example.com' });
    assert.equal(added.status, 201);
    const before = calls.filter((c) => c.operation === 'read owners').length;
    assert.equal(await hs.findOwnerByEmail('new.rep@example.com'), undefined, 'served from the cache');
    assert.equal(calls.filter((c) => c.operation === 'read owners').length, before);
    await hs.listOwners({ refresh: true });
    assert.ok(await hs.findOwnerByEmail('New.Rep@example.com'));
  });

  it('associates with the default type in batch and reads associations back', async () => {
    const { hs } = connect(sb.createPortal());
    const contact = await hs.createObject('contacts', { properties: { email: 'assoc@example.com' } });
    const company = await hs.createObject('companies', { properties: { name: 'Assoc Co' } });
    const { errors } = await hs.associateDefault('contacts', 'companies', [{ fromId: contact.id, toId: company.id }]);
    assert.deepEqual(errors, []);
    const list = await hs.getAssociations('contacts', contact.id, 'companies');
    assert.equal(list.length, 1);
    assert.equal(list[0].toObjectId, company.id);
    assert.ok(list[0].types.some((t) => t.typeId === 279 || t.typeId === 1));
    const read = await hs.getObject('contacts', contact.id, { associations: ['companies'] });
    assert.deepEqual(read?.associations?.companies, [company.id]);
  });
});
