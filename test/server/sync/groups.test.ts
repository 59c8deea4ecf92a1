import assert from 'node:assert/strict';
import type { Job } from '../../../server/src/store/repositories/jobs.ts';
import { DIALECTS, startSyncHarness, type SyncHarness } from './harness.ts';

/**
 * Records of one object synced as a group: the writes go out as batch calls, matching by
 * e-mail still never duplicates or steals a linked contact, and one bad record does not hold up the others.
 */
for (const dialect of DIALECTS) {
  describe(`sync worker: groups of records, both directions [${dialect}]`, function () {
    this.timeout(60_000);
    let h: SyncHarness;
    beforeEach(async () => {
      h = await startSyncHarness({}, {}, dialect);
    });
    afterEach(async () => h?.close());

    /** API calls made so far, by system and operation, from the metrics. */
    const calls = async (system: string, operation: string) => {
      const m = await h.metrics.apiCalls.get();
      return m.values.filter((v) => v.labels.system === system && v.labels.operation === operation).reduce((n, v) => n + v.value, 0);
    };

    const createContact = async (data: Record<string, unknown>) =>
      ((await h.dynamicsUser.create({ collection: 'contacts', data, returnRepresentation: true })) as { contactid: string }).contactid;

    /** Claims every due job of one kind and runs them through the worker as one group. */
    const runGroup = async (system: 'dynamics' | 'hubspot' = 'dynamics', objectType = 'contact') => {
      const jobs: Job[] = await h.store.jobs.claim({ workerId: 'test', limit: 100, leaseMs: 60_000, system, objectType });
      const results = await h.worker.processGroup(jobs);
      for (const [i, job] of jobs.entries()) {
        if (results[i] === undefined) await h.store.jobs.complete(job.id, 'test');
        else await h.store.jobs.fail(job.id, 'test', String(results[i]), { terminal: true });
      }
      return new Map(jobs.map((j, i) => [j.recordId, results[i]]));
    };

    it('writes 40 new contacts with one Dataverse read and one HubSpot batch upsert, matching an existing HubSpot contact by e-mail', async () => {
      const existing = await h.hubspotUser.crm.contacts.basicApi.create({ properties: { email: 'mary@example.com', firstname: 'M.' }, associations: [] });
      const ids: string[] = [];
      for (let i = 0; i < 39; i++) ids.push(await createContact({ firstname: `Person${i}`, lastname: 'Group', emailaddress1: `person${i}@example.com` }));
      const mary = await createContact({ firstname: 'Mary', lastname: 'Somerville', emailaddress1: 'Mary@Example.com' });
      for (const id of [...ids, mary]) await h.enqueue('dynamics', 'contact', id);

      const results = await runGroup();
      assert.deepEqual([...results.values()].filter((r) => r !== undefined), []);
      assert.equal(await calls('hubspot', 'batch upsert contacts'), 1, 'one batch upsert for the 40 records');
      assert.equal(await calls('hubspot', 'read contacts'), 0, 'no per-record read to match by e-mail');
      assert.equal(await calls('dataverse', 'query contact'), 1, 'one Dataverse read for the group');
      assert.equal(await calls('dataverse', '$batch'), 1, 'the HubSpot ids go back to Dynamics in one $batch');

      const found = await h.hubspotUser.crm.contacts.basicApi.getById('mary@example.com', ['firstname', 'dynamics_id'], undefined, undefined, false, 'email');
      assert.equal(found.id, existing.id, 'matched, not duplicated');
      assert.equal(found.properties.firstname, 'Mary');
      assert.equal(found.properties.dynamics_id, mary);
      const page = await h.hubspotUser.crm.contacts.searchApi.doSearch({ filterGroups: [{ filters: [{ propertyName: 'lastname', operator: 'EQ' as never, value: 'Group' }] }], limit: 100, properties: ['dynamics_id'], after: '0', sorts: [] });
      assert.equal(page.total, 39);
      const back = await h.dynamicsUser.retrieve<{ hds_hubspotid: string }>({ collection: 'contacts', key: ids[7], select: ['hds_hubspotid'] });
      assert.equal(back.hds_hubspotid, page.results.find((r) => r.properties.dynamics_id === ids[7])?.id);
    });

    it('never lets a second Dynamics record with the same e-mail take over a linked HubSpot contact, in one group or later', async () => {
      const first = await createContact({ firstname: 'Ann', lastname: 'One', emailaddress1: 'same@example.com' });
      const twin = await createContact({ firstname: 'Anne', lastname: 'Twin', emailaddress1: 'SAME@example.com' });
      await h.enqueue('dynamics', 'contact', first);
      await h.enqueue('dynamics', 'contact', twin);
      const results = await runGroup();
      assert.equal(results.get(first), undefined);
      assert.match(String(results.get(twin)), /already linked/);

      // Later, in another group: the e-mail is held by a linked contact, so HubSpot is read first and nothing is written.
      const later = await createContact({ firstname: 'Annie', lastname: 'Later', emailaddress1: 'same@example.com' });
      await h.enqueue('dynamics', 'contact', later);
      const upsertsBefore = await calls('hubspot', 'batch upsert contacts');
      assert.match(String((await runGroup()).get(later)), /already linked/);
      assert.equal(await calls('hubspot', 'batch upsert contacts'), upsertsBefore);

      const contact = await h.hubspotUser.crm.contacts.basicApi.getById('same@example.com', ['firstname', 'dynamics_id'], undefined, undefined, false, 'email');
      assert.equal(contact.properties.firstname, 'Ann');
      assert.equal(contact.properties.dynamics_id, first);
      const errors = (await h.store.errors.list(h.tenantId)).filter((e) => e.code === 'duplicate_in_dynamics');
      assert.deepEqual(errors.map((e) => e.recordId).sort(), [later, twin].sort());
    });

    it('keeps going when HubSpot refuses one record of the group, and reports that record', async () => {
      const a = await createContact({ firstname: 'Kept', lastname: 'A', emailaddress1: 'a@example.com' });
      const b = await createContact({ firstname: 'Gone', lastname: 'B', emailaddress1: 'b@example.com' });
      await h.enqueue('dynamics', 'contact', a);
      await h.enqueue('dynamics', 'contact', b);
      await runGroup();
      const gone = await h.hubspotUser.crm.contacts.basicApi.getById('b@example.com', [], undefined, undefined, false, 'email');
      await h.hubspotUser.crm.contacts.basicApi.archive(gone.id);

      await h.dynamicsUser.update({ collection: 'contacts', key: a, data: { jobtitle: 'Editor' } });
      await h.dynamicsUser.update({ collection: 'contacts', key: b, data: { jobtitle: 'Editor' } });
      await h.enqueue('dynamics', 'contact', a);
      await h.enqueue('dynamics', 'contact', b);
      const results = await runGroup();
      assert.equal(results.get(a), undefined);
      assert.match(String(results.get(b)), /HubSpot refused/);
      assert.equal(await calls('hubspot', 'batch update contacts'), 1);
      const kept = await h.hubspotUser.crm.contacts.basicApi.getById('a@example.com', ['jobtitle'], undefined, undefined, false, 'email');
      assert.equal(kept.properties.jobtitle, 'Editor');
      const errors = (await h.store.errors.list(h.tenantId)).filter((e) => e.code === 'hubspot_rejected');
      assert.deepEqual(errors.map((e) => e.recordId), [b]);
    });

    it('brings 30 HubSpot contacts into Dynamics with one batch read, one association read, one match query per table, one $batch and one link-property update', async () => {
      const existing = await createContact({ firstname: 'Already', lastname: 'There', emailaddress1: 'HS5@GroupCo.example' });
      const company = await h.hubspotUser.crm.companies.basicApi.create({ properties: { name: 'Group Co', domain: 'groupco.example' }, associations: [] });
      const ids: string[] = [];
      for (let i = 0; i < 30; i++) {
        const c = await h.hubspotUser.crm.contacts.basicApi.create({
          properties: { email: `hs${i}@groupco.example`, firstname: `Hs${i}`, lastname: 'Group' },
          associations: i < 10 ? [{ to: { id: company.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED' as never, associationTypeId: 279 }] }] : [],
        });
        ids.push(c.id);
        await h.enqueue('hubspot', 'contacts', c.id);
      }
      const results = await runGroup('hubspot', 'contacts');
      assert.deepEqual([...results.values()].filter((r) => r !== undefined), []);
      assert.equal(await calls('hubspot', 'batch read contacts'), 1);
      assert.equal(await calls('hubspot', 'batch read associations contacts→companies'), 1);
      assert.equal(await calls('hubspot', 'batch update contacts'), 1, 'the Dynamics ids go onto the 30 contacts in one call');
      assert.equal(await calls('dataverse', '$batch'), 2, 'one $batch for the 30 records, one for the company they point to (synced first)');
      assert.deepEqual([await calls('dataverse', 'query contact'), await calls('dataverse', 'query lead')], [1, 1], 'the 30 e-mails are matched with one query per table');

      const leads = await h.dynamicsUser.retrieveMultiple<{ leadid: string; hds_hubspotid: string; _parentaccountid_value: string | null }>({ collection: 'leads', filter: `lastname eq 'Group'`, select: ['leadid', 'hds_hubspotid', '_parentaccountid_value'] });
      assert.equal(leads.value.length, 29, 'hs5 matched the existing contact instead of becoming a lead');
      assert.equal(leads.value.filter((l) => l._parentaccountid_value).length, 9, 'the company association became the lead\'s account');
      const matched = await h.dynamicsUser.retrieve<{ hds_hubspotid: string; firstname: string; _parentcustomerid_value: string | null }>({ collection: 'contacts', key: existing, select: ['hds_hubspotid', 'firstname', '_parentcustomerid_value'] });
      assert.equal(matched.hds_hubspotid, ids[5]);
      assert.equal(matched.firstname, 'Hs5');
      assert.ok(matched._parentcustomerid_value, 'and got the company as its account');
      const back = await h.hubspotUser.crm.contacts.basicApi.getById(ids[3], ['dynamics_id', 'dynamics_entity']);
      assert.equal(back.properties.dynamics_entity, 'lead');
      assert.equal(back.properties.dynamics_id, leads.value.find((l) => l.hds_hubspotid === ids[3])?.leadid);
    });
  });
}
