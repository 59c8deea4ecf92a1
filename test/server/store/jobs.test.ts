import assert from 'node:assert/strict';
import type { JobKey } from '../../../server/src/store/repositories/jobs.ts';
import { retryDelayMs } from '../../../server/src/store/backoff.ts';
import { forEachDialect } from './harness.ts';

const MAX = 3;

forEachDialect(
  'store: jobs',
  (h) => {
    let tenantId: string;
    const key = (recordId: string, over: Partial<JobKey> = {}): JobKey => ({ tenantId, system: 'hubspot', objectType: 'contacts', recordId, ...over });
    beforeEach(async () => {
      tenantId = (await h().store.tenants.create()).id;
    });

    it('enqueueMany queues a list in order, once per record, merging into jobs already pending', async () => {
      const { store } = h();
      await store.jobs.enqueue(key('r1'));
      const ids = Array.from({ length: 1200 }, (_, i) => `r${i}`);
      assert.deepEqual(await store.jobs.enqueueMany([...ids, 'r5', 'r6'].map((id) => ({ ...key(id), trigger: 'resync' }))), { enqueued: 1199, coalesced: 1 });
      assert.equal((await store.jobs.counts(tenantId)).pending, 1200);
      const first = await store.jobs.claim({ workerId: 'w', tenantId, limit: 3 });
      assert.deepEqual(first.map((j) => j.recordId), ['r1', 'r0', 'r2']);
    });

    it('coalesces repeated enqueues of one record into one pending job, keeping its queue position', async () => {
      const { store, now } = h();
      const a = await store.jobs.enqueue(key('1'));
      now.value += 10;
      await store.jobs.enqueue(key('2'));
      now.value += 10;
      const again = await store.jobs.enqueue({ ...key('1'), trigger: 'poll' });
      assert.deepEqual(again, { jobId: a.jobId, coalesced: true });
      assert.equal(a.coalesced, false);
      // Same record id under another system or object is a different job.
      assert.equal((await store.jobs.enqueue(key('1', { system: 'dynamics', objectType: 'contact' }))).coalesced, false);
      assert.equal((await store.jobs.counts(tenantId)).pending, 3);
      const [first] = await store.jobs.claim({ workerId: 'w', tenantId });
      assert.equal(first.recordId, '1');
      assert.equal(first.coalescedCount, 1);
      assert.equal(first.trigger, 'poll');
    });

    it('hands jobs out FIFO per tenant and only when due', async () => {
      const { store, now } = h();
      const other = (await store.tenants.create()).id;
      for (const id of ['a', 'b', 'c']) {
        await store.jobs.enqueue(key(id));
        await store.jobs.enqueue({ ...key(id), tenantId: other });
        now.value += 1;
      }
      await store.jobs.enqueue({ ...key('later'), runAt: now.value + 60_000 });
      const got = await store.jobs.claim({ workerId: 'w', tenantId, limit: 10 });
      assert.deepEqual(got.map((j) => j.recordId), ['a', 'b', 'c']);
      assert.ok(got.every((j) => j.tenantId === tenantId && j.state === 'active' && j.attempts === 1));
      const rest = await store.jobs.claim({ workerId: 'w', limit: 10 });
      assert.deepEqual(rest.map((j) => `${j.tenantId === other}:${j.recordId}`), ['true:a', 'true:b', 'true:c']);
      now.value += 60_000;
      assert.deepEqual((await store.jobs.claim({ workerId: 'w', tenantId })).map((j) => j.recordId), ['later']);
    });

    it('a change arriving while its record runs waits for that run, then runs once', async () => {
      const { store } = h();
      await store.jobs.enqueue(key('1'));
      const [running] = await store.jobs.claim({ workerId: 'w1', tenantId });
      const trailing = await store.jobs.enqueue(key('1'));
      assert.equal(trailing.coalesced, false, 'a new pending job, not merged into the active one');
      assert.equal((await store.jobs.enqueue(key('1'))).coalesced, true);
      assert.deepEqual(await store.jobs.claim({ workerId: 'w2', tenantId }), [], 'same record must not run twice at once');
      assert.equal(await store.jobs.complete(running.id, 'w1'), true);
      const [next] = await store.jobs.claim({ workerId: 'w2', tenantId });
      assert.equal(next.id, trailing.jobId);
    });

    it('lease expiry makes a job claimable again; the old holder can no longer complete it', async () => {
      const { store, now } = h();
      await store.jobs.enqueue(key('1'));
      const [job] = await store.jobs.claim({ workerId: 'dead-worker', tenantId, leaseMs: 30_000 });
      now.value += 29_999;
      assert.deepEqual(await store.jobs.claim({ workerId: 'w2', tenantId }), []);
      assert.equal(await store.jobs.extendLease(job.id, 'dead-worker', 30_000), true);
      now.value += 30_000;
      const [again] = await store.jobs.claim({ workerId: 'w2', tenantId, leaseMs: 30_000 });
      assert.equal(again.id, job.id);
      assert.equal(again.attempts, 2);
      assert.equal(again.leaseOwner, 'w2');
      assert.equal(await store.jobs.complete(job.id, 'dead-worker'), false);
      assert.equal(await store.jobs.extendLease(job.id, 'dead-worker', 1), false);
      assert.equal(await store.jobs.complete(job.id, 'w2'), true);
      assert.equal((await store.jobs.counts(tenantId)).active, 0);
    });

    it('fail retries with backoff (or Retry-After), then dead-letters after maxAttempts; replay requeues', async () => {
      const { store, now } = h();
      assert.equal(store.jobs.maxAttempts, MAX);
      const { jobId } = await store.jobs.enqueue(key('1'));
      let [j] = await store.jobs.claim({ workerId: 'w', tenantId });
      assert.equal(await store.jobs.fail(j.id, 'w', 'HTTP 503'), 'retry');
      let stored = await store.jobs.get(tenantId, jobId);
      assert.equal(stored?.state, 'pending');
      assert.equal(stored?.runAt, now.value + 1000, 'backoff(1) = 1 s in this suite');
      assert.equal(stored?.lastError, 'HTTP 503');
      assert.deepEqual(await store.jobs.claim({ workerId: 'w', tenantId }), [], 'not before its retry time');
      now.value += 1000;
      [j] = await store.jobs.claim({ workerId: 'w', tenantId });
      assert.equal(await store.jobs.fail(j.id, 'w', '429', { retryAt: now.value + 10_000 }), 'retry');
      assert.equal((await store.jobs.get(tenantId, jobId))?.runAt, now.value + 10_000);
      now.value += 10_000;
      [j] = await store.jobs.claim({ workerId: 'w', tenantId });
      assert.equal(j.attempts, MAX);
      assert.equal(await store.jobs.fail(j.id, 'w', 'still 503'), 'dead');
      assert.equal(await store.jobs.fail(j.id, 'w', 'again'), 'lost');
      const dead = await store.jobs.deadLetters(tenantId);
      assert.deepEqual(dead.map((d) => [d.id, d.state, d.lastError]), [[jobId, 'dead', 'still 503']]);
      assert.deepEqual(await store.jobs.claim({ workerId: 'w', tenantId }), []);
      // A dead job does not block new work for the record.
      assert.equal((await store.jobs.enqueue(key('1'))).coalesced, false);

      assert.equal(await store.jobs.replay(tenantId, jobId), true);
      assert.equal(await store.jobs.replay('other-tenant', jobId), false);
      assert.equal((await store.jobs.deadLetters(tenantId)).length, 0);
      const counts = await store.jobs.counts(tenantId);
      assert.equal(counts.pending, 1, 'replay merged into the pending job of the same record');
      [j] = await store.jobs.claim({ workerId: 'w', tenantId });
      assert.equal(j.attempts, 1, 'fresh attempts after replay');
      assert.equal(j.trigger, 'replay');
    });

    it('terminal failures dead-letter at once; replayAll requeues every dead job of the tenant', async () => {
      const { store } = h();
      for (const id of ['1', '2']) await store.jobs.enqueue(key(id));
      for (const j of await store.jobs.claim({ workerId: 'w', tenantId, limit: 2 })) {
        assert.equal(await store.jobs.fail(j.id, 'w', 'mapping: unknown field', { terminal: true }), 'dead');
      }
      assert.equal(await store.jobs.replayAll(tenantId), 2);
      assert.deepEqual((await store.jobs.counts(tenantId)), { pending: 2, active: 0, dead: 0, due: 2 });
    });

    it('a retry merges into a change that arrived while the job ran (no duplicate pending job)', async () => {
      const { store, now } = h();
      const t0 = now.value;
      await store.jobs.enqueue(key('1'));
      const [j] = await store.jobs.claim({ workerId: 'w', tenantId });
      now.value += 50;
      await store.jobs.enqueue(key('1'));
      assert.equal(await store.jobs.fail(j.id, 'w', 'boom'), 'retry');
      const all = await store.db.kysely.selectFrom('jobs').selectAll().where('tenant_id', '=', tenantId).execute();
      assert.equal(all.length, 1);
      assert.equal(all[0].attempts, 1, 'attempts carried over');
      assert.equal(all[0].run_at, now.value + 1000, 'backoff wins over "due now"');
      assert.equal(all[0].enqueued_at, t0, 'keeps the older queue position');
      assert.equal(all[0].last_error, 'boom');
    });

    it('a job whose lease keeps expiring is dead-lettered instead of crashing workers forever', async () => {
      const { store, now } = h();
      const { jobId } = await store.jobs.enqueue(key('poison'));
      for (let i = 0; i < MAX; i++) {
        assert.equal((await store.jobs.claim({ workerId: `w${i}`, tenantId, leaseMs: 1000 })).length, 1);
        now.value += 1000;
      }
      assert.deepEqual(await store.jobs.claim({ workerId: 'w', tenantId }), []);
      const [dead] = await store.jobs.deadLetters(tenantId);
      assert.equal(dead.id, jobId);
      assert.match(dead.lastError ?? '', /lease expired/);
    });

    it('concurrent claimers (separate connections/processes) never get the same job', async function () {
      const { store, dialect } = h();
      const n = 200;
      for (let i = 0; i < n; i++) await store.jobs.enqueue(key(String(i)));
      const others = dialect === 'postgres' ? [await h().openAnother(), await h().openAnother()] : [];
      const stores = [store, ...others];
      const seen = new Map<number, string>();
      // Eight workers spread over the stores (PostgreSQL: three pools = three "processes"), claiming in small batches.
      await Promise.all(
        Array.from({ length: 8 }, async (_, w) => {
          const s = stores[w % stores.length];
          for (;;) {
            const jobs = await s.jobs.claim({ workerId: `w${w}`, tenantId, limit: 3, leaseMs: 60_000 });
            if (jobs.length === 0) return;
            for (const j of jobs) {
              assert.equal(seen.has(j.id), false, `job ${j.id} claimed by ${seen.get(j.id)} and w${w}`);
              seen.set(j.id, `w${w}`);
              assert.equal(await s.jobs.complete(j.id, `w${w}`), true);
            }
          }
        }),
      );
      assert.equal(seen.size, n);
      if (dialect === 'postgres') assert.ok(new Set(seen.values()).size > 1, 'work was spread over workers');
      assert.equal((await store.jobs.counts(tenantId)).pending, 0);
    });

    it('enqueue from many concurrent callers still leaves exactly one pending job per record', async () => {
      const { store, dialect } = h();
      const stores = dialect === 'postgres' ? [store, await h().openAnother()] : [store];
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => stores[i % stores.length].jobs.enqueue(key('hot'))));
      assert.equal(new Set(results.map((r) => r.jobId)).size, 1);
      assert.equal(results.filter((r) => !r.coalesced).length, 1);
      assert.equal((await store.jobs.counts(tenantId)).pending, 1);
    });
  },
  { maxAttempts: MAX, backoff: () => 1000 },
);

describe('store: retry backoff', () => {
  it('grows exponentially from 30 s, caps at 1 h, jitters ±20 %', () => {
    const mid = () => 0.5;
    assert.equal(retryDelayMs(1, { random: mid }), 30_000);
    assert.equal(retryDelayMs(2, { random: mid }), 60_000);
    assert.equal(retryDelayMs(20, { random: mid }), 3_600_000);
    assert.equal(retryDelayMs(1, { random: () => 0 }), 24_000);
    assert.equal(retryDelayMs(1, { random: () => 0.999999 }), 36_000);
  });
});
