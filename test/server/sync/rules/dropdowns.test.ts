import assert from 'node:assert/strict';
import {
  dynamicsBoolToHubSpot, dynamicsMultiToHubSpot, dynamicsToHubSpot, hubspotBoolToDynamics, hubspotMultiToDynamics, hubspotToDynamics,
  parseDynamicsMulti,
} from '../../../../server/src/sync/rules/dropdowns.ts';
import { INTERESTS_DV, INTERESTS_HS, LEAD_STATUS, LEAD_STATUSCODE } from './fixtures.ts';

const hsOpts = LEAD_STATUS.options!;
const dvOpts = LEAD_STATUSCODE.options!;

describe('sync rules: dropdowns (DESIGN §3)', () => {
  describe('HubSpot → Dynamics', () => {
    it('matches the Dynamics label to the HubSpot value first', () => {
      // NEW: no Dynamics label "NEW", so the HubSpot label "New" decides.
      assert.deepEqual(hubspotToDynamics('hs_lead_status', 'NEW', hsOpts, dvOpts), { value: 1 });
      const dv = [{ value: 10, label: 'OPEN' }, { value: 11, label: 'Open' }];
      assert.deepEqual(hubspotToDynamics('hs_lead_status', 'OPEN', hsOpts, dv), { value: 10 }, 'value beats label');
    });

    it('falls back to the HubSpot label', () => {
      assert.deepEqual(hubspotToDynamics('hs_lead_status', 'hot_lead', hsOpts, dvOpts), { value: 8 });
    });

    it('reports unmatched values with the seed shape and does not send them', () => {
      const r = hubspotToDynamics('lead_status', 'Hott', [...hsOpts, { value: 'Hott', label: 'Hott' }], dvOpts);
      assert.deepEqual(r, { unmatched: { property_name: 'lead_status', value: 'Hott' } });
      assert.deepEqual([(r as { unmatched: unknown }).unmatched], [{ property_name: 'lead_status', value: 'Hott' }]);
      assert.equal(JSON.stringify([(r as { unmatched: unknown }).unmatched]), '[{"property_name":"lead_status","value":"Hott"}]');
      assert.ok('unmatched' in hubspotToDynamics('hs_lead_status', 'CONNECTED', hsOpts, dvOpts));
    });

    it('labels compare exactly (no case folding)', () => {
      assert.ok('unmatched' in hubspotToDynamics('p', 'x', [{ value: 'x', label: 'new' }], dvOpts));
    });

    it('a value missing from a stale HubSpot cache can still match by its value', () => {
      assert.deepEqual(hubspotToDynamics('p', 'Lost', [], dvOpts), { value: 4 });
    });

    it('multi-selects match per item, send matched items, report the rest', () => {
      const r = hubspotMultiToDynamics('interests', 'software;Hardware;consulting;software', INTERESTS_HS.options!, INTERESTS_DV.options!);
      assert.deepEqual(r, { value: [100000000, 100000001], unmatched: [{ property_name: 'interests', value: 'consulting' }] });
      const none = hubspotMultiToDynamics('interests', 'consulting', INTERESTS_HS.options!, INTERESTS_DV.options!);
      assert.deepEqual(none, { unmatched: [{ property_name: 'interests', value: 'consulting' }] });
      assert.ok(!('value' in none), 'nothing matched: the field is not sent');
    });

    it('booleans map by label, then by truth value', () => {
      const yes = [{ value: 'true', label: 'Yes' }, { value: 'false', label: 'No' }];
      assert.deepEqual(hubspotBoolToDynamics('b', 'true', yes, [{ value: 0, label: 'No' }, { value: 1, label: 'Yes' }]), { value: true });
      // Labels that differ on purpose: Yes ↔ "Do Not Allow" matches by label when HubSpot's label says so.
      assert.deepEqual(hubspotBoolToDynamics('b', 'true', [{ value: 'true', label: 'Do Not Allow' }], [{ value: 0, label: 'Allow' }, { value: 1, label: 'Do Not Allow' }]), { value: true });
      assert.deepEqual(hubspotBoolToDynamics('b', 'false', yes, [{ value: 0, label: 'Allow' }, { value: 1, label: 'Do Not Allow' }]), { value: false });
      assert.deepEqual(hubspotBoolToDynamics('b', 'maybe', yes, undefined), { unmatched: { property_name: 'b', value: 'maybe' } });
    });
  });

  describe('Dynamics → HubSpot', () => {
    it('matches HubSpot label to the Dynamics label, then HubSpot value', () => {
      assert.deepEqual(dynamicsToHubSpot(1, dvOpts, hsOpts), { value: 'NEW' });
      assert.deepEqual(dynamicsToHubSpot(4, dvOpts, [{ value: 'Lost', label: 'Gone' }]), { value: 'Lost' });
      assert.deepEqual(dynamicsToHubSpot(8, dvOpts, hsOpts), { value: 'hot_lead' });
    });

    it('asks to add an option with label = value = the Dynamics label when nothing matches', () => {
      assert.deepEqual(dynamicsToHubSpot(2, dvOpts, hsOpts), { addOption: { label: 'Contacted', value: 'Contacted' } });
    });

    it('reports a value the cached option set does not know, unless the formatted label is given', () => {
      assert.deepEqual(dynamicsToHubSpot(99, dvOpts, hsOpts), { unknown: 99 });
      assert.deepEqual(dynamicsToHubSpot(99, dvOpts, hsOpts, 'Open'), { value: 'OPEN' });
    });

    it('multi-selects per item, adding only the missing ones', () => {
      const r = dynamicsMultiToHubSpot([100000000, 100000001, 100000002], INTERESTS_DV.options!, INTERESTS_HS.options!);
      assert.deepEqual(r, { value: 'software;Hardware;Services', addOptions: [{ label: 'Services', value: 'Services' }], unknown: [] });
    });

    it('booleans by label, then by truth value (a bool property takes no new options)', () => {
      assert.deepEqual(dynamicsBoolToHubSpot(true, [{ value: 0, label: 'Allow' }, { value: 1, label: 'Do Not Allow' }], undefined), { value: 'true' });
      assert.deepEqual(dynamicsBoolToHubSpot(false, [{ value: 0, label: 'No' }, { value: 1, label: 'Yes' }], [{ value: 'false', label: 'No' }, { value: 'true', label: 'Yes' }]), { value: 'false' });
    });

    it('parses Dataverse multi-select forms', () => {
      assert.deepEqual(parseDynamicsMulti('100000000,100000002'), [100000000, 100000002]);
      assert.deepEqual(parseDynamicsMulti([1, 2, 2]), [1, 2]);
      assert.deepEqual(parseDynamicsMulti([{ Value: 3 }, { Value: 4 }]), [3, 4]);
      assert.deepEqual(parseDynamicsMulti(null), []);
      assert.deepEqual(parseDynamicsMulti(''), []);
    });
  });
});
