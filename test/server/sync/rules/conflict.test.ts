import assert from 'node:assert/strict';
import { decideField, resolveConflicts } from '../../../../server/src/sync/rules/conflict.ts';

describe('sync rules: conflict', () => {
  it('one-way fields flow only their way', () => {
    assert.equal(decideField({ field: 'x', direction: 'toDynamics', way: 'toHubSpot' }).apply, false);
    const d = decideField({ field: 'x', direction: 'toDynamics', way: 'toDynamics', sourceModifiedAt: 1, targetModifiedAt: 5 });
    assert.equal(d.apply, true, 'a one-way field ignores the clocks');
    assert.match(decideField({ field: 'x', direction: 'toDynamics', way: 'toHubSpot' }).reason, /HubSpot → Dynamics only/);
  });

  it('two-way fields: newest change wins, ties go to the source, reasons are loggable', () => {
    const newer = decideField({ field: 'jobtitle', direction: 'both', way: 'toDynamics', sourceModifiedAt: '2024-01-02T00:00:00Z', targetModifiedAt: '2024-01-01T00:00:00Z' });
    assert.equal(newer.apply, true);
    const older = decideField({ field: 'jobtitle', direction: 'both', way: 'toDynamics', sourceModifiedAt: Date.parse('2024-01-01T00:00:00Z'), targetModifiedAt: new Date('2024-01-02T00:00:00Z') });
    assert.equal(older.apply, false);
    assert.equal(older.reason, 'jobtitle: target changed at 2024-01-02T00:00:00.000Z, after the source (2024-01-01T00:00:00.000Z); newest wins, target kept');
    assert.equal(decideField({ field: 'f', direction: 'both', way: 'toHubSpot', sourceModifiedAt: 5, targetModifiedAt: 5 }).apply, true);
    assert.equal(decideField({ field: 'f', direction: 'both', way: 'toHubSpot', sourceModifiedAt: '1700000000000', targetModifiedAt: 1 }).apply, true);
  });

  it('a target that only we changed never blocks the source', () => {
    const d = decideField({ field: 'f', direction: 'both', way: 'toHubSpot', sourceModifiedAt: 1, targetModifiedAt: 9, targetUnchangedSinceOurWrite: true });
    assert.equal(d.apply, true);
  });

  it('unknown times: the source wins', () => {
    assert.equal(decideField({ field: 'f', direction: 'both', way: 'toHubSpot', sourceModifiedAt: 1 }).apply, true);
    assert.equal(decideField({ field: 'f', direction: 'both', way: 'toHubSpot', targetModifiedAt: 1 }).apply, true);
  });

  it('resolveConflicts keeps the winners and logs every decision', () => {
    const r = resolveConflicts({ a: 1, b: 2, c: 3 }, (f) => ({
      direction: f === 'c' ? 'toHubSpot' : 'both', way: 'toDynamics', sourceModifiedAt: 10, targetModifiedAt: f === 'a' ? 5 : 20,
    }));
    assert.deepEqual(r.fields, { a: 1 });
    assert.equal(r.decisions.length, 3);
  });
});
