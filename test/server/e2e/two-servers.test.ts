import assert from 'node:assert/strict';
import { metric, setFaults, settled, startWorld, uniq, until, withDb, type World } from './harness.ts';

/**
 * Scale-out, end to end: two server processes on one PostgreSQL database and one pair of sandboxes. The
 * webhooks of both systems reach server A; server B only takes work from the shared queue. Both do work, and
 * every record is written exactly once in the other system — no job runs twice in two places.
 * (test/server/queue/postgres.test.ts proves the queue's claim alone; this is the whole product.)
 */

const N = 12;

describe('e2e: two server processes on one PostgreSQL share the work without double writes', function () {
  this.timeout(90_000);
  let w: World;

  before(async () => {
    // A runs one job at a time, so work keeps waiting in the queue for B.
    w = await startWorld('postgres', { serverEnv: { WORKER_CONCURRENCY: '1' }, others: [{ WORKER_CONCURRENCY: '2' }] });
  });
  after(async () => {
    await w?.close();
  });

  it(`${N} changes in each system: each written once on the other side, by both processes together`, async () => {
    const run = uniq();
    const [a, b] = [w.server, w.others[0]];
    const writes = async (url: string) => ({
      toHubSpot: await metric(url, 'sync_writes_total', { direction: 'toHubSpot' }),
      toDynamics: await metric(url, 'sync_writes_total', { direction: 'toDynamics' }),
    });
    const before = { a: await writes(a.url), b: await writes(b.url) };
    await setFaults(w.sandbox.hubspot.baseUrl, { latencyMs: 150 });

    const [leads, contacts] = await Promise.all([
      Promise.all(Array.from({ length: N }, async (_, i) => {
        const email = `lead${i}.${run}@scale.example`;
        return { id: await w.dv.create('leads', { firstname: 'Scale', lastname: `Lead ${i}`, emailaddress1: email }), email };
      })),
      Promise.all(Array.from({ length: N }, async (_, i) => {
        const email = `contact${i}.${run}@scale.example`;
        return { id: await w.hs.create('contacts', { firstname: 'Scale', lastname: `Contact ${i}`, email }), email };
      })),
    ]);

    await until('every record to reach the other side', async () => {
      const inHubSpot = (await w.hs.all('contacts', ['email', 'dynamics_id'])).filter((c) => c.properties.email?.startsWith('lead') && c.properties.email.endsWith(`.${run}@scale.example`) && c.properties.dynamics_id);
      if (inHubSpot.length < N) return `${inHubSpot.length} of ${N} leads in HubSpot`;
      const inDynamics = (await w.dv.list<{ emailaddress1: string }>(`leads?$select=emailaddress1&$filter=startswith(emailaddress1,'contact') and endswith(emailaddress1,'.${run}@scale.example')`));
      return inDynamics.length >= N || `${inDynamics.length} of ${N} contacts in Dynamics`;
    }, 40_000, 200);
    await setFaults(w.sandbox.hubspot.baseUrl, null);
    await settled(w);

    const all = await w.hs.all('contacts', ['email', 'dynamics_id']);
    for (const l of leads) {
      const found = all.filter((c) => c.properties.email === l.email);
      assert.equal(found.length, 1, `lead ${l.email}: one HubSpot contact`);
      assert.equal(found[0].properties.dynamics_id, l.id);
      assert.equal(w.recorder.writesTo('contacts', found[0].id), 1, `lead ${l.email}: written once in HubSpot`);
    }
    for (const c of contacts) {
      const rows = await w.dv.list<{ leadid: string; hds_hubspotid: string }>(`leads?$select=leadid,hds_hubspotid&$filter=emailaddress1 eq '${c.email}'`);
      assert.equal(rows.length, 1, `contact ${c.email}: one Dynamics lead`);
      assert.equal(rows[0].hds_hubspotid, c.id);
      assert.equal(w.counter.writesBy(w.appUserId, 'lead', rows[0].leadid), 1, `contact ${c.email}: written once in Dynamics`);
    }
    await withDb(w.storage, async ({ kysely }) => {
      const links = await kysely.selectFrom('links').select(['dynamics_id', 'hubspot_id']).where('tenant_id', '=', w.tenant.id).execute();
      assert.equal(links.length, 2 * N);
      assert.equal(new Set(links.map((l) => l.dynamics_id)).size, 2 * N);
      assert.equal(new Set(links.map((l) => l.hubspot_id)).size, 2 * N);
    });

    const after = { a: await writes(a.url), b: await writes(b.url) };
    const did = (k: 'a' | 'b') => after[k].toHubSpot - before[k].toHubSpot + after[k].toDynamics - before[k].toDynamics;
    assert.ok(did('a') > 0 && did('b') > 0, `both processes wrote (A ${did('a')}, B ${did('b')})`);
    assert.equal(after.a.toHubSpot - before.a.toHubSpot + after.b.toHubSpot - before.b.toHubSpot, N, 'N writes to HubSpot between them');
    assert.equal(after.a.toDynamics - before.a.toDynamics + after.b.toDynamics - before.b.toDynamics, N, 'N writes to Dynamics between them');
    assert.deepEqual((await w.admin.deadLetters()).deadLetters, []);
    assert.deepEqual(await w.syncErrors(), []);
  });
});
