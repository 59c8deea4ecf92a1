import assert from 'node:assert/strict';
import { Client } from '@hubspot/api-client';
import { client, failure, raw, useSandbox } from './helpers.ts';

describe('hubspot sandbox: OAuth and tokens', () => {
  const ctx = useSandbox({ rateLimits: { enabled: false } });
  const redirect = 'http://localhost:3000/oauth/callback';

  async function authorize(query: Record<string, string>) {
    const url = new URL('/oauth/authorize', ctx.sb.baseUrl);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    return fetch(url, { redirect: 'manual' });
  }

  it('installs through authorize → code → token exchange, refreshes, introspects and revokes', async () => {
    const res = await authorize({ client_id: ctx.sb.app.clientId, redirect_uri: redirect, scope: 'oauth crm.objects.contacts.read', state: 'xyz' });
    assert.equal(res.status, 302);
    const location = new URL(res.headers.get('location')!);
    assert.equal(`${location.origin}${location.pathname}`, redirect);
    assert.equal(location.searchParams.get('state'), 'xyz');
    const code = location.searchParams.get('code')!;

    const hs = new Client({ basePath: ctx.sb.baseUrl });
    const tokens = await hs.oauth.tokensApi.create('authorization_code', code, redirect, ctx.sb.app.clientId, ctx.sb.app.clientSecret);
    assert.equal(tokens.expiresIn, 1800);
    assert.ok(tokens.accessToken && tokens.refreshToken);
    assert.equal(tokens.tokenType, 'bearer');

    const info = await hs.oauth.accessTokensApi.get(tokens.accessToken);
    assert.notEqual(info.hubId, ctx.sb.portal.portalId, 'a new install creates a new portal');
    assert.equal(info.appId, ctx.sb.app.appId);
    assert.deepEqual(info.scopes, ['oauth', 'crm.objects.contacts.read']);

    const reused = await failure(hs.oauth.tokensApi.create('authorization_code', code, redirect, ctx.sb.app.clientId, ctx.sb.app.clientSecret));
    assert.equal(reused.code, 400);
    assert.equal(reused.body.status, 'BAD_AUTH_CODE');

    const refreshed = await hs.oauth.tokensApi.create('refresh_token', undefined, undefined, ctx.sb.app.clientId, ctx.sb.app.clientSecret, tokens.refreshToken);
    assert.notEqual(refreshed.accessToken, tokens.accessToken);
    const rt = await hs.oauth.refreshTokensApi.get(tokens.refreshToken);
    assert.equal(rt.hubId, info.hubId);
    assert.equal(rt.clientId, ctx.sb.app.clientId);

    const c = await client(ctx.sb, refreshed.accessToken).crm.contacts.basicApi.create({ properties: { email: 'new@portal.com' }, associations: [] });
    assert.ok(c.id);

    await hs.oauth.refreshTokensApi.archive(tokens.refreshToken);
    const bad = await failure(hs.oauth.tokensApi.create('refresh_token', undefined, undefined, ctx.sb.app.clientId, ctx.sb.app.clientSecret, tokens.refreshToken));
    assert.equal(bad.code, 400);
    assert.equal(bad.body.status, 'BAD_REFRESH_TOKEN');
    assert.equal((await raw(ctx.sb, 'GET', '/crm/v3/objects/contacts', undefined, refreshed.accessToken)).status, 401);
  });

  it('installs into an existing portal when portal_id is given', async () => {
    const res = await authorize({ client_id: ctx.sb.app.clientId, redirect_uri: redirect, scope: 'oauth', portal_id: String(ctx.sb.portal.portalId) });
    const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
    const hs = new Client({ basePath: ctx.sb.baseUrl });
    const tokens = await hs.oauth.tokensApi.create('authorization_code', code, redirect, ctx.sb.app.clientId, ctx.sb.app.clientSecret);
    assert.equal((await hs.oauth.accessTokensApi.get(tokens.accessToken)).hubId, ctx.sb.portal.portalId);
  });

  it('shows an error page for a wrong client_id or redirect_uri, and rejects bad token requests', async () => {
    const wrongClient = await authorize({ client_id: 'nope', redirect_uri: redirect });
    assert.equal(wrongClient.status, 400);
    assert.match(await wrongClient.text(), /Unknown client_id/);
    const wrongRedirect = await authorize({ client_id: ctx.sb.app.clientId, redirect_uri: 'https://evil.example.com/cb' });
    assert.equal(wrongRedirect.status, 400);

    const hs = new Client({ basePath: ctx.sb.baseUrl });
    const badCode = await failure(hs.oauth.tokensApi.create('authorization_code', 'garbage', redirect, ctx.sb.app.clientId, ctx.sb.app.clientSecret));
    assert.equal(badCode.body.status, 'BAD_AUTH_CODE');
    const badClient = await failure(hs.oauth.tokensApi.create('authorization_code', 'garbage', redirect, 'nope', ctx.sb.app.clientSecret));
    assert.equal(badClient.body.status, 'BAD_CLIENT_ID');

    const res = await authorize({ client_id: ctx.sb.app.clientId, redirect_uri: redirect });
    const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
    const mismatch = await failure(hs.oauth.tokensApi.create('authorization_code', code, 'http://localhost:9999/other', ctx.sb.app.clientId, ctx.sb.app.clientSecret));
    assert.equal(mismatch.body.status, 'BAD_REDIRECT_URI');
  });

  it('answers an expired token with EXPIRED_AUTHENTICATION and a bad one with INVALID_AUTHENTICATION', async () => {
    const hs = client(ctx.sb);
    await hs.crm.contacts.basicApi.getPage();
    const expire = await raw(ctx.sb, 'POST', '/__sandbox/tokens/expire', { accessToken: ctx.sb.portal.accessToken }, null);
    assert.deepEqual(expire.body, { expired: 1 });
    const expired = await failure(hs.crm.contacts.basicApi.getPage());
    assert.equal(expired.code, 401);
    assert.equal(expired.body.category, 'EXPIRED_AUTHENTICATION');
    assert.match(expired.body.message, /expired/);
    const bad = await failure(client(ctx.sb, 'not-a-token').crm.contacts.basicApi.getPage());
    assert.equal(bad.code, 401);
    assert.equal(bad.body.category, 'INVALID_AUTHENTICATION');
    // The user token never expires.
    await client(ctx.sb, ctx.sb.portal.userToken).crm.contacts.basicApi.getPage();
    // A refresh gives a working token again.
    const fresh = await new Client({ basePath: ctx.sb.baseUrl }).oauth.tokensApi.create('refresh_token', undefined, undefined, ctx.sb.app.clientId, ctx.sb.app.clientSecret, ctx.sb.portal.refreshToken);
    await client(ctx.sb, fresh.accessToken).crm.contacts.basicApi.getPage();
  });

  it('expires access tokens after accessTokenTtlSeconds', async () => {
    await ctx.sb.close();
    const { startHubSpotSandbox } = await import('../../../sandbox/hubspot/index.ts');
    (ctx as { sb: unknown }).sb = await startHubSpotSandbox({ port: 0, accessTokenTtlSeconds: 0.2 });
    assert.equal((await raw(ctx.sb, 'GET', '/crm/v3/objects/contacts')).status, 200);
    await new Promise((r) => setTimeout(r, 250));
    const res = await raw(ctx.sb, 'GET', '/crm/v3/objects/contacts');
    assert.equal(res.status, 401);
    assert.equal(res.body.category, 'EXPIRED_AUTHENTICATION');
  });
});
