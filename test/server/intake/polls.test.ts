import assert from 'node:assert/strict';
import { ConnectorError } from '../../../server/src/connectors/errors.ts';
import type { ModifiedCursor, ModifiedPage } from '../../../server/src/connectors/hubspot/search.ts';
import type { ChangeSet } from '../../../server/src/connectors/dataverse/connector.ts';
import { pollHubSpot } from '../../../server/src/intake/hubspot-poller.ts';
import { trackDataverseChanges } from '../../../server/src/intake/dataverse-tracker.ts';
import { Scheduler } from '../../../server/src/intake/scheduler.ts';
import { JobQueue } from '../../../server/src/queue/job-queue.ts';
import { makeTenant, silent, sqliteStore, until, type TempStore } from '../http/harness.ts';

/** A HubSpot search stand-in: records with ids and modification times; returns those at/after the cursor. */
function fakeHubSpot(records: Record<string, Array<{ id: string; at: number }>>) {
  const starts: Array<{ object: string; cursor: ModifiedCursor }> = [];
  return {
    starts,
    hubspot: {
      async *searchModifiedSince(object: string, cursor: ModifiedCursor | number): AsyncGenerator<ModifiedPage> {
        const c = typeof cursor === 'number' ? { since: cursor, afterId: '0' } : cursor;
        starts.push({ object, cursor: c });
        const found = (records[object] ?? []).filter((r) => r.at >= c.since).sort((a, b) => a.at - b.at);
        if (!found.length) return;
        const last = found[found.length - 1];
        yield { records: found.map((r) => ({ id: r.id, properties: {} }) as never), cursor: { since: last.at, afterId: last.id } };
      },
    },
  };
}

function fakeDataverse(script: (entity: string, deltaLink?: string) => ChangeSet) {
  const calls: Array<{ entity: string; deltaLink?: string }> = [];
  return {
    calls,
    dynamics: {
      async trackChanges(entity: string, o: { deltaLink?: string } = {}) {
        calls.push({ entity, deltaLink: o.deltaLink });
        return script(entity, o.deltaLink);
      },
    },
  };
}

const cs = (deltaLink: string, changedIds: string[] = [], deletedIds: string[] = []): ChangeSet => ({ changed: [], changedIds, deletedIds, deltaLink });

