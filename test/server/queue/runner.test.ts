import assert from 'node:assert/strict';
import type { Job } from '../../../server/src/store/repositories/jobs.ts';
import { ConnectorError } from '../../../server/src/connectors/errors.ts';
import { createMetrics } from '../../../server/src/observability/metrics.ts';
import { JobQueue } from '../../../server/src/queue/job-queue.ts';
import { QueueRunner, type JobProcessor } from '../../../server/src/queue/runner.ts';
import { backoffMs, decideRetry } from '../../../server/src/queue/retry.ts';
import { makeTenant, silent, sleep, sqliteStore, until, type TempStore } from '../http/harness.ts';

/** A worker written against the contract (`process(job)`), scripted per record id. */
function scriptedWorker(script: (job: Job, n: number) => Promise<void> | void) {
  const calls: Job[] = [];
  const worker: JobProcessor = {
    async process(job) {
      calls.push(job);
      await script(job, calls.filter((c) => c.recordId === job.recordId).length);
    },
  };
  return { worker, calls };
}

describe('queue retry policy', () => {
  it('backs off exponentially with ±20 % jitter, capped', () => {
    assert.equal(backoffMs(1, { baseMs: 1000, random: () => 0.5 }), 1000);
    assert.equal(backoffMs(3, { baseMs: 1000, random: () => 0.5 }), 4000);
    assert.equal(backoffMs(30, { baseMs: 1000, capMs: 60_000, random: () => 0.5 }), 60_000);
    assert.equal(backoffMs(1, { baseMs: 1000, random: () => 0 }), 800);
    assert.equal(backoffMs(1, { baseMs: 1000, random: () => 0.999999 }), 1200);
  });

  it('honours Retry-After, treats 4xx and terminal errors as final, retries unknown errors and auth failures', () => {
    const throttled = new ConnectorError({ system: 'hubspot', operation: 'read', status: 429, serviceMessage: 'slow down', retryAfterMs: 7000 });
    const d = decideRetry(throttled, 1, { baseMs: 30_000, random: () => 0 });
    assert.deepEqual([d.terminal, d.delayMs], [false, 7000]);
    assert.ok(decideRetry(throttled, 1, { random: () => 0.99 }).delayMs <= 7000 * 1.2);
    assert.equal(decideRetry(new ConnectorError({ system: 'dataverse', operation: 'write', status: 400, serviceMessage: 'bad' }), 1).terminal, true);
    assert.equal(decideRetry(Object.assign(new Error('tenant gone'), { terminal: true }), 1).terminal, true);
    assert.equal(decideRetry(new Error('boom'), 2, { baseMs: 100, random: () => 0.5 }).delayMs, 200);
    assert.equal(decideRetry(new ConnectorError({ system: 'hubspot', operation: 'read', status: 401, serviceMessage: 'expired' }), 1).terminal, false);
    assert.equal(decideRetry(new Error('line one\n    at stack'), 1).message, 'line one');
  });
});

