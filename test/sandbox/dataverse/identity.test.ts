import assert from 'node:assert/strict';
import https from 'node:https';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { startIdentityProvider, type IdentityProvider } from '../../../sandbox/dataverse/identity/index.ts';
import type { Principal } from '../../../sandbox/dataverse/contracts.ts';
import { createDataverseTokenSource } from '../../../server/src/connectors/dataverse/token.ts';
import { createCaTrustingNetworkModule } from '../../../server/src/connectors/dataverse/trusted-network.ts';

const tenantId = '4f6a1c2e-9b1d-4c55-8e0a-2d3b5c7e9f10';
const orgUrl = 'https://sandbox.crm.dynamics.com';
const appPrincipal: Principal = { systemUserId: 'a1111111-1111-4111-8111-111111111111', azureObjectId: 'b2222222-2222-4222-8222-222222222222', kind: 'application' };
const person: Principal = { systemUserId: 'c3333333-3333-4333-8333-333333333333', azureObjectId: 'd4444444-4444-4444-8444-444444444444', kind: 'user' };
const client = { clientId: 'e5555555-5555-4555-8555-555555555555', clientSecret: 'Xy7~sandbox-secret', principal: appPrincipal };

function decodeClaims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** POSTs a form to the token endpoint trusting the sandbox CA, returning status and parsed JSON. */
function postForm(idp: IdentityProvider, form: Record<string, string>, path = `/${tenantId}/oauth2/v2.0/token`): Promise<{ status: number; body: any }> {
  const url = new URL(idp.authorityUrl);
  const body = new URLSearchParams(form).toString();
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: url.hostname, port: url.port, path, method: 'POST', ca: idp.caCert, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function msalApp(idp: IdentityProvider, clientId: string, clientSecret: string): ConfidentialClientApplication {
  return new ConfidentialClientApplication({
    auth: {
      clientId,
      clientSecret,
      authority: idp.authorityUrl,
      knownAuthorities: [new URL(idp.authorityUrl).host],
      authorityMetadata: idp.authorityMetadata,
      cloudDiscoveryMetadata: idp.cloudDiscoveryMetadata,
    },
    system: { networkClient: createCaTrustingNetworkModule(idp.caCert) },
  });
}

describe('Dataverse sandbox identity provider', () => {
  let idp: IdentityProvider;
  before(async () => {
    idp = await startIdentityProvider({ tenantId, orgUrl, clients: [client], users: [{ principal: person }] });
  });
  after(() => idp.close());

  it('issues a client-credentials token through the real msal library, and the verifier accepts it', async () => {
    const result = await msalApp(idp, client.clientId, client.clientSecret).acquireTokenByClientCredential({ scopes: [`${orgUrl}/.default`] });
    assert.ok(result?.accessToken);
    assert.equal(result.tokenType, 'Bearer');
    assert.ok(result.expiresOn && result.expiresOn.getTime() > Date.now() + 3500_000);
    const claims = decodeClaims(result.accessToken);
    assert.equal(claims.aud, orgUrl);
    assert.equal(claims.tid, tenantId);
    assert.equal(claims.appid, client.clientId);
    assert.equal(claims.oid, appPrincipal.azureObjectId);
    assert.equal(claims.idtyp, 'app');
    assert.equal(typeof claims.exp, 'number');
    const check = idp.verifier.verify(`Bearer ${result.accessToken}`);
    assert.deepEqual(check, { ok: true, principal: appPrincipal });
  });

  it('the product token source gets a token in sandbox mode and serves it from msal’s cache', async () => {
    const source = createDataverseTokenSource({
      orgUrl, authorityUrl: idp.authorityUrl, clientId: client.clientId, clientSecret: client.clientSecret,
      sandbox: { caCert: idp.caCert, authorityMetadata: idp.authorityMetadata, cloudDiscoveryMetadata: idp.cloudDiscoveryMetadata },
    });
    const first = await source.getToken();
    const second = await source.getToken();
    assert.equal(second, first);
    assert.equal(idp.verifier.verify(`Bearer ${first}`).ok, true);
  });

  it('rejects a tampered token, a missing one, a non-bearer header and garbage', async () => {
    const result = await msalApp(idp, client.clientId, client.clientSecret).acquireTokenByClientCredential({ scopes: [`${orgUrl}/.default`] });
    const [head, , sig] = result!.accessToken.split('.');
    const forged = Buffer.from(JSON.stringify({ ...decodeClaims(result!.accessToken), oid: person.azureObjectId })).toString('base64url');
    assert.deepEqual(idp.verifier.verify(`Bearer ${head}.${forged}.${sig}`), { ok: false, reason: 'invalid' });
    assert.deepEqual(idp.verifier.verify(undefined), { ok: false, reason: 'missing' });
    assert.deepEqual(idp.verifier.verify(''), { ok: false, reason: 'missing' });
    assert.deepEqual(idp.verifier.verify(`Basic ${result!.accessToken}`), { ok: false, reason: 'invalid' });
    assert.deepEqual(idp.verifier.verify('Bearer not.a.jwt'), { ok: false, reason: 'invalid' });
  });

  it('rejects an expired token (tiny TTL)', async () => {
    const shortLived = await startIdentityProvider({ tenantId, orgUrl, tokenTtlSeconds: 1, clients: [client], users: [] });
    try {
      const { body } = await postForm(shortLived, { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret, scope: `${orgUrl}/.default` });
      assert.equal(body.expires_in, 1);
      assert.equal(shortLived.verifier.verify(`Bearer ${body.access_token}`).ok, true);
      await new Promise((r) => setTimeout(r, 1100));
      assert.deepEqual(shortLived.verifier.verify(`Bearer ${body.access_token}`), { ok: false, reason: 'expired' });
      // A token of another sandbox instance (other signing key) is not ours.
      assert.deepEqual(idp.verifier.verify(`Bearer ${body.access_token}`), { ok: false, reason: 'invalid' });
    } finally {
      await shortLived.close();
    }
  });

  it('surfaces AADSTS7000215 through msal for a wrong secret, and AADSTS700016 for an unknown app', async () => {
    await assert.rejects(
      msalApp(idp, client.clientId, 'wrong').acquireTokenByClientCredential({ scopes: [`${orgUrl}/.default`] }),
      (err: any) => {
        assert.equal(err.errorCode, 'invalid_client');
        assert.match(err.errorMessage, /AADSTS7000215: Invalid client secret provided/);
        assert.match(err.errorMessage, /Error\(s\): 7000215/);
        assert.match(err.errorMessage, new RegExp(`Correlation ID: ${err.correlationId}`));
        return true;
      },
    );
    await assert.rejects(
      msalApp(idp, '99999999-9999-4999-8999-999999999999', 'x').acquireTokenByClientCredential({ scopes: [`${orgUrl}/.default`] }),
      (err: any) => err.errorCode === 'unauthorized_client' && /AADSTS700016/.test(err.errorMessage),
    );
  });

  it('answers malformed requests with Entra’s error JSON and status', async () => {
    const good = { grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret, scope: `${orgUrl}/.default` };
    const wrongSecret = await postForm(idp, { ...good, client_secret: 'nope' });
    assert.equal(wrongSecret.status, 401);
    assert.equal(wrongSecret.body.error, 'invalid_client');
    assert.deepEqual(wrongSecret.body.error_codes, [7000215]);
    for (const key of ['timestamp', 'trace_id', 'correlation_id', 'error_uri']) assert.equal(typeof wrongSecret.body[key], 'string', key);
    assert.match(wrongSecret.body.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);

    const grant = await postForm(idp, { ...good, grant_type: 'password' });
    assert.equal(grant.status, 400);
    assert.equal(grant.body.error, 'unsupported_grant_type');

    const { scope: _omit, ...noScope } = good;
    const missingScope = await postForm(idp, noScope);
    assert.equal(missingScope.status, 400);
    assert.equal(missingScope.body.error, 'invalid_request');
    assert.deepEqual(missingScope.body.error_codes, [900144]);
    assert.match(missingScope.body.error_description, /'scope'/);

    const notDefault = await postForm(idp, { ...good, scope: `${orgUrl}/user_impersonation` });
    assert.equal(notDefault.status, 400);
    assert.deepEqual(notDefault.body.error_codes, [1002012]);

    const otherResource = await postForm(idp, { ...good, scope: 'https://other.crm.dynamics.com/.default' });
    assert.equal(otherResource.status, 400);
    assert.equal(otherResource.body.error, 'invalid_resource');
    assert.deepEqual(otherResource.body.error_codes, [500011]);

    const otherTenant = await postForm(idp, good, '/00000000-0000-0000-0000-000000000001/oauth2/v2.0/token');
    assert.equal(otherTenant.status, 400);
    assert.deepEqual(otherTenant.body.error_codes, [90002]);
  });

  it('serves the OpenID configuration', async () => {
    const url = new URL(`${idp.authorityUrl}/v2.0/.well-known/openid-configuration`);
    const config = await new Promise<any>((resolve, reject) => {
      https.get(url, { ca: idp.caCert }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve(JSON.parse(text)));
      }).on('error', reject);
    });
    assert.equal(config.token_endpoint, `${idp.authorityUrl}/oauth2/v2.0/token`);
    assert.deepEqual(config, JSON.parse(idp.authorityMetadata));
  });

  it('issues long-lived user tokens that the verifier maps to the user', () => {
    const token = idp.userToken(person.systemUserId);
    assert.deepEqual(idp.verifier.verify(`Bearer ${token}`), { ok: true, principal: person });
    const claims = decodeClaims(token);
    assert.equal(claims.idtyp, 'user');
    assert.ok((claims.exp as number) > Date.now() / 1000 + 300 * 24 * 3600);
    assert.throws(() => idp.userToken('00000000-0000-0000-0000-00000000dead'), /no user/);
  });

  it('is trusted only by clients given its CA', async () => {
    await assert.rejects(fetch(`${idp.authorityUrl}/v2.0/.well-known/openid-configuration`));
    await assert.rejects(
      new Promise((resolve, reject) => https.get(`${idp.authorityUrl}/v2.0/.well-known/openid-configuration`, resolve).on('error', reject)),
      (err: any) => /UNABLE_TO_VERIFY|SELF_SIGNED|unable to verify/i.test(`${err.code} ${err.message}`),
    );
    // msal with its default network client (what production uses) refuses the sandbox certificate too.
    const plain = new ConfidentialClientApplication({
      auth: {
        clientId: client.clientId, clientSecret: client.clientSecret, authority: idp.authorityUrl,
        knownAuthorities: [new URL(idp.authorityUrl).host], authorityMetadata: idp.authorityMetadata, cloudDiscoveryMetadata: idp.cloudDiscoveryMetadata,
      },
    });
    await assert.rejects(plain.acquireTokenByClientCredential({ scopes: [`${orgUrl}/.default`] }), (err: any) => err.errorCode === 'network_error');
  });
});
