import assert from 'node:assert/strict';
import { metric, setFaults, settled, startWorld, uniq, until, withDb, type Dialect, type World } from './harness.ts';

/**
 * A server process killed (SIGKILL: no shutdown, no lease released) in the middle of a burst loses nothing:
 * restarted on the same storage, it takes over the jobs that were pending and, once their leases run out, the
 * ones that were running, and every record reaches HubSpot — once, with no duplicate. The sandboxes run in
 * their own process and stay up throughout, as the real services would.
 */

const N = 50;
/** Short lease (server env JOB_LEASE_SECONDS), so the killed process's running jobs come back quickly. */
const LEASE_SECONDS = 3;

for (const dialect of ['sqlite', 'postgres'] as Dialect[]) {
  describe(`e2e: a killed and restarted server loses nothing [${dialect}]`, function () {
    this.timeout(90_000);
    let w: World;

    before(async () => {
      // Sandbox rate limits off: the burst is not about HubSpot's 10-second window (the retries test is).
      w = await startWorld(dialect, { sandboxFlags: ['--no-rate-limits'], serverEnv: { JOB_LEASE_SECONDS: String(LEASE_SECONDS), WORKER_CONCURRENCY: '4' } });
    });
    after(async () => {
      await w?.close();
    });

    it(`${N} Dynamics changes accepted, server SIGKILLed mid-way, restarted: all ${N} reach HubSpot exactly once`, async () => {
      const run = uniq();
      // HubSpot latency keeps jobs in flight (the server groups Dynamics jobs into batch writes), so the kill
      // lands with some records written, some being written and some waiting.
      await setFaults(w.sandbox.hubspot.baseUrl, { latencyMs: 400 });
      const leads = await Promise.all(Array.from({ length: N }, async (_, i) => {
        const email = `burst${i}.${run}@restart.example`;
        return { id: await w.dv.create('leads', { firstname: 'Burst', lastname: `No ${i}`, emailaddress1: email, companyname: 'Restart Ltd' }), email };
      }));
      const ids = new Set(leads.map((l) => l.id));

      // Every webhook accepted (durably: 2xx only after the inbox + job insert), a few records written, work left.
      let atKill = { pending: 0, active: 0 };
      await until('the burst to be accepted and partly synced', async () => {
        const accepted = await withDb(w.storage, async ({ kysely }) =>
          (await kysely.selectFrom('inbox').select('payload').where('tenant_id', '=', w.tenant.id).where('source', '=', 'dynamics').execute())
            .filter((e) => [...ids].some((id) => e.payload.includes(id))).length);
        const { counts } = await w.admin.view();
        atKill = { pending: counts.pending, active: counts.active };
        return accepted >= N && w.recorder.totalWrites('contacts') > 0 && counts.active > 0
          || `${accepted} accepted, ${w.recorder.totalWrites('contacts')} written, ${JSON.stringify(counts)}`;
      }, 30_000, 25);

      w.server.child.kill('SIGKILL');
      assert.equal((await w.server.exited).signal, 'SIGKILL');
      // What the dead process left behind, read from the database itself.
      const left = await withDb(w.storage, ({ kysely }) =>
        kysely.selectFrom('jobs').select(['record_id', 'state', 'lease_until']).where('tenant_id', '=', w.tenant.id).where('state', 'in', ['pending', 'active']).execute());
      const runningAtKill = new Set(left.filter((j) => j.state === 'active').map((j) => j.record_id));
      assert.ok(runningAtKill.size > 0, `jobs were running at the kill, under leases nobody will renew (${JSON.stringify(atKill)})`);
      const writtenBeforeKill = w.recorder.totalWrites('contacts');
      assert.ok(writtenBeforeKill < N, `the kill came before the end (${writtenBeforeKill} of ${N} written)`);

      await w.restart();
      await until(`all ${N} leads in HubSpot`, async () => {
        const contacts = (await w.hs.all('contacts', ['email', 'dynamics_id'])).filter((c) => c.properties.email?.endsWith(`.${run}@restart.example`));
        return contacts.length >= N || `${contacts.length} of ${N}`;
      }, 45_000, 250);
      await setFaults(w.sandbox.hubspot.baseUrl, null);
      await settled(w, 45_000);

      const contacts = (await w.hs.all('contacts', ['email', 'dynamics_id'])).filter((c) => c.properties.email?.endsWith(`.${run}@restart.example`));
      assert.equal(contacts.length, N, 'one HubSpot contact per lead: none missing, none duplicated');
      const byEmail = new Map(contacts.map((c) => [c.properties.email, c]));
      let rewritten = 0;
      for (const l of leads) {
        const c = byEmail.get(l.email);
        assert.ok(c, `lead ${l.email} reached HubSpot`);
        assert.equal(c.properties.dynamics_id, l.id);
        // A job killed after its HubSpot write but before it was marked done runs again; the upsert is idempotent
        // (same record, same values), so it may write the same values a second time — only such jobs may.
        const writes = w.recorder.writesTo('contacts', c.id);
        if (writes === 2) {
          assert.ok(runningAtKill.has(l.id), `lead ${l.email} written twice but its job was not running at the kill`);
          rewritten++;
        } else assert.equal(writes, 1, `lead ${l.email}: written once in HubSpot`);
      }
      assert.ok(rewritten <= runningAtKill.size);
      assert.ok(await metric(w.server.url, 'sync_writes_total', { direction: 'toHubSpot' }) >= N - writtenBeforeKill, 'the restarted process did the rest');

      await withDb(w.storage, async ({ kysely }) => {
        const links = await kysely.selectFrom('links').select(['dynamics_id', 'hubspot_id']).where('tenant_id', '=', w.tenant.id).execute();
        const ours = links.filter((l) => ids.has(l.dynamics_id));
        assert.equal(ours.length, N, 'one link per lead');
        assert.equal(new Set(ours.map((l) => l.hubspot_id)).size, N);
        const jobs = await kysely.selectFrom('jobs').select(['state']).where('tenant_id', '=', w.tenant.id).execute();
        assert.deepEqual(jobs, [], 'no job left: none pending, running or dead');
      });
      assert.deepEqual(await w.syncErrors(), []);
    });
  });
}
