import assert from 'node:assert/strict';
import { parseInstant, toDynamicsValue, toHubSpotValue } from '../../../../server/src/sync/rules/values.ts';
import type { DynamicsAttributeMeta, HubSpotPropertyMeta } from '../../../../server/src/sync/rules/types.ts';

const hs = (name: string, type: HubSpotPropertyMeta['type']) => ({ name, type });
const dv = (logicalName: string, type: DynamicsAttributeMeta['type'], extra: Partial<DynamicsAttributeMeta> = {}): DynamicsAttributeMeta => ({ logicalName, type, ...extra });
const MIDNIGHT_2019_10_31 = 1572480000000;

describe('sync rules: values', () => {
  describe('HubSpot → Dataverse', () => {
    it('strings and memos, with a length check that says how to fix', () => {
      assert.deepEqual(toDynamicsValue('Ann', hs('firstname', 'string'), dv('firstname', 'String', { maxLength: 50 })), { ok: true, value: 'Ann' });
      const r = toDynamicsValue('x'.repeat(60), hs('firstname', 'string'), dv('firstname', 'String', { maxLength: 50 }));
      assert.equal(r.ok, false);
      assert.match(!r.ok ? r.error.message : '', /60 characters; Dynamics column firstname holds at most 50; shorten/);
    });

    it('numbers: integer, decimal, money; a non-number names the field and the fix', () => {
      assert.deepEqual(toDynamicsValue('250', hs('numberofemployees', 'number'), dv('numberofemployees', 'Integer')), { ok: true, value: 250 });
      assert.deepEqual(toDynamicsValue('1234.5', hs('annualrevenue', 'number'), dv('revenue', 'Money')), { ok: true, value: 1234.5 });
      assert.deepEqual(toDynamicsValue('0.25', hs('p', 'number'), dv('c', 'Double')), { ok: true, value: 0.25 });
      const many = toDynamicsValue('many', hs('numberofemployees', 'number'), dv('numberofemployees', 'Integer'));
      assert.deepEqual(many, {
        ok: false,
        error: { field: 'numberofemployees', code: 'not_a_number', message: "HubSpot property numberofemployees is 'many', which is not a number; change the value or the mapping" },
      });
      const frac = toDynamicsValue('2.5', hs('n', 'number'), dv('numberofemployees', 'Integer'));
      assert.equal(!frac.ok && frac.error.code, 'not_an_integer');
      const range = toDynamicsValue('-1', hs('n', 'number'), dv('numberofemployees', 'Integer', { minValue: 0, maxValue: 10 }));
      assert.equal(!range.ok && range.error.code, 'out_of_range');
    });

    it('booleans from "true"/"false"', () => {
      assert.deepEqual(toDynamicsValue('true', hs('b', 'bool'), dv('b', 'Boolean')), { ok: true, value: true });
      assert.deepEqual(toDynamicsValue('FALSE', hs('b', 'string'), dv('b', 'Boolean')), { ok: true, value: false });
      assert.equal(toDynamicsValue('sometimes', hs('b', 'string'), dv('b', 'Boolean')).ok, false);
    });

    it('HubSpot dates (midnight UTC ms or YYYY-MM-DD) and date-times (ISO) into date-only and date-time columns', () => {
      assert.deepEqual(toDynamicsValue(String(MIDNIGHT_2019_10_31), hs('d', 'date'), dv('d', 'DateTime', { dateOnly: true })), { ok: true, value: '2019-10-31' });
      assert.deepEqual(toDynamicsValue('2019-10-31', hs('d', 'date'), dv('d', 'DateTime')), { ok: true, value: '2019-10-31T00:00:00.000Z' });
      assert.deepEqual(toDynamicsValue('2024-03-05T14:30:00Z', hs('closedate', 'datetime'), dv('c', 'DateTime')), { ok: true, value: '2024-03-05T14:30:00.000Z' });
      assert.deepEqual(toDynamicsValue('2024-03-05T23:30:00-02:00', hs('closedate', 'datetime'), dv('c', 'DateTime', { dateOnly: true })), { ok: true, value: '2024-03-06' });
      const bad = toDynamicsValue('next week', hs('closedate', 'datetime'), dv('c', 'DateTime'));
      assert.match(!bad.ok ? bad.error.message : '', /'next week', which is not a date/);
    });

    it('a date into a text column reads as ISO, not ms', () => {
      assert.deepEqual(toDynamicsValue(String(MIDNIGHT_2019_10_31), hs('d', 'date'), dv('t', 'String')), { ok: true, value: '2019-10-31' });
    });

    it('refuses lookups and choices (handled elsewhere)', () => {
      assert.equal(toDynamicsValue('x', hs('p', 'string'), dv('parentaccountid', 'Lookup')).ok, false);
    });
  });

  describe('Dataverse → HubSpot', () => {
    it('text, numbers (no exponent), booleans', () => {
      assert.deepEqual(toHubSpotValue('Ann', dv('firstname', 'String'), hs('firstname', 'string')), { ok: true, value: 'Ann' });
      assert.deepEqual(toHubSpotValue(250, dv('n', 'Integer'), hs('numberofemployees', 'number')), { ok: true, value: '250' });
      assert.deepEqual(toHubSpotValue({ Value: 2154.32 }, dv('revenue', 'Money'), hs('annualrevenue', 'number')), { ok: true, value: '2154.32' });
      assert.deepEqual(toHubSpotValue(1e21, dv('revenue', 'Money'), hs('annualrevenue', 'number')), { ok: true, value: '1000000000000000000000' });
      assert.deepEqual(toHubSpotValue(true, dv('b', 'Boolean'), hs('b', 'bool')), { ok: true, value: 'true' });
      const bad = toHubSpotValue('lots', dv('c', 'String'), hs('numberofemployees', 'number'));
      assert.match(!bad.ok ? bad.error.message : '', /Dynamics column c is 'lots', which is not a number/);
    });

    it('dates: HubSpot date = midnight UTC ms, datetime = ISO', () => {
      assert.deepEqual(toHubSpotValue('2019-10-31', dv('d', 'DateTime', { dateOnly: true }), hs('renewal_date', 'date')), { ok: true, value: String(MIDNIGHT_2019_10_31) });
      assert.deepEqual(toHubSpotValue('2019-10-31T17:45:00Z', dv('d', 'DateTime'), hs('renewal_date', 'date')), { ok: true, value: String(MIDNIGHT_2019_10_31) });
      assert.deepEqual(toHubSpotValue('2019-10-31', dv('d', 'DateTime', { dateOnly: true }), hs('closedate', 'datetime')), { ok: true, value: '2019-10-31T00:00:00.000Z' });
      assert.deepEqual(toHubSpotValue('/Date(1572480000000)/', dv('d', 'DateTime'), hs('closedate', 'datetime')), { ok: true, value: '2019-10-31T00:00:00.000Z' });
    });

    it('text never goes into a dropdown', () => {
      const r = toHubSpotValue('Hot', dv('c', 'String'), hs('hs_lead_status', 'enumeration'));
      assert.equal(!r.ok && r.error.code, 'text_into_dropdown');
    });
  });

  it('parseInstant reads ms, ISO, dates and /Date()/', () => {
    assert.equal(parseInstant('1572480000000'), MIDNIGHT_2019_10_31);
    assert.equal(parseInstant('2019-10-31'), MIDNIGHT_2019_10_31);
    assert.equal(parseInstant('/Date(1572480000000-0700)/'), MIDNIGHT_2019_10_31);
    assert.equal(parseInstant('yesterday'), null);
  });
});
