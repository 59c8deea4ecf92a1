import assert from 'node:assert/strict';
import { metric, setFaults, settled, startWorld, uniq, until, type Dialect, type World } from './harness.ts';

/**
 * Retries through the services' own refusals, through the running server: HubSpot answering 500, 502 and
 * 429 (its TEN_SECONDLY_ROLLING policy body, no Retry-After), Dataverse answering 429 with Retry-After
 * (service protection) and 502, while changes flow both ways. Every change still arrives exactly once, the
 * server's /metrics shows the refused calls it retried, and a failure retrying cannot fix (a 400 for a value
 * Dynamics refuses) becomes a sync error in the admin API at once instead of being retried.
 *
 * The refusals are switched on in windows that are certain to catch the server's calls: each window opens
 * before the change that makes the server call that system, and closes as soon as the server has received
 * its refusal (HubSpot: the moment it passes the write recorder; Dataverse: seen in the server's /metrics).
 * So each kind is injected at least once, and no call is refused more often than its in-process attempts allow.
 */

const K = 4;
const SERVICE_PROTECTION_DEFAULT = { requestsPerWindow: 6000, windowMs: 300_000, enabled: true };

const apiCalls = (w: World, system: string, status: number) => metric(w.server.url, 'sync_api_calls_total', { system, status: String(status) });