describe('QueueRunner (SQLite)', function () {
  let t: TempStore;
  let tenantId: string;
  const runners: QueueRunner[] = [];

  beforeEach(async () => {
    t = await sqliteStore({ maxAttempts: 3 });
    tenantId = (await makeTenant(t.store)).tenant.id;
  });
  afterEach(async () => {
    for (const r of runners.splice(0)) await r.stop({ graceMs: 100 });
    await t.close();
  });

  function runner(worker: JobProcessor, o: Partial<ConstructorParameters<typeof QueueRunner>[0]> = {}) {
    const metrics = createMetrics();
    const queue = new JobQueue(t.store);
    const r = new QueueRunner({ store: t.store, worker, metrics, logger: silent, notifier: queue.notifier, pollIntervalMs: 20, backoff: { baseMs: 30 }, depthRefreshMs: 0, ...o });
    runners.push(r);
    return { r, metrics, queue };
  }
  const key = (recordId: string) => ({ tenantId, system: 'hubspot' as const, objectType: 'contacts', recordId });

  it('runs jobs concurrently up to the limit and deletes them on success', async () => {
    let running = 0;
    let peak = 0;
    const { worker, calls } = scriptedWorker(async () => {
      peak = Math.max(peak, ++running);
      await sleep(40);
      running--;
    });
    const { r, queue } = runner(worker, { concurrency: 3 });
    for (let i = 0; i < 9; i++) await queue.enqueue(key(String(i)));
    r.start();
    await until(async () => (await t.store.jobs.counts()).pending + (await t.store.jobs.counts()).active === 0 && calls.length === 9);
    assert.equal(peak, 3);
    assert.deepEqual(calls.map((c) => c.recordId).sort(), ['0', '1', '2', '3', '4', '5', '6', '7', '8']);
  });

  it('runs groupable jobs together (up to the group size, same kind only) and records each job\'s own result', async () => {
    const groups: string[][] = [];
    const singles: string[] = [];
    const worker: JobProcessor = {
      async process(job) {
        singles.push(job.recordId);
      },
      groupKey: (job) => (job.system === 'dynamics' ? `${job.tenantId}:${job.objectType}` : undefined),
      async processGroup(jobs) {
        groups.push(jobs.map((j) => `${j.objectType}:${j.recordId}`));
        return jobs.map((j) => (j.recordId === 'c7' ? new ConnectorError({ system: 'hubspot', operation: 'batch upsert', status: 400, serviceMessage: 'bad email' }) : undefined));
      },
    };
    const { r, queue } = runner(worker, { concurrency: 2, maxGroupSize: 10 });
    for (let i = 0; i < 25; i++) await queue.enqueue({ tenantId, system: 'dynamics', objectType: 'contact', recordId: `c${i}` });
    for (let i = 0; i < 3; i++) await queue.enqueue({ tenantId, system: 'dynamics', objectType: 'account', recordId: `a${i}` });
    await queue.enqueue(key('h1'));
    r.start();
    await until(async () => { const c = await t.store.jobs.counts(); return c.pending + c.active === 0; });
    assert.ok(groups.every((g) => g.length <= 10 && new Set(g.map((x) => x.split(':')[0])).size === 1), JSON.stringify(groups));
    const contacts = groups.flat().filter((x) => x.startsWith('contact:'));
    assert.equal(contacts.length + singles.filter((x) => x.startsWith('c')).length, 25, 'each contact job ran once');
    assert.ok(groups.filter((g) => g[0].startsWith('contact:')).length <= 4, 'the 25 contacts ran in few groups');
    assert.ok(singles.includes('h1'), 'an ungroupable job runs alone');
    const dead = await t.store.jobs.deadLetters(tenantId);
    assert.deepEqual(dead.map((j) => j.recordId), ['c7'], 'one failure in a group fails only its own job');
  });

  it('wakes at once on an in-process enqueue instead of waiting for the poll', async () => {
    const { worker, calls } = scriptedWorker(() => {});
    const { r, queue } = runner(worker, { pollIntervalMs: 60_000 });
    r.start();
    await sleep(50); // the runner is now asleep for a minute
    const started = Date.now();
    await queue.enqueue(key('wake'));
    await until(() => calls.length === 1, 2000, 5);
    assert.ok(Date.now() - started < 1000);
  });

  it('retries with the Retry-After delay, then dead-letters after the last attempt; replay runs it again', async () => {
    const { worker, calls } = scriptedWorker((job) => {
      if (job.trigger !== 'replay') throw new ConnectorError({ system: 'hubspot', operation: 'read contacts', status: 429, serviceMessage: 'limit', retryAfterMs: 300 });
    });
    const { r, metrics, queue } = runner(worker);
    const { jobId } = await queue.enqueue(key('r1'));
    r.start();
    await until(() => calls.length === 1);
    // After the first failure the job waits ≥ Retry-After (300 ms), not the 30 ms backoff.
    await until(async () => (await t.store.jobs.counts()).pending === 1);
    const [pending] = await t.store.db.kysely.selectFrom('jobs').selectAll().execute();
    assert.ok(pending.run_at - Date.now() > 150, `run_at ${pending.run_at - Date.now()} ms ahead`);
    assert.match(String(pending.last_error), /HTTP 429/);
    await until(() => calls.length === 3, 5000);
    await until(async () => (await t.store.jobs.deadLetters(tenantId)).length === 1);
    const [dead] = await t.store.jobs.deadLetters(tenantId);
    assert.equal(dead.attempts, 3);
    assert.equal((await metrics.retries.get()).values.find((v) => v.labels.system === 'hubspot')?.value, 2);
    assert.equal((await metrics.deadLetters.get()).values[0].value, 1);
    assert.ok(dead.id === jobId || dead.recordId === 'r1');

    assert.equal(await queue.replay(tenantId, dead.id), true);
    await until(() => calls.length === 4);
    await until(async () => { const c = await t.store.jobs.counts(); return c.pending + c.active + c.dead === 0; });
  });

  it('dead-letters a terminal failure at once', async () => {
    const { worker, calls } = scriptedWorker(() => {
      throw Object.assign(new Error('Tenant is not connected to Dynamics'), { terminal: true });
    });
    const { r, queue } = runner(worker);
    await queue.enqueue(key('t1'));
    r.start();
    await until(async () => (await t.store.jobs.deadLetters(tenantId)).length === 1);
    assert.equal(calls.length, 1);
    assert.match(String((await t.store.jobs.deadLetters(tenantId))[0].lastError), /not connected/);
  });

  it('keeps the lease of a long job alive', async () => {
    const { worker } = scriptedWorker(async () => { await sleep(600); });
    const { r, queue } = runner(worker, { leaseMs: 150 });
    await queue.enqueue(key('long'));
    r.start();
    await until(async () => (await t.store.jobs.counts()).active === 1);
    await sleep(400); // > 2 leases
    const [row] = await t.store.db.kysely.selectFrom('jobs').selectAll().execute();
    assert.equal(row.state, 'active');
    assert.ok(row.lease_until! > Date.now(), 'lease renewed');
    // A second runner on the same database finds nothing to claim.
    assert.deepEqual(await t.store.jobs.claim({ workerId: 'other', limit: 5 }), []);
    await until(async () => (await t.store.jobs.counts()).active === 0);
  });

  it('stop() waits for running jobs, and releases those that outlast the grace period', async () => {
    let finished = 0;
    const { worker, calls } = scriptedWorker(async (job) => {
      await sleep(job.recordId === 'slow' ? 2000 : 50);
      finished++;
    });
    const { r, queue } = runner(worker, { concurrency: 2 });
    await queue.enqueue(key('quick'));
    await queue.enqueue(key('slow'));
    r.start();
    await until(() => calls.length === 2);
    await r.stop({ graceMs: 300 });
    assert.equal(finished, 1, 'the quick job finished');
    const rows = await t.store.db.kysely.selectFrom('jobs').selectAll().execute();
    assert.equal(rows.length, 1);
    assert.equal(rows[0].record_id, 'slow');
    assert.equal(rows[0].state, 'pending', 'released back to the queue');
    assert.ok(rows[0].run_at <= Date.now());
    assert.match(String(rows[0].last_error), /shut down/);
  });
});
