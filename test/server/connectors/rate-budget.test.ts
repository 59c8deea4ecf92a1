import assert from 'node:assert/strict';
import { defaultLimitFor, MemoryCallLog, RollingRateBudget, type BudgetLimit, type CallLog } from '../../../server/src/connectors/rate-budget.ts';

describe('rate budget: call log and waiting', () => {
  it('the in-memory log counts calls in a sliding window and says how long until n more fit', () => {
    let now = 0;
    const log = new MemoryCallLog(() => now);
    const lim: BudgetLimit = { limit: 3, windowMs: 1_000 };
    assert.equal(log.spend('k', 2, lim), 0);
    now = 400;
    assert.equal(log.spend('k', 1, lim), 0);
    assert.equal(log.spend('other', 3, lim), 0, 'keys are independent');
    now = 500;
    assert.equal(log.spend('k', 1, lim), 500, 'the two calls at 0 leave at 1,000');
    assert.equal(log.spend('k', 3, lim), 900, 'three need the call at 400 gone too');
    now = 1_000;
    assert.equal(log.spend('k', 2, lim), 0);
  });

  it('sleeps as long as the log says instead of polling, serves one key first come first served, and caps the cost at the limit', async () => {
    const asked: Array<[string, number]> = [];
    let refuseNext = 1;
    const log: CallLog = {
      spend: async (key, n) => {
        asked.push([key, n]);
        return refuseNext-- > 0 ? 30 : 0;
      },
    };
    const budget = new RollingRateBudget(log, () => ({ limit: 5, windowMs: 1_000 }));
    const order: number[] = [];
    const t0 = Date.now();
    await Promise.all([budget.take('k', 9).then(() => order.push(1)), budget.take('k').then(() => order.push(2))]);
    assert.ok(Date.now() - t0 >= 25);
    assert.deepEqual(order, [1, 2]);
    assert.deepEqual(asked, [['k', 5], ['k', 5], ['k', 1]], 'one refusal, one retry after the wait, then the next taker');
    assert.deepEqual(budget.statsFor('k'), { taken: 2, waited: 1 });
  });

  it('the default limits are the documented ones', () => {
    // HubSpot's windows plus a margin for the time a call takes to arrive (HubSpot counts arrivals).
    assert.deepEqual(defaultLimitFor('hubspot:1'), { limit: 110, windowMs: 10_500 });
    assert.deepEqual(defaultLimitFor('hubspot:1:search'), { limit: 5, windowMs: 1_100 });
    assert.deepEqual(defaultLimitFor('dataverse:https://org.crm.dynamics.com'), { limit: 6_000, windowMs: 300_000 });
    assert.equal(defaultLimitFor('other'), undefined);
  });
});
