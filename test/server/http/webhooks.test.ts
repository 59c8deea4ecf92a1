import assert from 'node:assert/strict';
import { listen, type RunningServer } from '../../../sandbox/common/listen.ts';
import { createHttpApp } from '../../../server/src/http/app.ts';
import { signV3 } from '../../../server/src/security/hubspot-signature.ts';
import type { Tenant } from '../../../server/src/store/repositories/tenants.ts';
import { intakeFor, makeTenant, silent, sqliteStore, type TempStore, noConnectors } from './harness.ts';

const SECRET = 'app-client-secret';
const GUID = '0a9f3c51-7d2e-4b8a-9c1f-5e6d7a8b9c0d';

describe('webhook routes', () => {
  let t: TempStore;
  let server: RunningServer;
  let tenant: Tenant;
  let portalId: number;
  let webhookKey: string;

  before(async () => {
    t = await sqliteStore();
    const { intake, queue, metrics } = intakeFor(t.store);
    const app = createHttpApp({
      store: t.store, metrics, logger: silent, intake, queue, hubspotClientSecret: SECRET,
      scheduler: { pollNow: async () => { throw new Error('unused'); }, lastResult: () => undefined },
      contexts: { invalidate: () => {}, get: noConnectors },
    });
    server = await listen(app);
    ({ tenant, portalId, webhookKey } = await makeTenant(t.store));
  });
  after(async () => {
    await server?.close();
    await t?.close();
  });

  const jobs = () => t.store.db.kysely.selectFrom('jobs').selectAll().orderBy('id').execute();
  const inbox = () => t.store.db.kysely.selectFrom('inbox').selectAll().orderBy('id').execute();

  function events(...ids: number[]) {
    return ids.map((id) => ({
      eventId: id, subscriptionId: 1, portalId, appId: 1, occurredAt: 1_750_000_000_000 + id, subscriptionType: 'company.creation', attemptNumber: 0, objectId: 900 + id,
      changeSource: 'CRM_UI', sourceId: 'userId:1',
    }));
  }

  /** Signs like HubSpot: over the URL it called (our server's, or the public URL behind a proxy). */
  async function deliver(body: string, o: { timestamp?: number; signBody?: string; signedUrl?: string; headers?: Record<string, string> } = {}) {
    const timestamp = o.timestamp ?? Date.now();
    const url = `${server.url}/webhooks/hubspot`;
    const signature = signV3({ clientSecret: SECRET, method: 'POST', uri: o.signedUrl ?? url, body: o.signBody ?? body, timestamp });
    return fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hubspot-signature-v3': signature, 'x-hubspot-request-timestamp': String(timestamp), ...o.headers },
      body,
    });
  }

  describe('POST /webhooks/hubspot', () => {
    it('accepts a signed delivery, records it and queues the records', async () => {
      const res = await deliver(JSON.stringify(events(1, 2)));
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { accepted: 2, duplicates: 0, echoes: 0, unknownPortal: 0 });
      assert.deepEqual((await jobs()).map((j) => [j.object_type, j.record_id]), [['companies', '901'], ['companies', '902']]);
    });

    it('coalesces duplicate deliveries into one job', async () => {
      const body = JSON.stringify(events(3));
      assert.equal((await deliver(body)).status, 200);
      const again = await deliver(body);
      assert.deepEqual(await again.json(), { accepted: 0, duplicates: 1, echoes: 0, unknownPortal: 0 });
      assert.equal((await jobs()).filter((j) => j.record_id === '903').length, 1);
    });

    it('rejects a tampered body, a stale timestamp, a missing signature (401, JSON), keeping what was accepted', async () => {
      const before = { jobs: (await jobs()).length, inbox: (await inbox()).length };
      const tampered = await deliver(JSON.stringify(events(4)), { signBody: JSON.stringify(events(5)) });
      assert.equal(tampered.status, 401);
      const body = (await tampered.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'invalid_signature');
      assert.match(body.error.message, /mismatch/);

      const stale = await deliver(JSON.stringify(events(6)), { timestamp: Date.now() - 6 * 60_000 });
      assert.equal(stale.status, 401);
      assert.match(((await stale.json()) as { error: { message: string } }).error.message, /stale/);

      const unsigned = await fetch(`${server.url}/webhooks/hubspot`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[]' });
      assert.equal(unsigned.status, 401);
      assert.match(((await unsigned.json()) as { error: { message: string } }).error.message, /missing/i);
      assert.deepEqual({ jobs: (await jobs()).length, inbox: (await inbox()).length }, before);
    });

    it('answers 400 for signed but malformed JSON or a wrong shape, saying what is wrong', async () => {
      const before = (await jobs()).length;
      const bad = await deliver('[{"eventId": 1,');
      assert.equal(bad.status, 400);
      assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'malformed_json');
      const shape = await deliver(JSON.stringify({ events: [] }));
      assert.equal(shape.status, 400);
      assert.match(((await shape.json()) as { error: { message: string } }).error.message, /JSON array/);
      const noId = await deliver(JSON.stringify([{ ...events(7)[0], objectId: 'abc' }]));
      assert.equal(noId.status, 400);
      assert.match(((await noId.json()) as { error: { message: string } }).error.message, /Event 0 has no valid objectId/);
      assert.equal((await jobs()).length, before);
    });

    it('verifies against PUBLIC_URL when set (the URL HubSpot called, before the proxy)', async () => {
      const { intake, queue, metrics } = intakeFor(t.store);
      const proxied = await listen(createHttpApp({
        store: t.store, metrics, logger: silent, intake, queue, hubspotClientSecret: SECRET, publicUrl: 'https://sync.example.com',
        scheduler: { pollNow: async () => { throw new Error('unused'); }, lastResult: () => undefined }, contexts: { invalidate: () => {}, get: noConnectors },
      }));
      try {
        const body = JSON.stringify(events(8));
        const send = (signedUrl: string) => {
          const timestamp = Date.now();
          return fetch(`${proxied.url}/webhooks/hubspot`, {
            method: 'POST', body,
            headers: { 'x-hubspot-signature-v3': signV3({ clientSecret: SECRET, method: 'POST', uri: signedUrl, body, timestamp }), 'x-hubspot-request-timestamp': String(timestamp) },
          });
        };
        assert.equal((await send(`${proxied.url}/webhooks/hubspot`)).status, 401, 'signed over the internal URL: rejected');
        assert.equal((await send('https://sync.example.com/webhooks/hubspot')).status, 200);
      } finally {
        await proxied.close();
      }
    });

    it('refuses bodies over 1 MB with 413', async () => {
      const big = JSON.stringify([{ pad: 'x'.repeat(1_100_000) }]);
      const res = await deliver(big);
      assert.equal(res.status, 413);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'payload_too_large');
    });
  });

  describe('POST /webhooks/dynamics/:tenant', () => {
    const ctx = (op: string) => JSON.stringify({ PrimaryEntityName: 'account', PrimaryEntityId: GUID, MessageName: 'Update', OperationId: op, InitiatingUserId: GUID, InputParameters: [] });
    const post = (path: string, body: string, headers: Record<string, string> = {}) =>
      fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });

    it('accepts the key as the x-hds-key header or ?code=, and queues the record', async () => {
      const r1 = await post(`/webhooks/dynamics/${tenant.id}`, ctx('op-h'), { 'x-hds-key': webhookKey });
      assert.equal(r1.status, 200);
      assert.equal(((await r1.json()) as { status: string }).status, 'accepted');
      const r2 = await post(`/webhooks/dynamics/${tenant.id}?code=${encodeURIComponent(webhookKey)}`, ctx('op-c'));
      assert.equal(r2.status, 200);
      const dup = await post(`/webhooks/dynamics/${tenant.id}?code=${encodeURIComponent(webhookKey)}`, ctx('op-c'));
      assert.equal(((await dup.json()) as { status: string }).status, 'duplicate');
      const mine = (await jobs()).filter((j) => j.system === 'dynamics');
      assert.deepEqual(mine.map((j) => [j.object_type, j.record_id]), [['account', GUID]], 'one job for the record');
    });

    it('404 for an unknown tenant, 401 for a missing or wrong key, 400 for malformed bodies; accepted events stay', async () => {
      const before = { jobs: (await jobs()).length, inbox: (await inbox()).length };
      const unknown = await post('/webhooks/dynamics/nope', ctx('x'), { 'x-hds-key': webhookKey });
      assert.equal(unknown.status, 404);
      assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'unknown_tenant');
      assert.equal((await post(`/webhooks/dynamics/${tenant.id}`, ctx('x'))).status, 401);
      const wrong = await post(`/webhooks/dynamics/${tenant.id}?code=wrong`, ctx('x'));
      assert.equal(wrong.status, 401);
      assert.equal(((await wrong.json()) as { error: { code: string } }).error.code, 'invalid_webhook_key');
      const bad = await post(`/webhooks/dynamics/${tenant.id}`, '{"PrimaryEntityName":', { 'x-hds-key': webhookKey });
      assert.equal(bad.status, 400);
      const noId = await post(`/webhooks/dynamics/${tenant.id}`, JSON.stringify({ PrimaryEntityName: 'lead', PrimaryEntityId: 'x', MessageName: 'Create' }), { 'x-hds-key': webhookKey });
      assert.equal(noId.status, 400);
      assert.match(((await noId.json()) as { error: { message: string } }).error.message, /not a GUID/);
      assert.deepEqual({ jobs: (await jobs()).length, inbox: (await inbox()).length }, before);
    });
  });

  describe('other routes', () => {
    it('GET /healthz answers ok; /metrics exposes the queue depth; unknown routes get a JSON 404', async () => {
      const h = await fetch(`${server.url}/healthz`);
      assert.deepEqual([h.status, await h.json()], [200, { status: 'ok' }]);
      const m = await (await fetch(`${server.url}/metrics`)).text();
      assert.match(m, /sync_echoes_suppressed_total/);
      const nf = await fetch(`${server.url}/nope`);
      assert.equal(nf.status, 404);
      assert.equal(((await nf.json()) as { error: { code: string } }).error.code, 'not_found');
    });
  });
});
