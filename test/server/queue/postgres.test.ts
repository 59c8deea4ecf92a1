import assert from 'node:assert/strict';
import type { Store } from '../../../server/src/store/index.ts';
import { createMetrics } from '../../../server/src/observability/metrics.ts';
import { JobQueue } from '../../../server/src/queue/job-queue.ts';
import { QueueRunner, type JobProcessor } from '../../../server/src/queue/runner.ts';
import { makeTenant, scratchPostgres, silent, sleep, until } from '../http/harness.ts';

describe('QueueRunner: two processes on one PostgreSQL', function () {
  this.timeout(60_000);
  let pg: Awaited<ReturnType<typeof scratchPostgres>>;
  let a: Store;
  let b: Store;
  let tenantId: string;

  before(async () => {
    pg = await scratchPostgres();
    a = await pg.open();
    b = await pg.open();
    tenantId = (await makeTenant(a)).tenant.id;
  });
  after(async () => pg?.drop());

  it('never runs one job in two places at once, and runs every job exactly once', async () => {
    const running = new Set<string>();
    const runs = new Map<string, number>();
    const overlaps: string[] = [];
    const byRunner = { A: 0, B: 0 };
    const worker = (name: 'A' | 'B'): JobProcessor => ({
      async process(job) {
        const k = job.recordId;
        if (running.has(k)) overlaps.push(k);
        running.add(k);
        runs.set(k, (runs.get(k) ?? 0) + 1);
        byRunner[name]++;
        await sleep(5 + Math.random() * 10);
        running.delete(k);
      },
    });
    const make = (store: Store, name: 'A' | 'B') =>
      new QueueRunner({ store, worker: worker(name), metrics: createMetrics(), logger: silent, concurrency: 4, pollIntervalMs: 10, depthRefreshMs: 0, workerId: name });
    const ra = make(a, 'A');
    const rb = make(b, 'B');
    const qa = new JobQueue(a, { notifier: ra.notifier });
    const N = 120;
    ra.start();
    rb.start();
    for (let i = 0; i < N; i++) await qa.enqueue({ tenantId, system: 'dynamics', objectType: 'contact', recordId: `r${i}` });
    await until(async () => runs.size === N && (await a.jobs.counts()).active + (await a.jobs.counts()).pending === 0, 30_000);
    await Promise.all([ra.stop(), rb.stop()]);
    assert.deepEqual(overlaps, []);
    assert.equal([...runs.values()].filter((n) => n !== 1).length, 0, 'each job ran once');
    assert.ok(byRunner.A > 0 && byRunner.B > 0, `both processes worked (${JSON.stringify(byRunner)})`);
  });

  it('a record enqueued again while its job runs waits, then runs once more (never concurrently)', async () => {
    let active = 0;
    let peak = 0;
    let count = 0;
    const worker: JobProcessor = {
      async process() {
        peak = Math.max(peak, ++active);
        count++;
        await sleep(150);
        active--;
      },
    };
    const ra = new QueueRunner({ store: a, worker, metrics: createMetrics(), logger: silent, pollIntervalMs: 10, depthRefreshMs: 0, leaseMs: 90 });
    const rb = new QueueRunner({ store: b, worker, metrics: createMetrics(), logger: silent, pollIntervalMs: 10, depthRefreshMs: 0, leaseMs: 90 });
    const q = new JobQueue(a);
    const key = { tenantId, system: 'hubspot' as const, objectType: 'deals', recordId: 'hot' };
    await q.enqueue(key);
    ra.start();
    rb.start();
    await until(() => count === 1);
    // Two more events for the record while it runs (lease 90 ms < job 150 ms: renewal keeps it ours).
    await q.enqueue(key);
    await q.enqueue(key);
    await until(async () => count === 2 && (await a.jobs.counts()).pending + (await a.jobs.counts()).active === 0, 10_000);
    await sleep(100);
    await Promise.all([ra.stop(), rb.stop()]);
    assert.equal(peak, 1);
    assert.equal(count, 2, 'the two later events coalesced into one run');
  });
});
