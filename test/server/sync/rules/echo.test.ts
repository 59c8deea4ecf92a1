import assert from 'node:assert/strict';
import { dropEchoes, fieldHash, isOwnDataverseChange, isOwnHubSpotChange, normaliseForHash, shadowOf } from '../../../../server/src/sync/rules/echo.ts';

describe('sync rules: echo', () => {
  it('hashes are sha256 hex and stable across key order', () => {
    assert.match(fieldHash('x'), /^[0-9a-f]{64}$/);
    assert.equal(fieldHash({ a: 1, b: [2, 3] }), fieldHash({ b: [3, 2], a: 1 }));
    assert.notEqual(fieldHash({ a: 1 }), fieldHash({ a: 2 }));
  });

  it('numbers and numeric strings hash alike; leading zeros stay text', () => {
    assert.equal(fieldHash(1234.5), fieldHash('1234.50'));
    assert.equal(fieldHash(40), fieldHash('40'));
    assert.equal(fieldHash({ Value: 2154.32 }), fieldHash(2154.32), 'Money from a webhook context');
    assert.notEqual(fieldHash('007'), fieldHash(7));
  });

  it('booleans, dates, blanks, trimming, multi-select order', () => {
    assert.equal(fieldHash(true), fieldHash('true'));
    assert.equal(fieldHash('1572480000000'), fieldHash('2019-10-31'), 'HubSpot date written as ms, read back as a date');
    assert.equal(fieldHash('2019-10-31T00:00:00Z'), fieldHash('2019-10-31T00:00:00.000Z'));
    assert.equal(fieldHash(''), fieldHash(null));
    assert.equal(fieldHash(' Ann '), fieldHash('Ann'));
    assert.notEqual(fieldHash('Ann'), fieldHash('ann'));
    assert.equal(fieldHash('Ann', { caseInsensitive: true }), fieldHash('ann', { caseInsensitive: true }));
    assert.equal(fieldHash([100000001, 100000000]), fieldHash([100000000, 100000001]));
    assert.deepEqual(normaliseForHash({ '@odata.etag': 'W/"1"', x: '5' }), { x: 5 });
  });

  it('dropEchoes removes fields equal to the shadow and keeps real changes', () => {
    const shadow = shadowOf({ firstname: 'Ann', numberofemployees: 40, email: 'Ann@X.com' });
    const { fields, dropped } = dropEchoes({ firstname: 'Ann', numberofemployees: '40', email: 'ann@x.com', lastname: 'Lee' }, shadow);
    assert.deepEqual(fields, { lastname: 'Lee' });
    assert.deepEqual(dropped.sort(), ['email', 'firstname', 'numberofemployees']);
    assert.deepEqual(dropEchoes({ firstname: 'Anna' }, shadow).fields, { firstname: 'Anna' });
    assert.deepEqual(dropEchoes({ firstname: 'Ann' }, {}).fields, { firstname: 'Ann' }, 'no shadow: never dropped');
  });

  it('recognises our own HubSpot changes', () => {
    assert.equal(isOwnHubSpotChange({ changeSource: 'INTEGRATION', sourceId: '12345' }, 12345), true);
    assert.equal(isOwnHubSpotChange({ changeSource: 'INTEGRATION', sourceId: '999' }, 12345), false, 'another integration');
    assert.equal(isOwnHubSpotChange({ changeSource: 'CRM_UI', sourceId: '12345' }, '12345'), false);
    assert.equal(isOwnHubSpotChange({ changeSource: 'INTEGRATION' }, '12345'), false);
  });

  it('recognises our own Dataverse changes by initiating user', () => {
    const me = 'AAAAAAAA-1111-4222-8333-BBBBBBBBBBBB';
    assert.equal(isOwnDataverseChange({ InitiatingUserId: '{aaaaaaaa-1111-4222-8333-bbbbbbbbbbbb}' }, me), true);
    assert.equal(isOwnDataverseChange({ InitiatingUserId: 'cccccccc-1111-4222-8333-bbbbbbbbbbbb' }, me), false);
    assert.equal(isOwnDataverseChange({}, me), false);
  });
});
