import assert from 'node:assert/strict';
import { associationsFromDynamics, associationsToDynamics } from '../../../../server/src/sync/rules/associations.ts';
import { LOOKUP_LOGICAL_NAME } from '../../../../server/src/sync/rules/mapping.ts';

const ACC = 'a0000000-0000-4000-8000-000000000001';
const CON = 'c0000000-0000-4000-8000-000000000001';
const links: Record<string, string> = { [`account:${ACC}`]: '900', [`contact:${CON}`]: '700' };
const hubspotIdOf = (entity: string, id: string) => links[`${entity}:${id}`];

describe('sync rules: associations', () => {
  describe('Dynamics → HubSpot', () => {
    it('contact.parentcustomerid (account) → contact→company 279', () => {
      const r = associationsFromDynamics({
        entity: 'contact', hubspotId: '1', hubspotIdOf,
        record: { _parentcustomerid_value: ACC.toUpperCase(), [`_parentcustomerid_value${LOOKUP_LOGICAL_NAME}`]: 'account' },
      });
      assert.deepEqual(r, {
        associations: [{ fromObjectType: 'contacts', fromId: '1', toObjectType: 'companies', toId: '900', types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 279 }] }],
        dependencies: [],
      });
    });

    it('a parent contact has no HubSpot counterpart and is ignored', () => {
      const r = associationsFromDynamics({ entity: 'contact', hubspotId: '1', hubspotIdOf, record: { _parentcustomerid_value: CON, [`_parentcustomerid_value${LOOKUP_LOGICAL_NAME}`]: 'contact' } });
      assert.deepEqual(r, { associations: [], dependencies: [] });
    });

    it('opportunity: account once (341) even when parentaccountid = customerid, contact 3', () => {
      const r = associationsFromDynamics({
        entity: 'opportunity', hubspotId: '5', hubspotIdOf,
        record: {
          _parentaccountid_value: ACC, _customerid_value: ACC, [`_customerid_value${LOOKUP_LOGICAL_NAME}`]: 'account', _parentcontactid_value: CON,
        },
      });
      assert.deepEqual(r.associations.map((a) => [a.toObjectType, a.toId, a.types[0].associationTypeId]), [['companies', '900', 341], ['contacts', '700', 3]]);
    });

    it('returns unlinked records as dependencies instead of failing', () => {
      const other = 'a0000000-0000-4000-8000-000000000009';
      const r = associationsFromDynamics({ entity: 'opportunity', hubspotId: '5', hubspotIdOf, record: { _parentaccountid_value: other, _parentcontactid_value: CON } });
      assert.deepEqual(r.dependencies.map((d) => [d.system, d.object, d.id]), [['dynamics', 'account', other]]);
      assert.equal(r.associations.length, 1);
    });
  });

  describe('HubSpot → Dynamics', () => {
    const dynamicsOf = (object: 'companies' | 'contacts', id: string) =>
      ({ 'companies:900': { entity: 'account', id: ACC }, 'contacts:700': { entity: 'contact', id: CON }, 'contacts:701': { entity: 'lead', id: 'l1' } } as Record<string, { entity: string; id: string }>)[`${object}:${id}`];

    it('contact → parentcustomerid_account@odata.bind', () => {
      const r = associationsToDynamics({ entity: 'contact', associations: { companies: [{ id: '900' }] }, dynamicsOf });
      assert.deepEqual(r, { fields: { 'parentcustomerid_account@odata.bind': `/accounts(${ACC})` }, dependencies: [], skipped: [] });
    });

    it('lead → parentaccountid@odata.bind', () => {
      const r = associationsToDynamics({ entity: 'lead', associations: { companies: [{ id: '900' }] }, dynamicsOf });
      assert.deepEqual(r.fields, { 'parentaccountid@odata.bind': `/accounts(${ACC})` });
    });

    it('opportunity → parentaccountid, customerid_account and parentcontactid', () => {
      const r = associationsToDynamics({ entity: 'opportunity', associations: { companies: [{ id: '900' }], contacts: [{ id: '700' }] }, dynamicsOf });
      assert.deepEqual(r.fields, {
        'parentaccountid@odata.bind': `/accounts(${ACC})`, 'customerid_account@odata.bind': `/accounts(${ACC})`, 'parentcontactid@odata.bind': `/contacts(${CON})`,
      });
    });

    it('opportunity without a company: the contact is the customer', () => {
      const r = associationsToDynamics({ entity: 'opportunity', associations: { contacts: [{ id: '700' }] }, dynamicsOf });
      assert.deepEqual(r.fields, { 'parentcontactid@odata.bind': `/contacts(${CON})`, 'customerid_contact@odata.bind': `/contacts(${CON})` });
    });

    it('several companies: the primary wins; without a primary nothing is guessed', () => {
      const primary = associationsToDynamics({ entity: 'opportunity', associations: { companies: [{ id: '901', typeIds: [341] }, { id: '900', typeIds: [341, 5] }] }, dynamicsOf });
      assert.equal(primary.fields['parentaccountid@odata.bind'], `/accounts(${ACC})`);
      const none = associationsToDynamics({ entity: 'contact', associations: { companies: [{ id: '900' }, { id: '901' }] }, dynamicsOf });
      assert.deepEqual(none.fields, {});
      assert.match(none.skipped[0], /2 associated companies and none is primary/);
    });

    it('unlinked HubSpot records are dependencies; a lead cannot be an opportunity contact', () => {
      const r = associationsToDynamics({ entity: 'opportunity', associations: { companies: [{ id: '999' }], contacts: [{ id: '701' }] }, dynamicsOf });
      assert.deepEqual(r.dependencies.map((d) => [d.system, d.object, d.id]), [['hubspot', 'companies', '999']]);
      assert.deepEqual(r.fields, {});
      assert.match(r.skipped[0], /linked to a Dynamics lead/);
    });
  });
});