async function serviceProtection(w: World, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${w.sandbox.dataverse.orgUrl}/__sandbox/service-protection`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200, await res.text());
}

/** Sets HubSpot's first faults, then each next set once the server has received the status the current set produces. */
function hubspotWindows(w: World, steps: Array<{ faults: Record<string, number>; until: number }>): Promise<void> {
  let i = 0;
  return new Promise((resolve, reject) => {
    w.recorder.beforeAnswer = async (status) => {
      if (i >= steps.length || status !== steps[i].until) return;
      i++;
      try {
        await setFaults(w.sandbox.hubspot.baseUrl, i < steps.length ? steps[i].faults : null);
      } catch (err) {
        reject(err as Error);
      }
      if (i === steps.length) {
        w.recorder.beforeAnswer = undefined;
        resolve();
      }
    };
    setFaults(w.sandbox.hubspot.baseUrl, steps[0].faults).catch(reject);
  });
}

for (const dialect of ['sqlite', 'postgres'] as Dialect[]) {
  describe(`e2e: retries through 429/5xx, permanent failures as sync errors [${dialect}]`, function () {
    this.timeout(90_000);
    let w: World;
    const run = uniq();

    before(async () => {
      w = await startWorld(dialect);
    });
    after(async () => {
      await w?.close();
    });

    it('HubSpot 500/502/429 and Dataverse 429 (Retry-After)/502: both directions arrive exactly once, /metrics shows the retried calls', async () => {
      const before = {
        dv429: await apiCalls(w, 'dataverse', 429), dv502: await apiCalls(w, 'dataverse', 502),
        hs429: await apiCalls(w, 'hubspot', 429), hs500: await apiCalls(w, 'hubspot', 500), hs502: await apiCalls(w, 'hubspot', 502),
        toHubSpot: await metric(w.server.url, 'sync_writes_total', { direction: 'toHubSpot' }),
        toDynamics: await metric(w.server.url, 'sync_writes_total', { direction: 'toDynamics' }),
      };

      // 1. Dynamics → HubSpot under HubSpot refusals: 500, then 502, then 429 (whose policy means a 10-second
      // wait), each switched by the recorder before the server sees the answer. The person creating the leads
      // only talks to Dataverse meanwhile.
      const windows = hubspotWindows(w, [{ faults: { rate500: 1 }, until: 500 }, { faults: { rate502: 1 }, until: 502 }, { faults: { rate429: 1 }, until: 429 }]);
      const leads = await Promise.all(Array.from({ length: K }, async (_, i) => {
        const email = `dv${i}.${run}@retry.example`;
        return { id: await w.dv.create('leads', { firstname: 'Retry', lastname: `Lead ${i}`, emailaddress1: email, jobtitle: 'Persistent' }), email };
      }));
      await Promise.race([windows, until('HubSpot 500, 502 and 429 to reach the server', () => false, 20_000)]).catch((err: Error) => {
        throw new Error(`${err.message}; answers seen: ${JSON.stringify([...w.recorder.statuses])}\n${w.server.tail()}`);
      });

      // 2. While those calls wait out HubSpot's window: HubSpot → Dynamics under Dataverse refusals. Service
      // protection counts per user: one request per 1.5 s for the server's application user makes its next
      // call a 429 with Retry-After; the person creating the HubSpot contacts never talks to Dataverse.
      await serviceProtection(w, { requestsPerWindow: 1, windowMs: 1500, enabled: true });
      const contacts = await Promise.all(Array.from({ length: K }, async (_, i) => {
        const email = `hs${i}.${run}@retry.example`;
        return { id: await w.hs.create('contacts', { firstname: 'Retry', lastname: `Contact ${i}`, email, jobtitle: 'Patient' }), email };
      }));
      await until('the server to receive a Dataverse 429', async () => (await apiCalls(w, 'dataverse', 429)) > before.dv429, 20_000, 20);
      // The refused call waits its Retry-After (≥ 1 s); its next attempt meets a 502.
      await setFaults(w.sandbox.dataverse.orgUrl, { rate502: 1 });
      await serviceProtection(w, SERVICE_PROTECTION_DEFAULT);
      await until('the server to receive a Dataverse 502', async () => (await apiCalls(w, 'dataverse', 502)) > before.dv502, 20_000, 10);
      await setFaults(w.sandbox.dataverse.orgUrl, null);

      await until('both directions to arrive', async () => {
        for (const l of leads) if (!(await w.hs.byEmail(l.email))?.properties.dynamics_id) return `lead ${l.email}`;
        for (const c of contacts) if (!(await w.dv.list(`leads?$select=leadid&$filter=emailaddress1 eq '${c.email}'`)).length) return `contact ${c.email}`;
        return true;
      }, 40_000, 200);
      await settled(w);

      for (const l of leads) {
        const hs = (await w.hs.byEmail(l.email))!;
        assert.equal(hs.properties.dynamics_id, l.id);
        assert.equal(w.recorder.writesTo('contacts', hs.id), 1, `lead ${l.email}: exactly one write in HubSpot`);
      }
      for (const c of contacts) {
        const rows = await w.dv.list<{ leadid: string; hds_hubspotid: string }>(`leads?$select=leadid,hds_hubspotid&$filter=emailaddress1 eq '${c.email}'`);
        assert.equal(rows.length, 1, `contact ${c.email}: one lead in Dynamics`);
        assert.equal(rows[0].hds_hubspotid, c.id);
        assert.equal(w.counter.writesBy(w.appUserId, 'lead', rows[0].leadid), 1, `contact ${c.email}: exactly one write in Dynamics`);
      }
      const all = await w.hs.all('contacts', ['email']);
      for (const e of [...leads, ...contacts].map((r) => r.email)) assert.equal(all.filter((r) => r.properties.email === e).length, 1, `one HubSpot contact ${e}`);
      assert.equal(await metric(w.server.url, 'sync_writes_total', { direction: 'toHubSpot' }), before.toHubSpot + K);
      assert.equal(await metric(w.server.url, 'sync_writes_total', { direction: 'toDynamics' }), before.toDynamics + K);

      // What /metrics shows: every refusal the server received, by system and status. For HubSpot the recorder
      // saw each answer the server got, so the counts must match it exactly.
      for (const status of [429, 500, 502]) {
        const seen = await apiCalls(w, 'hubspot', status);
        assert.ok(seen > 0, `HubSpot ${status} in /metrics`);
        assert.equal(seen, w.recorder.statuses.get(status) ?? 0, `HubSpot ${status}: /metrics counts what the server received`);
      }
      assert.ok((await apiCalls(w, 'dataverse', 429)) > before.dv429, 'Dataverse 429 in /metrics');
      assert.ok((await apiCalls(w, 'dataverse', 502)) > before.dv502, 'Dataverse 502 in /metrics');
      assert.deepEqual((await w.admin.deadLetters()).deadLetters, []);
      assert.deepEqual(await w.syncErrors(), []);
    });

    it('a value Dynamics refuses (400) becomes a sync error in the admin API and a dead letter after one attempt, not endless retries', async () => {
      const retries = await metric(w.server.url, 'sync_retries_total');
      const email = `toolong.${run}@retry.example`;
      // jobtitle holds 100 characters in Dynamics; HubSpot takes any length.
      const id = await w.hs.create('contacts', { firstname: 'Too', lastname: 'Long', email, jobtitle: 'Senior '.repeat(25).trim() });

      await until('the job to be dead-lettered', async () => (await w.admin.deadLetters()).deadLetters.some((d) => d.recordId === id), 20_000, 100);
      await settled(w);
      // HubSpot may deliver the creation's events in more than one request; an event that arrives while the
      // first job runs queues a second job. Each is tried once and dead-lettered.
      const dead = (await w.admin.deadLetters()).deadLetters.filter((d) => d.recordId === id);
      assert.ok(dead.length >= 1);
      for (const d of dead) {
        assert.equal(d.system, 'hubspot');
        assert.equal(d.attempts, 1, 'dead-lettered at its first attempt');
        assert.match(d.lastError ?? '', /HTTP 400/);
      }
      // Nothing is waiting to try again (the queue is empty: `settled`), and no retry was ever scheduled.
      assert.equal(await metric(w.server.url, 'sync_retries_total'), retries, 'no retry scheduled');

      const errors = (await w.admin.errors()).errors.filter((e) => e.record.recordId === id);
      assert.equal(errors.length, 1, `one sync error on the HubSpot contact (${JSON.stringify((await w.admin.errors()).errors)})`);
      assert.deepEqual(errors[0].record, { system: 'hubspot', objectType: 'contacts', recordId: id });
      assert.match(`${errors[0].what} ${errors[0].why}`, /jobtitle/i, 'says which field');
      assert.ok(errors[0].howToFix.length > 0, 'says how to fix it');
      assert.equal((await w.dv.list(`leads?$select=leadid&$filter=emailaddress1 eq '${email}'`)).length, 0, 'nothing written in Dynamics');

      // The user fixes the value: the next change syncs and the error goes away.
      await w.hs.update('contacts', id, { jobtitle: 'Senior Buyer' });
      await until('the fixed contact to arrive', async () => (await w.dv.list(`leads?$select=leadid&$filter=emailaddress1 eq '${email}'`)).length === 1, 20_000, 100);
      await settled(w);
      assert.deepEqual((await w.admin.errors()).errors.filter((e) => e.record.recordId === id), [], 'the sync error is cleared');
    });
  });
}
