import assert from 'node:assert/strict';
import { FORMATTED, LOOKUP_LOGICAL_NAME, mapRecord, mergeMappings } from '../../../../server/src/sync/rules/mapping.ts';
import { defaultMappings, type FieldMappingRow } from '../../../../server/src/sync/rules/pairs.ts';
import { INTERESTS_DV, INTERESTS_HS, metadata, owners, USER_ID } from './fixtures.ts';

const LEAD_ID = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
const leadRows = defaultMappings('lead');
const base = { rows: leadRows, metadata: metadata(), owners, dynamics: { entity: 'lead', recordId: LEAD_ID, orgUrl: 'https://org.crm.dynamics.com/' } };
const interestsRow: FieldMappingRow = { dynamics: 'hds_interests', dynamicsType: 'MultiSelectPicklist', hubspot: 'interests', hubspotType: 'enumeration', direction: 'both' };

describe('sync rules: mapping', () => {
  describe('HubSpot → Dynamics', () => {
    it('maps the standard contact fields of a lead', () => {
      const r = mapRecord({
        ...base, way: 'toDynamics',
        record: {
          email: 'ann@ss.test.com', firstname: 'Ann', lastname: 'Lee', phone: '+1 555', company: 'Acme', jobtitle: 'CTO', city: 'Oslo',
          hs_lead_status: 'NEW', hs_email_optout: 'true', hubspot_owner_id: '101', hs_object_id: '501', lifecyclestage: 'lead',
        },
      });
      assert.deepEqual(r.errors, []);
      assert.deepEqual(r.unmatched, []);
      assert.deepEqual(r.fields, {
        firstname: 'Ann', lastname: 'Lee', emailaddress1: 'ann@ss.test.com', telephone1: '+1 555', jobtitle: 'CTO', companyname: 'Acme',
        address1_city: 'Oslo', statuscode: 1, statecode: 0, donotemail: true, 'ownerid@odata.bind': `/systemusers(${USER_ID})`, hds_hubspotid: '501',
      }, 'the optional lifecycle column is absent from metadata, so it is skipped silently');
    });

    it('reports an unmatched dropdown value in the seed shape and does not send it', () => {
      const rows: FieldMappingRow[] = [{ dynamics: 'statuscode', dynamicsType: 'Status', hubspot: 'lead_status', hubspotType: 'enumeration', direction: 'both' }];
      const md = metadata([{ name: 'lead_status', type: 'enumeration', options: [{ value: 'Hott', label: 'Hott' }] }]);
      const r = mapRecord({ ...base, rows, metadata: md, way: 'toDynamics', record: { lead_status: 'Hott' } });
      assert.deepEqual(r.unmatched, [{ property_name: 'lead_status', value: 'Hott' }]);
      assert.deepEqual(r.fields, {});
    });

    it('a blank source never blanks the target', () => {
      const r = mapRecord({ ...base, way: 'toDynamics', record: { firstname: '', lastname: null, jobtitle: '   ', email: 'a@b.co' } });
      assert.deepEqual(r.fields, { emailaddress1: 'a@b.co' });
    });

    it('skips rows whose direction excludes this way', () => {
      const r = mapRecord({ ...base, way: 'toDynamics', record: { dynamics_id: 'x', dynamics_entity: 'lead', dynamics_url: 'u' } });
      assert.deepEqual(r.fields, {});
    });

    it('multi-select partial match: matched items written as the Web API string, the rest reported', () => {
      const r = mapRecord({ ...base, rows: [interestsRow], way: 'toDynamics', record: { interests: 'software;consulting;Hardware' } });
      assert.deepEqual(r.fields, { hds_interests: '100000000,100000001' });
      assert.deepEqual(r.unmatched, [{ property_name: 'interests', value: 'consulting' }]);
    });

    it('conversion errors name the field and do not stop the other fields', () => {
      const rows: FieldMappingRow[] = [
        { dynamics: 'numberofemployees', dynamicsType: 'Integer', hubspot: 'numberofemployees', hubspotType: 'number', direction: 'both' },
        { dynamics: 'jobtitle', dynamicsType: 'String', hubspot: 'jobtitle', hubspotType: 'string', direction: 'both' },
      ];
      const r = mapRecord({ ...base, rows, way: 'toDynamics', record: { numberofemployees: 'many', jobtitle: 'CEO' } });
      assert.deepEqual(r.fields, { jobtitle: 'CEO' });
      assert.equal(r.errors[0].message, "HubSpot property numberofemployees is 'many', which is not a number; change the value or the mapping");
    });

    it('owners: unmatched owner is an error; owner sync off skips the row', () => {
      const r = mapRecord({ ...base, way: 'toDynamics', record: { hubspot_owner_id: '102' } });
      assert.equal(r.errors[0].code, 'owner_unmatched');
      assert.match(r.errors[0].message, /nobody@example.com has no Dynamics user/);
      assert.deepEqual(mapRecord({ ...base, ownerSync: false, way: 'toDynamics', record: { hubspot_owner_id: '102' } }), { fields: {}, unmatched: [], addOptions: [], errors: [] });
    });

    it('text into a dropdown column is reported, not forced; a missing column is reported', () => {
      const rows: FieldMappingRow[] = [
        { dynamics: 'statuscode', dynamicsType: 'Status', hubspot: 'jobtitle', hubspotType: 'string', direction: 'both' },
        { dynamics: 'new_gone', dynamicsType: 'String', hubspot: 'city', hubspotType: 'string', direction: 'both' },
      ];
      const r = mapRecord({ ...base, rows, way: 'toDynamics', record: { jobtitle: 'Hot', city: 'Oslo' } });
      assert.deepEqual(r.errors.map((e) => e.code), ['text_into_dropdown', 'missing_column']);
      assert.deepEqual(r.fields, {});
    });

    it('a HubSpot dropdown into a text column writes the label', () => {
      const r = mapRecord({ ...base, way: 'toDynamics', metadata: metadata([], [{ logicalName: 'hds_lifecyclestage', type: 'String' }]), record: { lifecyclestage: 'customer' } });
      assert.deepEqual(r.fields, { hds_lifecyclestage: 'Customer' });
    });
  });

  describe('Dynamics → HubSpot', () => {
    const record = {
      leadid: LEAD_ID.toUpperCase(), firstname: 'Ann', lastname: 'Lee', emailaddress1: 'ann@x.com', telephone1: null,
      statuscode: 2, [`statuscode${FORMATTED}`]: 'Contacted', donotemail: true,
      _ownerid_value: USER_ID, [`_ownerid_value${LOOKUP_LOGICAL_NAME}`]: 'systemuser',
      '@odata.etag': 'W/"1"',
    };

    it('maps fields, owner, link fields and asks to add a missing dropdown option', () => {
      const r = mapRecord({ ...base, way: 'toHubSpot', record });
      assert.deepEqual(r.errors, []);
      assert.deepEqual(r.fields, {
        firstname: 'Ann', lastname: 'Lee', email: 'ann@x.com', hs_lead_status: 'Contacted', hubspot_owner_id: '101',
        dynamics_id: LEAD_ID, dynamics_entity: 'lead',
        dynamics_url: `https://org.crm.dynamics.com/main.aspx?etn=lead&id=${LEAD_ID}&pagetype=entityrecord`,
      }, 'donotemail is HubSpot → Dynamics only');
      assert.deepEqual(r.addOptions, [{ property: 'hs_lead_status', label: 'Contacted', value: 'Contacted' }]);
    });

    it('team-owned records keep the HubSpot owner', () => {
      const r = mapRecord({ ...base, way: 'toHubSpot', record: { _ownerid_value: 'ffffffff-0000-4000-8000-000000000000', [`_ownerid_value${LOOKUP_LOGICAL_NAME}`]: 'team' } });
      assert.equal(r.fields.hubspot_owner_id, undefined);
      assert.deepEqual(r.errors, []);
    });

    it('records owned by the integration\'s own user keep the HubSpot owner, without an error', () => {
      const own = { _ownerid_value: 'AAAAAAAA-0000-4000-8000-000000000001', [`_ownerid_value${LOOKUP_LOGICAL_NAME}`]: 'systemuser' };
      const r = mapRecord({ ...base, way: 'toHubSpot', record: own, integrationUserId: 'aaaaaaaa-0000-4000-8000-000000000001' });
      assert.equal(r.fields.hubspot_owner_id, undefined);
      assert.deepEqual(r.errors, []);
      assert.equal(mapRecord({ ...base, way: 'toHubSpot', record: own }).errors.length, 1, 'another unknown user is still reported');
    });

    it('multi-select with a new item: value and addOptions', () => {
      const r = mapRecord({ ...base, rows: [interestsRow], way: 'toHubSpot', record: { hds_interests: '100000002,100000000' } });
      assert.deepEqual(r.fields, { interests: 'Services;software' });
      assert.deepEqual(r.addOptions, [{ property: 'interests', label: 'Services', value: 'Services' }]);
      assert.equal(INTERESTS_HS.options!.length, 3, 'metadata is not mutated');
      assert.equal(INTERESTS_DV.options!.length, 3);
    });

    it('stale option-set cache: formatted value stands in, else an error asks to refresh', () => {
      const rows = leadRows.filter((r) => r.hubspot === 'hs_lead_status');
      const known = mapRecord({ ...base, rows, way: 'toHubSpot', record: { statuscode: 77, [`statuscode${FORMATTED}`]: 'Open' } });
      assert.deepEqual(known.fields, { hs_lead_status: 'OPEN' });
      const unknown = mapRecord({ ...base, rows, way: 'toHubSpot', record: { statuscode: 77 } });
      assert.equal(unknown.errors[0].code, 'stale_metadata');
    });

    it('a blank Dataverse value never blanks HubSpot', () => {
      const r = mapRecord({ ...base, rows: leadRows.filter((x) => x.kind === 'field'), way: 'toHubSpot', record: { firstname: null, lastname: '', jobtitle: 'CTO' } });
      assert.deepEqual(r.fields, { jobtitle: 'CTO' });
    });

    it('accounts: website gives the domain too; revenue and employees convert', () => {
      const md = metadata([{ name: 'domain', type: 'string' }, { name: 'name', type: 'string' }, { name: 'industry', type: 'enumeration', options: [{ value: 'ACCOUNTING', label: 'Accounting' }] }],
        [{ logicalName: 'name', type: 'String' }, { logicalName: 'industrycode', type: 'Picklist', options: [{ value: 1, label: 'Accounting' }, { value: 7, label: 'Consulting' }] }]);
      const rows = defaultMappings('account').filter((r) => r.kind === 'field');
      const r = mapRecord({ ...base, rows, metadata: md, dynamics: { entity: 'account' }, way: 'toHubSpot', record: { name: 'Acme SyncSmart', websiteurl: 'https://www.Acme.com/x', revenue: 1200.5, numberofemployees: 40, industrycode: 7 } });
      assert.deepEqual(r.fields, { name: 'Acme SyncSmart', website: 'https://www.Acme.com/x', domain: 'acme.com', industry: 'Consulting', numberofemployees: '40', annualrevenue: '1200.5' });
      assert.deepEqual(r.addOptions, [{ property: 'industry', label: 'Consulting', value: 'Consulting' }]);
      const back = mapRecord({ ...base, rows, metadata: md, dynamics: { entity: 'account' }, way: 'toDynamics', record: { industry: 'ACCOUNTING', domain: 'acme.com' } });
      assert.deepEqual(back.fields, { industrycode: 1 }, 'domain is computed one way only');
    });
  });

  it('mergeMappings: tenant rows replace defaults for the same pair of fields and add new ones', () => {
    const tenant: FieldMappingRow[] = [
      { dynamics: 'jobtitle', dynamicsType: 'String', hubspot: 'jobtitle', hubspotType: 'string', direction: 'toHubSpot' },
      { dynamics: 'new_score', dynamicsType: 'Integer', hubspot: 'score', hubspotType: 'number', direction: 'both' },
    ];
    const merged = mergeMappings(leadRows, tenant);
    assert.equal(merged.filter((r) => r.dynamics === 'jobtitle').length, 1);
    assert.equal(merged.find((r) => r.dynamics === 'jobtitle')!.direction, 'toHubSpot');
    assert.equal(merged.length, leadRows.length + 1);
  });
});