describe('safety-net polls', () => {
  let t: TempStore;
  let tenantId: string;
  let queue: JobQueue;
  beforeEach(async () => {
    t = await sqliteStore();
    tenantId = (await makeTenant(t.store)).tenant.id;
    queue = new JobQueue(t.store);
  });
  afterEach(async () => t.close());
  const jobs = () => t.store.db.kysely.selectFrom('jobs').select(['system', 'object_type', 'record_id', 'trigger']).orderBy('id').execute();
  const settings = async () => (await t.store.tenants.get(tenantId))!.settings as { cursors: { hubspot: Record<string, ModifiedCursor>; dataverse: Record<string, string> } };

  it('HubSpot: the first poll only sets the cursors; later polls queue modified ids from cursor − overlap and advance it', async () => {
    const now = 10_000_000;
    const { hubspot, starts } = fakeHubSpot({ contacts: [{ id: '1', at: now - 500_000 }, { id: '2', at: now + 1000 }], deals: [{ id: '9', at: now + 2000 }] });
    const first = await pollHubSpot({ store: t.store, queue, tenantId, hubspot, overlapMs: 60_000, now: () => now });
    assert.deepEqual(first, { enqueued: 0, baselined: ['contacts', 'companies', 'deals'] });
    assert.equal((await settings()).cursors.hubspot.contacts.since, now - 60_000);

    const second = await pollHubSpot({ store: t.store, queue, tenantId, hubspot, overlapMs: 60_000, now: () => now + 5000 });
    assert.equal(second.enqueued, 2);
    assert.equal(starts.find((s) => s.object === 'contacts')!.cursor.since, now - 120_000, 'starts an overlap before the cursor');
    assert.deepEqual(await jobs(), [
      { system: 'hubspot', object_type: 'contacts', record_id: '2', trigger: 'poll' },
      { system: 'hubspot', object_type: 'deals', record_id: '9', trigger: 'poll' },
    ]);
    assert.deepEqual((await settings()).cursors.hubspot.contacts, { since: now + 1000, afterId: '2' });
    assert.equal((await settings()).cursors.hubspot.companies.since, now - 60_000, 'unchanged object keeps its cursor');
  });

  it('Dataverse: baseline, then changed ids and deleted ids (trigger delete), and the new delta link', async () => {
    let round = 0;
    const { dynamics, calls } = fakeDataverse((entity, link) => {
      if (!link) return cs(`${entity}-L1`, ['ignored-initial-row']);
      return entity === 'contact' ? cs(`${entity}-L2`, ['AAA', 'bbb'], ['CCC']) : cs(link);
    });
    const r1 = await trackDataverseChanges({ store: t.store, queue, tenantId, dynamics });
    round++;
    assert.deepEqual(r1.baselined, ['lead', 'contact', 'account', 'opportunity']);
    assert.equal((await jobs()).length, 0, 'the initial read is not queued');
    const r2 = await trackDataverseChanges({ store: t.store, queue, tenantId, dynamics });
    assert.deepEqual([r2.enqueued, r2.deleted], [2, 1]);
    assert.deepEqual(await jobs(), [
      { system: 'dynamics', object_type: 'contact', record_id: 'aaa', trigger: 'change-tracking' },
      { system: 'dynamics', object_type: 'contact', record_id: 'bbb', trigger: 'change-tracking' },
      { system: 'dynamics', object_type: 'contact', record_id: 'ccc', trigger: 'delete' },
    ]);
    assert.equal((await settings()).cursors.dataverse.contact, 'contact-L2');
    assert.equal(calls.filter((c) => c.entity === 'lead')[1].deltaLink, 'lead-L1');
    assert.equal(round, 1);
  });

  it('Dataverse: an expired delta link starts a new baseline instead of failing for ever', async () => {
    let expired = true;
    const { dynamics } = fakeDataverse((entity, link) => {
      if (link === `${entity}-old` && expired) throw new ConnectorError({ system: 'dataverse', operation: 'read changes', status: 400, serviceMessage: 'token expired' });
      return cs(`${entity}-new`);
    });
    for (const e of ['lead', 'contact', 'account', 'opportunity']) {
      const s = await settings();
      await t.store.tenants.update(tenantId, { settings: { ...s, cursors: { hubspot: {}, dataverse: { ...s.cursors?.dataverse, [e]: `${e}-old` } } } });
    }
    const r = await trackDataverseChanges({ store: t.store, queue, tenantId, dynamics, logger: silent });
    assert.equal(r.baselined.length, 4);
    assert.equal((await settings()).cursors.dataverse.lead, 'lead-new');
    expired = false;
  });

  it('Scheduler: polls connected tenants on start and on demand, per-side errors reported, stops cleanly', async () => {
    const { hubspot } = fakeHubSpot({});
    const failing = { async trackChanges(): Promise<ChangeSet> { throw new Error('Dataverse down'); } };
    const gets: string[] = [];
    const scheduler = new Scheduler({
      store: t.store, queue, logger: silent, tickMs: 20,
      contexts: { get: async (id: string) => (gets.push(id), { hubspot, dynamics: failing }) },
    });
    scheduler.start();
    await until(() => scheduler.lastResult(tenantId) !== undefined);
    const auto = scheduler.lastResult(tenantId)!;
    assert.deepEqual(auto.hubspot?.baselined, ['contacts', 'companies', 'deals']);
    assert.match(auto.errors.join(), /Dataverse down/);
    const before = gets.length;
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(gets.length, before, 'not polled again before the interval');
    const manual = await scheduler.pollNow(tenantId);
    assert.equal(manual.hubspot?.enqueued, 0);
    assert.equal(gets.length, before + 1);
    await scheduler.stop();
  });
});
