import assert from 'node:assert/strict';
import { client, raw, useSandbox } from './helpers.ts';

describe('hubspot sandbox: associations v4', () => {
  const ctx = useSandbox({ rateLimits: { enabled: false } });

  async function records() {
    const hs = client(ctx.sb);
    const contact = await hs.crm.contacts.basicApi.create({ properties: { email: 'a@example.com' }, associations: [] });
    const co1 = await hs.crm.companies.basicApi.create({ properties: { name: 'One' }, associations: [] });
    const co2 = await hs.crm.companies.basicApi.create({ properties: { name: 'Two' }, associations: [] });
    const deal = await hs.crm.deals.basicApi.create({ properties: { dealname: 'D' }, associations: [] });
    return { hs, contact: contact.id, co1: co1.id, co2: co2.id, deal: deal.id };
  }

  it('creates default associations (unlabeled + first primary) readable from both sides and via v3', async () => {
    const { hs, contact, co1, co2 } = await records();
    const res = await hs.crm.associations.v4.basicApi.createDefault('contacts', contact, 'companies', co1);
    assert.deepEqual(res.results.map((r) => r.associationSpec.associationTypeId).sort((a, b) => a - b), [1, 279]);
    assert.equal(res.results[0]._from.id, contact);
    await hs.crm.associations.v4.basicApi.createDefault('contacts', contact, 'companies', co2);

    const list = await hs.crm.associations.v4.basicApi.getPage('contacts', contact, 'companies');
    const byId = new Map(list.results.map((r) => [String(r.toObjectId), r.associationTypes.map((t) => t.typeId).sort((a, b) => a - b)]));
    assert.deepEqual(byId.get(co1), [1, 279]);
    assert.deepEqual(byId.get(co2), [279], 'only one primary company');

    const reverse = await hs.crm.associations.v4.basicApi.getPage('companies', co1, 'contacts');
    assert.deepEqual(reverse.results[0].associationTypes.map((t) => t.typeId).sort((a, b) => a - b), [2, 280]);

    const v3 = await hs.crm.contacts.basicApi.getById(contact, undefined, undefined, ['companies']);
    const types = (v3.associations as any).companies.results.map((r: any) => `${r.id}:${r.type}`).sort();
    assert.deepEqual(types, [`${co1}:contact_to_company`, `${co1}:contact_to_company_unlabeled`, `${co2}:contact_to_company_unlabeled`].sort());
  });

  it('creates labelled associations, moves the primary, deletes, and validates types', async () => {
    const { hs, contact, co1, co2, deal } = await records();
    await hs.crm.associations.v4.basicApi.create('contacts', contact, 'companies', co1, [{ associationCategory: 'HUBSPOT_DEFINED' as any, associationTypeId: 1 }]);
    const moved = await hs.crm.associations.v4.basicApi.create('contacts', contact, 'companies', co2, [{ associationCategory: 'HUBSPOT_DEFINED' as any, associationTypeId: 1 }]);
    assert.deepEqual(moved.labels, ['Primary']);
    const list = await hs.crm.associations.v4.basicApi.getPage('contacts', contact, 'companies');
    assert.deepEqual(list.results.map((r) => String(r.toObjectId)), [co2], 'primary moved, old pair removed');

    const wrong = await raw(ctx.sb, 'PUT', `/crm/v4/objects/contacts/${contact}/associations/companies/${co1}`, [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 3 }]);
    assert.equal(wrong.status, 400);
    const missing = await raw(ctx.sb, 'PUT', `/crm/v4/objects/contacts/${contact}/associations/default/companies/999999`);
    assert.equal(missing.status, 400);

    await hs.crm.associations.v4.basicApi.createDefault('deals', deal, 'contacts', contact);
    await hs.crm.associations.v4.basicApi.archive('contacts', contact, 'companies', co2);
    assert.equal((await hs.crm.associations.v4.basicApi.getPage('contacts', contact, 'companies')).results.length, 0);
    assert.deepEqual((await hs.crm.associations.v4.basicApi.getPage('contacts', contact, 'deals')).results[0].associationTypes.map((t) => t.typeId), [4]);

    // Create with associations inline (v3).
    const d2 = await hs.crm.deals.basicApi.create({
      properties: { dealname: 'D2' },
      associations: [{ to: { id: co1 }, types: [{ associationCategory: 'HUBSPOT_DEFINED' as any, associationTypeId: 341 }] }],
    });
    assert.deepEqual((await hs.crm.associations.v4.basicApi.getPage('companies', co1, 'deals')).results.map((r) => String(r.toObjectId)), [d2.id]);
  });

  it('batch associate/default, create, read (207 for none) and archive', async () => {
    const { hs, contact, co1, co2 } = await records();
    const c2 = (await hs.crm.contacts.basicApi.create({ properties: { email: 'b@example.com' }, associations: [] })).id;
    const def = await hs.crm.associations.v4.batchApi.createDefault('contacts', 'companies', {
      inputs: [{ _from: { id: contact }, to: { id: co1 } }, { _from: { id: c2 }, to: { id: co1 } }],
    });
    assert.ok(def.results.length >= 2);
    const created = await hs.crm.associations.v4.batchApi.create('contacts', 'companies', {
      inputs: [{ _from: { id: contact }, to: { id: co2 }, types: [{ associationCategory: 'HUBSPOT_DEFINED' as any, associationTypeId: 279 }] }],
    });
    assert.equal(created.results.length, 1);
    const read = await hs.crm.associations.v4.batchApi.getPage('contacts', 'companies', { inputs: [{ id: contact }, { id: '424242' }] });
    assert.equal(read.results.length, 1);
    assert.equal(read.results[0].to.length, 2);
    assert.equal((read as any).numErrors, 1);
    await hs.crm.associations.v4.batchApi.archive('contacts', 'companies', { inputs: [{ _from: { id: contact }, to: [{ id: co1 }, { id: co2 }] }] });
    assert.equal((await hs.crm.associations.v4.basicApi.getPage('contacts', contact, 'companies')).results.length, 0);
    assert.equal((await hs.crm.associations.v4.basicApi.getPage('contacts', c2, 'companies')).results.length, 1);
    const tooMany = await raw(ctx.sb, 'POST', '/crm/v4/associations/contacts/companies/batch/read', { inputs: Array.from({ length: 101 }, () => ({ id: contact })) });
    assert.equal(tooMany.status, 400);
  });

  it('drops associations when a record is archived', async () => {
    const { hs, contact, co1 } = await records();
    await hs.crm.associations.v4.basicApi.createDefault('contacts', contact, 'companies', co1);
    await hs.crm.companies.basicApi.archive(co1);
    assert.equal((await hs.crm.associations.v4.basicApi.getPage('contacts', contact, 'companies')).results.length, 0);
  });
});
