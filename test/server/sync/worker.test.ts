import assert from 'node:assert/strict';
import { startSyncHarness, type SyncHarness } from './harness.ts';

describe('sync worker (through the sandboxes)', function () {
  this.timeout(60_000);
  let h: SyncHarness;
  beforeEach(async () => {
    h = await startSyncHarness();
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
