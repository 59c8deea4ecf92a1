import assert from 'node:assert/strict';
import { startDataverseSandbox, type DataverseSandbox } from '../../../sandbox/dataverse/index.ts';
import type { CreatedTenant } from '../../../server/src/tenants/create.ts';
import { registerDataverseWebhook } from '../../../server/src/tenants/webhooks.ts';
import { startConnectedServer, type ConnectedServer } from './connected-tenant.ts';

/**
 * /api/tenants/:id/dynamics/steps: the SDK steps that post a tenant's Dynamics changes to the server, switched
 * off and on through the server (the move to production), against the Dataverse sandbox and its real
 * webhook pipeline.
 */
describe('Dynamics steps routes /api/tenants/:id/dynamics/…', function () {
  this.timeout(60_000);
  let c: ConnectedServer;
  let otherOrg: DataverseSandbox;
  let a: CreatedTenant;
  let b: CreatedTenant;
  let unconnected: CreatedTenant;

  before(async () => {
    c = await startConnectedServer();
    otherOrg = await startDataverseSandbox({ port: 0, identityPort: 0 });
    a = await c.tenant();
    b = await c.tenant({ org: otherOrg });
    unconnected = await c.tenant({ org: null });
    const ctx = await c.server.contexts.get(a.tenant.id);
    await registerDataverseWebhook(ctx.dynamics, { url: `${c.server.url}/webhooks/dynamics/${a.tenant.id}`, key: a.webhookKey });
  });
  after(async () => {
    await c?.close();
    await otherOrg?.close();
  });

  const call = (method: string, tenantId: string, path: string, key: string | undefined) =>
    fetch(`${c.server.url}/api/tenants/${tenantId}/dynamics${path}`, { method, headers: key ? { authorization: `Bearer ${key}` } : {} });
  const json = async (res: Response) => (await res.json()) as any;

  it('needs the tenant\'s own API key: 401 without one, 403 for another tenant\'s key or an unknown tenant', async () => {
    const none = await call('POST', a.tenant.id, '/steps/disable', undefined);
    assert.equal(none.status, 401);
    assert.equal((await json(none)).error.code, 'unauthorized');
    assert.equal((await call('POST', a.tenant.id, '/steps/disable', b.apiKey)).status, 403);
    assert.equal((await call('GET', a.tenant.id, '/steps', b.apiKey)).status, 403);
    assert.equal((await call('GET', a.tenant.id, '/connection', b.apiKey)).status, 403);
    assert.equal((await call('GET', 'no-such-tenant', '/steps', a.apiKey)).status, 403);
    const steps = await json(await call('GET', a.tenant.id, '/steps', a.apiKey));
    assert.ok(steps.steps.every((s: { enabled: boolean }) => s.enabled), 'nothing was switched by the refused calls');
  });

  it('GET shows the endpoint with the tenant\'s webhook URL and each step\'s state', async () => {
    const res = await call('GET', a.tenant.id, '/steps', a.apiKey);
    assert.equal(res.status, 200);
    const body = await json(res);
    assert.equal(body.endpoints.length, 1);
    assert.equal(body.endpoints[0].url, `${c.server.url}/webhooks/dynamics/${a.tenant.id}`);
    assert.equal(body.steps.length, 8);
    assert.deepEqual(body.steps.map((s: { name: string }) => s.name).slice(0, 2), ['HubSpot sync: Create of account', 'HubSpot sync: Create of contact']);
    assert.ok(body.steps.every((s: { enabled: boolean; endpointId: string }) => s.enabled && s.endpointId === body.endpoints[0].id));
  });

  it('disable stops Dynamics from sending changes, says what changed per step, and is idempotent; enable brings them back', async () => {
    const id = await c.asUser('POST', 'accounts', { name: 'Before Corp' });
    assert.equal(await c.accepted(a.tenant.id, id), 1, 'the create reached the server while the steps were on');

    const off = await call('POST', a.tenant.id, '/steps/disable', a.apiKey);
    assert.equal(off.status, 200);
    const offBody = await json(off);
    assert.equal(offBody.enabled, false);
    assert.equal(offBody.changed, 8);
    assert.ok(offBody.steps.every((s: { changed: boolean; enabled: boolean }) => s.changed && !s.enabled));

    const again = await json(await call('POST', a.tenant.id, '/steps/disable', a.apiKey));
    assert.equal(again.changed, 0, 'a second disable changes nothing');
    assert.ok(again.steps.every((s: { changed: boolean }) => !s.changed));
    const state = await json(await call('GET', a.tenant.id, '/steps', a.apiKey));
    assert.ok(state.steps.every((s: { enabled: boolean }) => !s.enabled));

    await c.asUser('PATCH', `accounts(${id})`, { telephone1: '+1 555 0101' });
    const quiet = await c.asUser('POST', 'contacts', { lastname: 'Unheard' });
    assert.equal(await c.accepted(a.tenant.id, id), 1, 'the update was not sent');
    assert.equal(await c.accepted(a.tenant.id, quiet), 0, 'the create was not sent');

    const on = await json(await call('POST', a.tenant.id, '/steps/enable', a.apiKey));
    assert.equal(on.enabled, true);
    assert.equal(on.changed, 8);
    await c.asUser('PATCH', `accounts(${id})`, { telephone1: '+1 555 0102' });
    assert.equal(await c.accepted(a.tenant.id, id), 2, 'changes reach the server again');
    assert.equal((await json(await call('POST', a.tenant.id, '/steps/enable', a.apiKey))).changed, 0);
  });

  it('409 when the tenant has no Dynamics connection, or its org has no HubSpot sync endpoint', async () => {
    const none = await call('POST', unconnected.tenant.id, '/steps/disable', unconnected.apiKey);
    assert.equal(none.status, 409);
    const e1 = (await json(none)).error;
    assert.equal(e1.code, 'not_connected');
    assert.match(e1.message, /not connected to Dynamics/);

    const empty = await call('GET', b.tenant.id, '/steps', b.apiKey);
    assert.equal(empty.status, 409);
    const e2 = (await json(empty)).error;
    assert.equal(e2.code, 'webhook_not_installed');
    assert.match(e2.message, /npm run deploy-solution/);
  });

  it('502 with Dataverse\'s own message when Dynamics refuses', async () => {
    const limits = `${c.dataverse.orgUrl}/__sandbox/service-protection`;
    const put = (body: unknown) => fetch(limits, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const before = await (await fetch(limits)).json();
    await put({ requestsPerWindow: 1, windowMs: 3_600_000 });
    try {
      const res = await call('POST', a.tenant.id, '/steps/disable', a.apiKey);
      assert.equal(res.status, 502);
      const body = await json(res);
      assert.equal(body.error.code, 'dynamics_error');
      assert.match(body.error.message, /Dynamics 365 \(Dataverse\).*HTTP 429 \[0x80072322\]/);
      assert.deepEqual(body.steps, []);
    } finally {
      await put(before);
    }
    const state = await json(await call('GET', a.tenant.id, '/steps', a.apiKey));
    assert.ok(state.steps.every((s: { enabled: boolean }) => s.enabled), 'nothing half-switched');
  });

  it('GET /connection gives the deploy tool the webhook key and Dynamics settings, never cached', async () => {
    const res = await call('GET', a.tenant.id, '/connection', a.apiKey);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const body = await json(res);
    assert.equal(body.webhookKey, a.webhookKey);
    assert.equal(body.prefix, 'hds');
    assert.equal(body.dynamics.orgUrl, c.dataverse.orgUrl);
    assert.equal(body.dynamics.clientId, c.dataverse.clientId);
    assert.equal(body.embedCredential, null, 'no embed credential is stored for this tenant');
    assert.ok(!JSON.stringify(body).includes(c.dataverse.clientSecret), 'the client secret stays on the server');
    assert.equal((await json(await call('GET', unconnected.tenant.id, '/connection', unconnected.apiKey))).dynamics, null);
  });
});
