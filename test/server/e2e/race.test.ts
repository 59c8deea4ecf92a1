import assert from 'node:assert/strict';
import { metric, setFaults, settled, startWorld, uniq, until, withDb, type Dialect, type World } from './harness.ts';

/**
 * A webhook and a safety-net poll racing for the same record, through the running server: a person's change
 * reaches the server by webhook while an admin-triggered poll (HubSpot search + Dataverse change tracking)
 * picks up the same records. Both enqueue the same key; the result must be exactly one write per record in
 * the other system (counted where it lands), one counterpart per record and one link.
 */

const K = 4;

for (const dialect of ['sqlite', 'postgres'] as Dialect[]) {
  describe(`e2e: webhook and poll race for the same record [${dialect}]`, function () {
    this.timeout(60_000);
    let w: World;
    const run = uniq();
    const leads: Array<{ id: string; email: string }> = [];
    const contacts: Array<{ id: string; email: string }> = [];
    /** HubSpot contact of each lead, Dynamics lead of each HubSpot contact (filled by the first test). */
    const counterpart = new Map<string, string>();

    before(async () => {
      w = await startWorld(dialect);
    });
    after(async () => {
      await w?.close();
    });

    it('new records: webhook + poll for each give one create on the other side, one link, no duplicate', async () => {
      // Latency keeps jobs running while the other trigger for the same record arrives.
      await setFaults(w.sandbox.hubspot.baseUrl, { latencyMs: 60 });
      await setFaults(w.sandbox.dataverse.orgUrl, { latencyMs: 30 });
      const before = {
        toHubSpot: await metric(w.server.url, 'sync_writes_total', { direction: 'toHubSpot' }),
        toDynamics: await metric(w.server.url, 'sync_writes_total', { direction: 'toDynamics' }),
      };

      await Promise.all([
        ...Array.from({ length: K }, async (_, i) => {
          const email = `lead${i}.${run}@race.example`;
          leads.push({ id: await w.dv.create('leads', { firstname: 'Lead', lastname: `Race ${i}`, emailaddress1: email, jobtitle: 'Buyer' }), email });
        }),
        ...Array.from({ length: K }, async (_, i) => {
          const email = `contact${i}.${run}@race.example`;
          contacts.push({ id: await w.hs.create('contacts', { firstname: 'Contact', lastname: `Race ${i}`, email, jobtitle: 'Seller' }), email });
        }),
      ]);
      // The webhooks are on their way (Dataverse's async steps, HubSpot's 50 ms batches): poll right now.
      const poll = await w.admin.poll();
      assert.deepEqual(poll.errors, []);
      assert.ok(poll.dataverse!.enqueued >= K, `change tracking found the ${K} new leads (${JSON.stringify(poll.dataverse)})`);
      assert.ok(poll.hubspot!.enqueued >= K, `the HubSpot poll found the ${K} new contacts (${JSON.stringify(poll.hubspot)})`);

      await until('every record to reach the other side', async () => {
        for (const l of leads) if (!(await w.hs.byEmail(l.email))?.properties.dynamics_id) return `lead ${l.email} not in HubSpot yet`;
        for (const c of contacts) if (!(await w.dv.list(`leads?$select=leadid&$filter=emailaddress1 eq '${c.email}'`)).length) return `contact ${c.email} not in Dynamics yet`;
        return true;
      }, 30_000, 100);
      // And once more after the sync: every record is found again (HubSpot's 2-minute overlap, the new delta).
      await w.admin.poll();
      await setFaults(w.sandbox.hubspot.baseUrl, null);
      await setFaults(w.sandbox.dataverse.orgUrl, null);
      await settled(w);

      // Both triggers really happened for each record: the webhook is in the inbox, the poll enqueued it.
      await withDb(w.storage, async ({ kysely }) => {
        const inbox = await kysely.selectFrom('inbox').select(['source', 'payload']).where('tenant_id', '=', w.tenant.id).execute();
        for (const l of leads) assert.ok(inbox.some((e) => e.source === 'dynamics' && e.payload.includes(l.id)), `webhook of lead ${l.id} accepted`);
        for (const c of contacts) assert.ok(inbox.some((e) => e.source === 'hubspot' && e.payload.includes(`"${c.id}"`)), `webhook of contact ${c.id} accepted`);
      });

      const leadOf = new Map<string, { leadid: string; hds_hubspotid: string }[]>();
      for (const l of leads) counterpart.set(l.id, (await w.hs.byEmail(l.email))?.id ?? '');
      for (const c of contacts) {
        const rows = await w.dv.list<{ leadid: string; hds_hubspotid: string }>(`leads?$select=leadid,hds_hubspotid&$filter=emailaddress1 eq '${c.email}'`);
        leadOf.set(c.id, rows);
        counterpart.set(c.id, rows[0]?.leadid ?? '');
      }

      for (const l of leads) {
        const hs = (await w.hs.byEmail(l.email))!;
        assert.equal(hs.properties.dynamics_id, l.id);
        assert.equal(w.recorder.writesTo('contacts', hs.id), 1, `lead ${l.email}: exactly one write in HubSpot (${JSON.stringify(w.recorder.writesOf('contacts', hs.id))})`);
        // The server writes the HubSpot id back into the lead's key column once (a write in the source system).
        assert.equal(w.counter.writesBy(w.appUserId, 'lead', l.id), 1, `lead ${l.email}: one key write back in Dynamics`);
      }
      let catchUps = 0;
      for (const c of contacts) {
        const rows = leadOf.get(c.id)!;
        assert.equal(rows.length, 1, `contact ${c.email}: one lead in Dynamics`);
        assert.equal(rows[0].hds_hubspotid, c.id);
        assert.equal(w.counter.writesBy(w.appUserId, 'lead', rows[0].leadid), 1, `contact ${c.email}: exactly one write in Dynamics`);
        // Back in HubSpot, the source: the link properties once. Dynamics gives a new lead the status "New";
        // our own write reaches the server again only through change tracking (its webhook is dropped as
        // ours), and then that default flows to HubSpot's lead status: at most that one extra write.
        const back = w.recorder.writesOf('contacts', c.id);
        assert.equal(back.filter((p) => p.includes('dynamics_id')).length, 1, `contact ${c.email}: link written once (${JSON.stringify(back)})`);
        const others = back.filter((p) => !p.includes('dynamics_id'));
        assert.ok(others.length <= 1 && others.every((p) => p.join() === 'hs_lead_status'), `contact ${c.email}: nothing else written back (${JSON.stringify(back)})`);
        catchUps += others.length;
      }
      // HubSpot has one contact per email: nothing duplicated on either side.
      const all = await w.hs.all('contacts', ['email']);
      for (const e of [...leads, ...contacts].map((r) => r.email)) assert.equal(all.filter((r) => r.properties.email === e).length, 1, `one HubSpot contact ${e}`);

      assert.equal(await metric(w.server.url, 'sync_writes_total', { direction: 'toHubSpot' }), before.toHubSpot + K + catchUps);
      assert.equal(await metric(w.server.url, 'sync_writes_total', { direction: 'toDynamics' }), before.toDynamics + K);
      await withDb(w.storage, async ({ kysely }) => {
        const links = await kysely.selectFrom('links').select(['dynamics_id', 'hubspot_id']).where('tenant_id', '=', w.tenant.id).execute();
        assert.equal(links.length, 2 * K, 'one link per record pair');
        assert.equal(new Set(links.map((l) => l.dynamics_id)).size, 2 * K);
        assert.equal(new Set(links.map((l) => l.hubspot_id)).size, 2 * K);
      });
      assert.deepEqual(await w.syncErrors(), []);
      assert.deepEqual((await w.admin.deadLetters()).deadLetters, []);
    });

    it('an edit arriving by webhook while the poll finds it gives one update on the other side', async () => {
      assert.equal(counterpart.size, 2 * K, 'the first test linked every record');
      const hsBefore = new Map([...counterpart.values(), ...contacts.map((c) => c.id)].map((id) => [id, w.recorder.writesTo('contacts', id)]));
      const dvBefore = new Map([...leads.map((l) => l.id), ...contacts.map((c) => counterpart.get(c.id)!)].map((id) => [id, w.counter.writesBy(w.appUserId, 'lead', id)]));
      await setFaults(w.sandbox.hubspot.baseUrl, { latencyMs: 60 });
      await setFaults(w.sandbox.dataverse.orgUrl, { latencyMs: 30 });

      await Promise.all([
        ...leads.map((l) => w.dv.update('leads', l.id, { jobtitle: `Head of ${run}` })),
        ...contacts.map((c) => w.hs.update('contacts', c.id, { jobtitle: `Chief of ${run}` })),
      ]);
      const poll = await w.admin.poll();
      assert.ok(poll.dataverse!.enqueued >= K && poll.hubspot!.enqueued >= K, `the poll found the edits (${JSON.stringify(poll)})`);

      await until('the edits to reach the other side', async () => {
        for (const l of leads) if ((await w.hs.byEmail(l.email, ['jobtitle']))?.properties.jobtitle !== `Head of ${run}`) return `lead ${l.email}`;
        for (const c of contacts) {
          const row = await w.dv.get<{ jobtitle: string }>(`leads(${counterpart.get(c.id)})?$select=jobtitle`);
          if (row?.jobtitle !== `Chief of ${run}`) return `contact ${c.email}`;
        }
        return true;
      }, 30_000, 100);
      await setFaults(w.sandbox.hubspot.baseUrl, null);
      await setFaults(w.sandbox.dataverse.orgUrl, null);
      await settled(w);

      for (const l of leads) {
        const hsId = counterpart.get(l.id)!;
        assert.equal(w.recorder.writesTo('contacts', hsId) - hsBefore.get(hsId)!, 1, `lead ${l.email}: one update in HubSpot`);
        assert.equal(w.counter.writesBy(w.appUserId, 'lead', l.id) - dvBefore.get(l.id)!, 0, `lead ${l.email}: nothing written back to Dynamics`);
      }
      for (const c of contacts) {
        const leadId = counterpart.get(c.id)!;
        assert.equal(w.counter.writesBy(w.appUserId, 'lead', leadId) - dvBefore.get(leadId)!, 1, `contact ${c.email}: one update in Dynamics`);
        assert.equal(w.recorder.writesTo('contacts', c.id) - hsBefore.get(c.id)!, 0, `contact ${c.email}: nothing written back to HubSpot`);
      }
    });
  });
}
