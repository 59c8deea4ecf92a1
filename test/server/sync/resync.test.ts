import assert from 'node:assert/strict';
import pino from 'pino';
import { listen, type RunningServer } from '../../../sandbox/common/listen.ts';
import { createHttpApp } from '../../../server/src/http/app.ts';
import { createIntake } from '../../../server/src/intake/accept.ts';
import { JobQueue } from '../../../server/src/queue/job-queue.ts';
import { QueueRunner } from '../../../server/src/queue/runner.ts';
import { SECRET_NAMES } from '../../../server/src/tenants/settings.ts';
import { until } from '../http/harness.ts';
import { startSyncHarness, type SyncHarness } from './harness.ts';

/** POST /api/tenants/:id/resync: the historical sync, through the real queue runner and worker. */
describe('resync (historical sync) through the admin API', function () {
  this.timeout(120_000);
  const logger = pino({ level: 'silent' });
  let h: SyncHarness;
  let server: RunningServer;
  let runner: QueueRunner;
  const KEY = 'resync-test-key';

  before(async () => {
    h = await startSyncHarness();
    await h.store.secrets.put(h.tenantId, SECRET_NAMES.apiKey, KEY);
    const queue = new JobQueue(h.store);
    const intake = createIntake({ store: h.store, queue, metrics: h.metrics, logger });
    const scheduler = { pollNow: async () => { throw new Error('not used'); }, lastResult: () => undefined };
    server = await listen(createHttpApp({ store: h.store, metrics: h.metrics, logger, intake, queue, scheduler, contexts: h.contexts }));
    runner = new QueueRunner({ store: h.store, worker: h.worker, metrics: h.metrics, logger, notifier: queue.notifier, pollIntervalMs: 20, depthRefreshMs: 0 });
    runner.start();
  });
  after(async () => {
    await runner?.stop({ graceMs: 1000 });
    await server?.close();
    await h?.close();
  });

  const post = (body: unknown) =>
    fetch(`${server.url}/api/tenants/${h.tenantId}/resync`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const calls = async (system: string, operation: string) =>
    (await h.metrics.apiCalls.get()).values.filter((v) => v.labels.system === system && v.labels.operation === operation).reduce((n, v) => n + v.value, 0);
  const idle = () => until(async () => { const c = await h.store.jobs.counts(); return c.pending + c.active === 0; }, 60_000);

  it('queues every Dynamics contact and syncs them in batches of 100', async () => {
    const batch: Promise<unknown>[] = [];
    for (let i = 0; i < 250; i++) {
      batch.push(h.dynamicsUser.create({ collection: 'contacts', data: { firstname: `Back${i}`, lastname: 'Fill', emailaddress1: `backfill${i}@example.com` } }));
      if (batch.length === 25) await Promise.all(batch.splice(0));
    }
    const res = await post({ system: 'dynamics', object: 'contact' });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { system: 'dynamics', object: 'contact', read: 250, enqueued: 250, coalesced: 0 });
    await idle();

    const page = await h.hubspotUser.crm.contacts.searchApi.doSearch({ filterGroups: [{ filters: [{ propertyName: 'lastname', operator: 'EQ' as never, value: 'Fill' }] }], limit: 1, properties: [], after: '0', sorts: [] });
    assert.equal(page.total, 250);
    assert.equal(await calls('hubspot', 'batch upsert contacts'), 3, '250 new contacts in three batch upserts');
    assert.equal((await h.store.jobs.counts()).dead, 0);
  });

  it('a resync of records already in sync writes nothing', async () => {
    for (let i = 0; i < 5; i++) await h.dynamicsUser.create({ collection: 'accounts', data: { name: `Resync Co ${i}`, websiteurl: `https://resync${i}.example.com` } });
    assert.equal(((await (await post({ system: 'dynamics', object: 'account' })).json()) as { read: number }).read, 5);
    await idle();
    const toHubSpot = await h.writes('toHubSpot');
    const toDynamics = await h.writes('toDynamics');
    for (const body of [{ system: 'hubspot', object: 'companies' }, { system: 'dynamics', object: 'account' }]) {
      const res = await post(body);
      assert.equal(res.status, 200);
      assert.equal(((await res.json()) as { read: number }).read, 5);
      await idle();
    }
    assert.deepEqual([await h.writes('toHubSpot'), await h.writes('toDynamics')], [toHubSpot, toDynamics]);
  });

  it('says what to send when the body is wrong', async () => {
    const res = await post({ system: 'dynamics', object: 'contacts' });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { error: { message: string } };
    assert.match(body.error.message, /"system": "dynamics", "object": one of lead, contact, account, opportunity/);
  });
});
