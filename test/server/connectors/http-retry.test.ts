import assert from 'node:assert/strict';
import { ConnectorError, classifyStatus, parseExistingId, parseRetryAfter } from '../../../server/src/connectors/errors.ts';
import { callWithRetry, retryDelayMs, retryPolicy } from '../../../server/src/connectors/http-retry.ts';
import { InMemoryRateBudget } from '../../../server/src/connectors/rate-budget.ts';

const err = (status: number | 'network', extra: Partial<ConstructorParameters<typeof ConnectorError>[0]> = {}) =>
  new ConnectorError({ system: 'hubspot', operation: 'read contacts', record: 'contacts/1', status, serviceMessage: 'boom', ...extra });

describe('connector retry policy, errors and budget', () => {
  it('classifies statuses', () => {
    assert.deepEqual([429, 500, 502, 503, 'network' as const, 401, 400, 404, 409].map(classifyStatus),
      ['retryable', 'retryable', 'retryable', 'retryable', 'retryable', 'auth', 'permanent', 'permanent', 'permanent']);
    assert.equal(parseRetryAfter('2'), 2000);
    assert.equal(parseExistingId('Contact already exists. Existing ID: 4711'), '4711');
  });

  it('waits what the service asks (Retry-After, policyName) and backs off exponentially otherwise', () => {
    const p = retryPolicy({ random: () => 0.5, baseDelayMs: 100, maxDelayMs: 1_000 });
    assert.equal(retryDelayMs(err(429, { retryAfterMs: 2_000 }), 1, p), 2_200);
    assert.equal(retryDelayMs(err(429, { policyName: 'TEN_SECONDLY_ROLLING' }), 1, p), 11_000);
    assert.equal(retryDelayMs(err(429, { policyName: 'SECONDLY' }), 3, p), 1_100);
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => retryDelayMs(err(502), n, p)), [75, 150, 300, 600, 750]);
  });

  it('stops after maxAttempts, never retries permanent errors, and hands long Retry-After back to the caller', async () => {
    const opts = (policy = retryPolicy({ maxAttempts: 3, baseDelayMs: 1 })) => ({
      system: 'hubspot' as const, operation: 'x', budget: new InMemoryRateBudget(() => undefined), budgetKey: 'k', policy, toError: (e: unknown) => e as ConnectorError,
    });
    let n = 0;
    await assert.rejects(callWithRetry(opts(), async () => { n++; throw err(503); }), /HTTP 503: boom \(retryable\)/);
    assert.equal(n, 3);
    n = 0;
    await assert.rejects(callWithRetry(opts(), async () => { n++; throw err(400); }), /not retryable/);
    assert.equal(n, 1);
    n = 0;
    await assert.rejects(callWithRetry(opts(), async () => { n++; throw err(429, { retryAfterMs: 300_000 }); }), (e: ConnectorError) => e.retryAfterMs === 300_000);
    assert.equal(n, 1);
  });

  it('budget: at most `limit` takes per window, first come first served', async () => {
    let now = 0;
    const budget = new InMemoryRateBudget(() => ({ limit: 2, windowMs: 1_000 }), () => now);
    const order: number[] = [];
    const takes = [1, 2, 3].map((i) => budget.take('k').then(() => order.push(i)));
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(order, [1, 2], 'third waits');
    now = 1_001;
    await Promise.all(takes);
    assert.deepEqual(order, [1, 2, 3]);
    assert.deepEqual(budget.statsFor('k'), { taken: 3, waited: 1 });
  });
});
