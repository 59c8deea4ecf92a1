import assert from 'node:assert/strict';
import { client, failure, raw, useSandbox } from './helpers.ts';

describe('hubspot sandbox: properties and owners', () => {
  const ctx = useSandbox({ rateLimits: { enabled: false } });

  it('has realistic default properties with HubSpot types and option values', async () => {
    const hs = client(ctx.sb);
    const contact = new Map((await hs.crm.properties.coreApi.getAll('contacts')).results.map((p) => [p.name, p]));
    for (const name of ['email', 'firstname', 'lastname', 'phone', 'company', 'jobtitle', 'lifecyclestage', 'hs_lead_status', 'hubspot_owner_id', 'website', 'city', 'state', 'country', 'createdate', 'lastmodifieddate', 'hs_object_id']) {
      assert.ok(contact.has(name), name);
    }
    assert.equal(contact.get('lifecyclestage')!.type, 'enumeration');
    assert.deepEqual(contact.get('lifecyclestage')!.options.map((o) => o.value),
      ['subscriber', 'lead', 'marketingqualifiedlead', 'salesqualifiedlead', 'opportunity', 'customer', 'evangelist', 'other']);
    assert.ok(contact.get('hs_lead_status')!.options.some((o) => o.value === 'ATTEMPTED_TO_CONTACT'));
    assert.equal(contact.get('createdate')!.type, 'datetime');
    const owners = contact.get('hubspot_owner_id')!.options.map((o) => o.value);
    assert.ok(owners.includes(ctx.sb.portal.ownerId));

    const company = new Map((await hs.crm.properties.coreApi.getAll('companies')).results.map((p) => [p.name, p]));
    assert.equal(company.get('industry')!.fieldType, 'select');
    assert.equal(company.get('numberofemployees')!.type, 'number');
    assert.ok(company.has('annualrevenue') && company.has('domain'));
    const deal = await hs.crm.properties.coreApi.getByName('deals', 'dealstage');
    assert.deepEqual(deal.options.map((o) => o.value),
      ['appointmentscheduled', 'qualifiedtobuy', 'presentationscheduled', 'decisionmakerboughtin', 'contractsent', 'closedwon', 'closedlost']);
    const groups = await hs.crm.properties.groupsApi.getAll('contacts');
    assert.ok(groups.results.some((g) => g.name === 'contactinformation'));
  });

  it('creates, updates (options replace the list), archives custom properties', async () => {
    const hs = client(ctx.sb);
    const created = await hs.crm.properties.coreApi.create('contacts', {
      name: 'sync_tier', label: 'Sync tier', type: 'enumeration' as any, fieldType: 'select' as any, groupName: 'contactinformation',
      options: [{ label: 'Gold', value: 'gold', hidden: false, displayOrder: 0 }, { label: 'Silver', value: 'silver', hidden: false, displayOrder: 1 }],
    });
    assert.equal(created.name, 'sync_tier');
    assert.equal(created.hubspotDefined ?? false, false);

    const dup = await failure(hs.crm.properties.coreApi.create('contacts', { name: 'sync_tier', label: 'x', type: 'string' as any, fieldType: 'text' as any, groupName: 'contactinformation' }));
    assert.equal(dup.code, 409);
    const badCombo = await failure(hs.crm.properties.coreApi.create('contacts', { name: 'combo', label: 'x', type: 'number' as any, fieldType: 'text' as any, groupName: 'contactinformation' }));
    assert.equal(badCombo.code, 400);

    const c = await hs.crm.contacts.basicApi.create({ properties: { sync_tier: 'gold' }, associations: [] });
    const patched = await hs.crm.properties.coreApi.update('contacts', 'sync_tier', { options: [{ label: 'Bronze', value: 'bronze', hidden: false, displayOrder: 0 }] });
    assert.deepEqual(patched.options.map((o) => o.value), ['bronze']);
    const nowInvalid = await failure(hs.crm.contacts.basicApi.update(c.id, { properties: { sync_tier: 'silver' } }));
    assert.match(nowInvalid.body.message, /INVALID_OPTION/);
    await hs.crm.contacts.basicApi.update(c.id, { properties: { sync_tier: 'bronze' } });

    // HubSpot-defined properties: type fixed, not archivable, but editable options (lifecycle stages).
    assert.equal((await failure(hs.crm.properties.coreApi.update('contacts', 'email', { type: 'number' as any, fieldType: 'number' as any }))).code, 400);
    assert.equal((await failure(hs.crm.properties.coreApi.archive('contacts', 'email'))).code, 400);

    await hs.crm.properties.coreApi.archive('contacts', 'sync_tier');
    assert.equal((await failure(hs.crm.properties.coreApi.getByName('contacts', 'sync_tier'))).code, 404);
    const write = await failure(hs.crm.contacts.basicApi.update(c.id, { properties: { sync_tier: 'bronze' } }));
    assert.match(write.body.message, /PROPERTY_DOESNT_EXIST/);
    const archived = await hs.crm.properties.coreApi.getAll('contacts', true);
    assert.deepEqual(archived.results.map((p) => p.name), ['sync_tier']);
  });

  it('supports unique custom properties as upsert idProperty, and property groups', async () => {
    const hs = client(ctx.sb);
    await hs.crm.properties.groupsApi.create('companies', { name: 'sync', label: 'Sync', displayOrder: 1 });
    await hs.crm.properties.coreApi.create('companies', {
      name: 'dynamics_id', label: 'Dynamics id', type: 'string' as any, fieldType: 'text' as any, groupName: 'sync', hasUniqueValue: true,
    });
    const first = await hs.crm.companies.batchApi.upsert({ inputs: [{ id: 'acc-1', idProperty: 'dynamics_id', properties: { name: 'Acme' } }] });
    assert.equal(first.results[0]._new, true);
    const again = await hs.crm.companies.batchApi.upsert({ inputs: [{ id: 'acc-1', idProperty: 'dynamics_id', properties: { name: 'Acme 2' } }] });
    assert.equal(again.results[0]._new, false);
    assert.equal(again.results[0].id, first.results[0].id);
    const dup = await failure(hs.crm.companies.basicApi.create({ properties: { dynamics_id: 'acc-1' }, associations: [] }));
    assert.equal(dup.code, 409);
    const notUnique = await failure(hs.crm.companies.basicApi.getById('Acme', undefined, undefined, undefined, false, 'name'));
    assert.equal(notUnique.code, 400);
  });

  it('lists owners on both paths with email filter and paging, and reads one', async () => {
    const hs = client(ctx.sb);
    const all = await hs.crm.owners.ownersApi.getPage();
    assert.equal(all.results.length, 3);
    assert.ok(all.results.every((o) => o.email && o.userId && o.id));
    const me = await hs.crm.owners.ownersApi.getPage('SAM.seller@example.com');
    assert.equal(me.results.length, 1);
    assert.equal(me.results[0].firstName, 'Sam');
    const page = await hs.crm.owners.ownersApi.getPage(undefined, undefined, 2);
    assert.equal(page.results.length, 2);
    const rest = await hs.crm.owners.ownersApi.getPage(undefined, page.paging!.next!.after, 2);
    assert.equal(rest.results.length, 1);
    const noSlash = await raw(ctx.sb, 'GET', '/crm/v3/owners?limit=1');
    assert.equal(noSlash.status, 200);
    assert.equal(noSlash.body.results.length, 1);
    const one = await hs.crm.owners.ownersApi.getById(Number(ctx.sb.portal.ownerId));
    assert.equal(one.userId, ctx.sb.portal.userId);
    assert.equal((await failure(hs.crm.owners.ownersApi.getById(1))).code, 404);
  });
});
