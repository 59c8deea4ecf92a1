import assert from 'node:assert/strict';
import { DIALECTS, startSyncHarness, type SyncHarness } from './harness.ts';

for (const dialect of DIALECTS) {
  describe(`sync worker (through the sandboxes) [${dialect}]`, function () {
    this.timeout(60_000);
    let h: SyncHarness;
    beforeEach(async () => {
      h = await startSyncHarness({}, {}, dialect);
    });
    afterEach(async () => h?.close());

    it('creates a HubSpot contact for a new Dynamics contact, links both ways, and writes nothing on a repeat', async () => {
      const created = (await h.dynamicsUser.create({
        collection: 'contacts', data: { firstname: 'Ada', lastname: 'Lovelace', emailaddress1: 'Ada@Example.com', jobtitle: 'Analyst' }, returnRepresentation: true,
      })) as { contactid: string };
      const id = created.contactid;
      await h.enqueue('dynamics', 'contact', id);
      const first = await h.drain();
      assert.deepEqual(first.failed.map((f) => f.error.message), []);

      const found = await h.hubspotUser.crm.contacts.basicApi.getById('ada@example.com', ['firstname', 'lastname', 'jobtitle', 'dynamics_id', 'dynamics_entity'], undefined, undefined, false, 'email');
      assert.equal(found.properties.firstname, 'Ada');
      assert.equal(found.properties.jobtitle, 'Analyst');
      assert.equal(found.properties.dynamics_id, id);
      assert.equal(found.properties.dynamics_entity, 'contact');
      const back = await h.dynamicsUser.retrieve<{ hds_hubspotid: string }>({ collection: 'contacts', key: id, select: ['hds_hubspotid'] });
      assert.equal(back.hds_hubspotid, found.id);

      const writesAfterFirst = await h.writes('toHubSpot');
      await h.enqueue('dynamics', 'contact', id);
      await h.enqueue('hubspot', 'contacts', found.id);
      const again = await h.drain();
      assert.deepEqual(again.failed, []);
      assert.equal(await h.writes('toHubSpot'), writesAfterFirst, 'a repeated job writes nothing to HubSpot');
      assert.equal(await h.writes('toDynamics'), 0, 'and the echo from HubSpot writes nothing to Dynamics');
    });

    it('creates a Dynamics lead for a new HubSpot contact (default policy) and syncs an update back', async () => {
      const contact = await h.hubspotUser.crm.contacts.basicApi.create({ properties: { email: 'grace@example.com', firstname: 'Grace', lastname: 'Hopper' }, associations: [] });
      await h.enqueue('hubspot', 'contacts', contact.id);
      assert.deepEqual((await h.drain()).failed, []);
      const leads = await h.dynamicsUser.retrieveMultiple<{ leadid: string; firstname: string; hds_hubspotid: string }>({ collection: 'leads', filter: `emailaddress1 eq 'grace@example.com'`, select: ['leadid', 'firstname', 'hds_hubspotid'] });
      assert.equal(leads.value.length, 1);
      assert.equal(leads.value[0].hds_hubspotid, contact.id);

      await h.dynamicsUser.update({ collection: 'leads', key: leads.value[0].leadid, data: { jobtitle: 'Rear Admiral' } });
      await h.enqueue('dynamics', 'lead', leads.value[0].leadid);
      assert.deepEqual((await h.drain()).failed, []);
      const updated = await h.hubspotUser.crm.contacts.basicApi.getById(contact.id, ['jobtitle', 'dynamics_entity']);
      assert.equal(updated.properties.jobtitle, 'Rear Admiral');
      assert.equal(updated.properties.dynamics_entity, 'lead');
    });
  });

  describe(`sync worker: companies, deals, owners, associations [${dialect}]`, function () {
    this.timeout(60_000);
    let h: SyncHarness;
    beforeEach(async () => {
      h = await startSyncHarness({ newContactPolicy: 'contact' }, {}, dialect);
    });
    afterEach(async () => h?.close());

    it('matches an account to an existing company by domain, maps the industry by label and the owner by email', async () => {
      const { hubspot } = h.sb;
      await fetch(`${hubspot.baseUrl}/__sandbox/portals/${hubspot.portal.portalId}/owners`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ firstName: 'Dana', lastName: 'Sales', email: 'dana.sales@sandbox.example.com' }),
      });
      const company = await h.hubspotUser.crm.companies.basicApi.create({ properties: { name: 'Acme Inc', domain: 'acme.com' }, associations: [] });
      const account = (await h.dynamicsUser.create({
        collection: 'accounts', data: { name: 'ACME', websiteurl: 'https://www.Acme.com/about', industrycode: 1 }, returnRepresentation: true,
      })) as { accountid: string };
      await h.enqueue('dynamics', 'account', account.accountid);
      assert.deepEqual((await h.drain()).failed, []);

      const all = await h.hubspotUser.crm.companies.basicApi.getPage(100, undefined, ['name', 'industry', 'hubspot_owner_id', 'dynamics_id']);
      assert.equal(all.results.length, 1, 'matched, not duplicated');
      const synced = all.results[0];
      assert.equal(synced.id, company.id);
      assert.equal(synced.properties.industry, 'ACCOUNTING');
      assert.equal(synced.properties.dynamics_id, account.accountid);
      const owners = await h.hubspotUser.crm.owners.ownersApi.getPage('dana.sales@sandbox.example.com');
      assert.equal(synced.properties.hubspot_owner_id, owners.results[0].id);
    });

    it('syncs an opportunity whose account is not linked yet: the account first, then the deal with its association', async () => {
      const account = (await h.dynamicsUser.create({ collection: 'accounts', data: { name: 'Globex', websiteurl: 'globex.example' }, returnRepresentation: true })) as { accountid: string };
      const opportunity = (await h.dynamicsUser.create({
        collection: 'opportunities', data: { name: 'Globex renewal', estimatedvalue: 1200.5, 'parentaccountid@odata.bind': `/accounts(${account.accountid})` }, returnRepresentation: true,
      })) as { opportunityid: string };
      await h.enqueue('dynamics', 'opportunity', opportunity.opportunityid);
      assert.deepEqual((await h.drain()).failed, []);

      const deals = await h.hubspotUser.crm.deals.basicApi.getPage(10, undefined, ['dealname', 'amount'], undefined, ['companies']);
      assert.equal(deals.results.length, 1);
      assert.equal(deals.results[0].properties.amount, '1200.5');
      const companies = await h.hubspotUser.crm.companies.basicApi.getPage(10, undefined, ['name', 'domain']);
      assert.equal(companies.results.length, 1);
      assert.equal(companies.results[0].properties.domain, 'globex.example');
      const assoc = await h.hubspotUser.crm.associations.v4.basicApi.getPage('deals', deals.results[0].id, 'companies');
      assert.deepEqual(assoc.results.map((a) => String(a.toObjectId)), [companies.results[0].id]);
    });

    it('turns a HubSpot deal with an unsynced company and contact into an opportunity with its lookups', async () => {
      const company = await h.hubspotUser.crm.companies.basicApi.create({ properties: { name: 'Initech', domain: 'initech.example' }, associations: [] });
      const contact = await h.hubspotUser.crm.contacts.basicApi.create({ properties: { email: 'peter@initech.example', firstname: 'Peter', lastname: 'Gibbons' }, associations: [] });
      const deal = await h.hubspotUser.crm.deals.basicApi.create({ properties: { dealname: 'TPS reports', amount: '99' }, associations: [] });
      await h.hubspotUser.crm.associations.v4.basicApi.createDefault('deals', deal.id, 'companies', company.id);
      await h.hubspotUser.crm.associations.v4.basicApi.createDefault('deals', deal.id, 'contacts', contact.id);
      await h.enqueue('hubspot', 'deals', deal.id);
      assert.deepEqual((await h.drain()).failed, []);

      const opps = await h.dynamicsUser.retrieveMultiple<Record<string, unknown>>({ collection: 'opportunities', select: ['name', '_parentaccountid_value', '_parentcontactid_value', 'hds_hubspotid'] });
      assert.equal(opps.value.length, 1);
      const accounts = await h.dynamicsUser.retrieveMultiple<{ accountid: string }>({ collection: 'accounts', select: ['accountid'] });
      const contacts = await h.dynamicsUser.retrieveMultiple<{ contactid: string }>({ collection: 'contacts', select: ['contactid'], filter: `emailaddress1 eq 'peter@initech.example'` });
      assert.equal(opps.value[0]._parentaccountid_value, accounts.value[0].accountid);
      assert.equal(opps.value[0]._parentcontactid_value, contacts.value[0].contactid);
      assert.equal(opps.value[0].hds_hubspotid, deal.id);
    });
  });

  describe(`sync worker: lead qualification, policies, UAT and the main switch [${dialect}]`, function () {
    this.timeout(60_000);
    let h: SyncHarness;
    afterEach(async () => h?.close());

    it('moves the link from a qualified lead to its new contact, keeping one HubSpot contact', async () => {
      h = await startSyncHarness({}, {}, dialect);
      const lead = (await h.dynamicsUser.create({ collection: 'leads', data: { firstname: 'Lin', lastname: 'Qualified', emailaddress1: 'lin@example.com', subject: 'Interested' }, returnRepresentation: true })) as { leadid: string };
      await h.enqueue('dynamics', 'lead', lead.leadid);
      assert.deepEqual((await h.drain()).failed, []);
      await h.dynamicsUser.callAction({ actionName: 'Microsoft.Dynamics.CRM.QualifyLead', collection: 'leads', key: lead.leadid, action: { CreateAccount: false, CreateContact: true, CreateOpportunity: false, Status: 3 } });
      const contact = await h.dynamicsUser.retrieveMultiple<{ contactid: string }>({ collection: 'contacts', select: ['contactid'], filter: `_originatingleadid_value eq ${lead.leadid}` });
      await h.enqueue('dynamics', 'lead', lead.leadid);
      await h.enqueue('dynamics', 'contact', contact.value[0].contactid);
      assert.deepEqual((await h.drain()).failed, []);

      const all = await h.hubspotUser.crm.contacts.basicApi.getPage(10, undefined, ['email', 'dynamics_id', 'dynamics_entity']);
      assert.equal(all.results.length, 1, 'still one HubSpot contact');
      assert.equal(all.results[0].properties.dynamics_entity, 'contact');
      assert.equal(all.results[0].properties.dynamics_id, contact.value[0].contactid);
    });

    it('creates nothing in Dynamics for a new HubSpot contact when the policy is none', async () => {
      h = await startSyncHarness({ newContactPolicy: 'none' }, {}, dialect);
      const c = await h.hubspotUser.crm.contacts.basicApi.create({ properties: { email: 'nobody@example.com', lastname: 'Nobody' }, associations: [] });
      await h.enqueue('hubspot', 'contacts', c.id);
      assert.deepEqual((await h.drain()).failed, []);
      assert.equal(await h.writes('toDynamics'), 0);
    });

    it('in UAT mode syncs only marked records, and holds everything while the main switch is off', async () => {
      h = await startSyncHarness({}, { mode: 'uat' }, dialect);
      const plain = await h.hubspotUser.crm.contacts.basicApi.create({ properties: { email: 'real.customer@example.com', lastname: 'Customer' }, associations: [] });
      const marked = await h.hubspotUser.crm.contacts.basicApi.create({ properties: { email: 'jo@ss.test.example.com', lastname: 'Tester' }, associations: [] });
      await h.enqueue('hubspot', 'contacts', plain.id);
      await h.enqueue('hubspot', 'contacts', marked.id);
      assert.deepEqual((await h.drain()).failed, []);
      const leads = await h.dynamicsUser.retrieveMultiple<{ emailaddress1: string }>({ collection: 'leads', select: ['emailaddress1'] });
      assert.deepEqual(leads.value.map((l) => l.emailaddress1), ['jo@ss.test.example.com']);

      await h.store.tenants.update(h.tenantId, { mainSwitch: false });
      h.contexts.invalidate(h.tenantId);
      const later = await h.hubspotUser.crm.contacts.basicApi.create({ properties: { email: 'kim@ss.test.example.com', lastname: 'Later' }, associations: [] });
      await h.enqueue('hubspot', 'contacts', later.id);
      await h.drain();
      const counts = await h.store.jobs.counts(h.tenantId);
      assert.equal(counts.pending, 1, 'the change is kept as a pending job');
      assert.equal((await h.dynamicsUser.retrieveMultiple({ collection: 'leads', select: ['leadid'] })).value.length, 1, 'and nothing was written');
    });

    it('reports an unmatched dropdown value on the record and still syncs the rest', async () => {
      h = await startSyncHarness({}, {}, dialect);
      const company = await h.hubspotUser.crm.companies.basicApi.create({ properties: { name: 'Bankco', domain: 'bankco.example', industry: 'BANKING' }, associations: [] });
      await h.enqueue('hubspot', 'companies', company.id);
      assert.deepEqual((await h.drain()).failed, []);
      const accounts = await h.dynamicsUser.retrieveMultiple<{ name: string; industrycode: number | null }>({ collection: 'accounts', select: ['name', 'industrycode'] });
      assert.equal(accounts.value[0].name, 'Bankco');
      assert.equal(accounts.value[0].industrycode, null);
      const errors = await h.store.errors.forRecord(h.tenantId, { system: 'hubspot', objectType: 'companies', recordId: company.id });
      assert.equal(errors.length, 1);
      assert.equal(errors[0].code, 'dropdown_unmatched');
      assert.match(errors[0].why, /\[\{"property_name":"industry","value":"BANKING"\}\]/);
    });
  });
}
