import { sql, type Insertable, type Kysely, type Selectable, type SelectQueryBuilder, type Transaction } from 'kysely';
import type { Database, JobState, JobsTable, SystemName } from '../schema.ts';
import type { DialectName } from '../database.ts';
import type { Clock } from '../clock.ts';
import { retryDelayMs } from '../backoff.ts';

/**
 * The sync queue, as a table. A job is only a key — the worker re-reads the record — so repeated events for
 * one record coalesce into one pending job, and retries can never re-apply stale data.
 *
 * Life of a job: pending (due at run_at) → active (leased to one worker until lease_until) → deleted on
 * success | pending again with backoff on failure | dead after maxAttempts (replayable). A lease that runs out
 * (worker killed) makes the job claimable again. At most one job per record runs at a time: a pending job waits
 * while the same record has an active one.
 */

export interface JobKey {
  tenantId: string;
  system: SystemName;
  objectType: string;
  recordId: string;
}

export interface Job extends JobKey {
  id: number;
  state: JobState;
  trigger: string;
  enqueuedAt: number;
  lastEnqueuedAt: number;
  coalescedCount: number;
  runAt: number;
  attempts: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
  lastError: string | null;
  deadAt: number | null;
}

export interface JobsOptions {
  /** Attempts (claims) before a failing job is dead-lettered. */
  maxAttempts?: number;
  backoff?: (attempt: number) => number;
}

export type FailOutcome = 'retry' | 'dead' | 'lost';

const KEY = ['tenant_id', 'system', 'object_type', 'record_id'] as const;

function toJob(r: Selectable<JobsTable>): Job {
  return {
    id: r.id, tenantId: r.tenant_id, system: r.system, objectType: r.object_type, recordId: r.record_id, state: r.state,
    trigger: r.trigger, enqueuedAt: r.enqueued_at, lastEnqueuedAt: r.last_enqueued_at, coalescedCount: r.coalesced_count,
    runAt: r.run_at, attempts: r.attempts, leaseOwner: r.lease_owner, leaseUntil: r.lease_until, lastError: r.last_error, deadAt: r.dead_at,
  };
}

export class JobsRepository {
  readonly maxAttempts: number;
  private readonly backoff: (attempt: number) => number;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: DialectName,
    private readonly clock: Clock,
    options: JobsOptions = {},
  ) {
    this.maxAttempts = options.maxAttempts ?? 8;
    this.backoff = options.backoff ?? ((a) => retryDelayMs(a));
  }

  /**
   * Inserts a pending job, or merges into the record's pending one. The single statement relies on the partial
   * unique index (one pending per key), so concurrent enqueues from several processes cannot make two.
   *
   * Merge rules (shared by enqueue, retry and replay): keep the older queue position (FIFO), keep the higher
   * attempt count (a record that keeps failing still reaches the dead letters), and take the earlier run time —
   * except for a retry, whose backoff wins (`runAt: 'latest'`).
   */
  private upsertPending(db: Kysely<Database>, rows: Array<Insertable<JobsTable>>, runAt: 'earliest' | 'latest') {
    const ex = (c: string) => sql.ref(`excluded.${c}`);
    const cur = (c: string) => sql.ref(`jobs.${c}`);
    const pick = (c: string, op: '<' | '>') => sql<number>`case when ${ex(c)} ${sql.raw(op)} ${cur(c)} then ${ex(c)} else ${cur(c)} end`;
    return db
      .insertInto('jobs')
      .values(rows.map((row) => ({ ...row, state: 'pending' as const, lease_owner: null, lease_until: null, dead_at: null })))
      .onConflict((oc) =>
        oc
          .columns([...KEY])
          .where('state', '=', sql.lit('pending'))
          .doUpdateSet({
            run_at: pick('run_at', runAt === 'earliest' ? '<' : '>'),
            enqueued_at: pick('enqueued_at', '<'),
            last_enqueued_at: pick('last_enqueued_at', '>'),
            attempts: pick('attempts', '>'),
            trigger: sql.ref('excluded.trigger'),
            last_error: sql`coalesce(${ex('last_error')}, ${cur('last_error')})`,
            coalesced_count: sql`${cur('coalesced_count')} + 1`,
          }),
      )
      .returning(['id', 'coalesced_count'])
      .execute();
  }

  private newRow(key: JobKey & { trigger?: string; runAt?: number }, now: number): Insertable<JobsTable> {
    return {
      tenant_id: key.tenantId, system: key.system, object_type: key.objectType, record_id: key.recordId,
      state: 'pending', trigger: key.trigger ?? 'event', enqueued_at: now, last_enqueued_at: now, coalesced_count: 0,
      run_at: key.runAt ?? now, attempts: 0, last_error: null,
    };
  }

  async enqueue(key: JobKey & { trigger?: string; runAt?: number }): Promise<{ jobId: number; coalesced: boolean }> {
    const [r] = await this.upsertPending(this.db, [this.newRow(key, this.clock())], 'earliest');
    return { jobId: r.id, coalesced: r.coalesced_count > 0 };
  }

  /**
   * `enqueue` for many records (a resync), 500 per statement. A record named twice in the list is queued once;
   * `coalesced` counts records that already had a pending job.
   */
  async enqueueMany(keys: Array<JobKey & { trigger?: string; runAt?: number }>): Promise<{ enqueued: number; coalesced: number }> {
    const now = this.clock();
    // One statement may not merge into the same row twice (PostgreSQL refuses), so repeats collapse first.
    const unique = [...new Map(keys.map((k) => [`${k.tenantId}\u0000${k.system}\u0000${k.objectType}\u0000${k.recordId}`, k])).values()];
    let coalesced = 0;
    for (let i = 0; i < unique.length; i += 500) {
      const rows = await this.upsertPending(this.db, unique.slice(i, i + 500).map((k) => this.newRow(k, now)), 'earliest');
      coalesced += rows.filter((r) => r.coalesced_count > 0).length;
    }
    return { enqueued: unique.length - coalesced, coalesced };
  }

  /**
   * Leases up to `limit` due jobs to `workerId`, oldest first. PostgreSQL: `FOR UPDATE SKIP LOCKED`, so
   * concurrent claimers in any number of processes take disjoint jobs without waiting on each other. SQLite:
   * the transaction holds the single write lock (one connection per process), which serialises claimers.
   */
  async claim(o: { workerId: string; limit?: number; leaseMs?: number; tenantId?: string; system?: SystemName; objectType?: string }): Promise<Job[]> {
    const now = this.clock();
    const leaseMs = o.leaseMs ?? 5 * 60_000;
    const pg = this.dialect === 'postgres';
    const jobs = await this.db.transaction().execute(async (trx) => {
      await this.buryExhaustedLeases(trx, now);

      const limit = o.limit ?? 1;
      // Two plain ordered scans instead of one OR: each can walk its index in queue order and stop at the limit,
      // which keeps a claim cheap however long the backlog (a resync queues tens of thousands of jobs).
      const scoped = (q: SelectQueryBuilder<Database & { j: JobsTable }, 'j', { id: number }>) => {
        let r = q.orderBy('j.enqueued_at').orderBy('j.id');
        if (o.tenantId !== undefined) r = r.where('j.tenant_id', '=', o.tenantId);
        if (o.system !== undefined) r = r.where('j.system', '=', o.system);
        if (o.objectType !== undefined) r = r.where('j.object_type', '=', o.objectType);
        return pg ? r.forUpdate().skipLocked() : r;
      };
      // A lease that ran out means its worker died or hung: the job is anyone's again.
      const expired = await scoped(trx.selectFrom('jobs as j').select('j.id').where('j.state', '=', 'active').where('j.lease_until', '<=', now)).limit(limit).execute();
      const pending = expired.length >= limit ? [] : await scoped(trx
        .selectFrom('jobs as j')
        .select('j.id')
        .where('j.state', '=', 'pending')
        .where('j.run_at', '<=', now)
        .where((eb) => eb.not(eb.exists(eb
          .selectFrom('jobs as a')
          .select('a.id')
          .whereRef('a.tenant_id', '=', 'j.tenant_id')
          .whereRef('a.system', '=', 'j.system')
          .whereRef('a.object_type', '=', 'j.object_type')
          .whereRef('a.record_id', '=', 'j.record_id')
          .where('a.state', '=', 'active')))))
        .limit(limit - expired.length)
        .execute();
      const ids = [...expired, ...pending].map((r) => r.id);
      if (ids.length === 0) return [];

      return trx
        .updateTable('jobs')
        .set((eb) => ({
          state: 'active',
          lease_owner: o.workerId,
          lease_until: now + leaseMs,
          attempts: eb('attempts', '+', 1),
        }))
        .where('id', 'in', ids)
        .returningAll()
        .execute();
    });
    // RETURNING order is unspecified; hand jobs out in queue order.
    return jobs.map(toJob).sort((a, b) => a.enqueuedAt - b.enqueuedAt || a.id - b.id);
  }

  /** Jobs whose every attempt ended in a lost lease (e.g. a record that crashes the worker) go to the dead letters. */
  private async buryExhaustedLeases(trx: Transaction<Database>, now: number): Promise<void> {
    let victims = trx
      .selectFrom('jobs')
      .select('id')
      .where('state', '=', 'active')
      .where('lease_until', '<=', now)
      .where('attempts', '>=', this.maxAttempts);
    if (this.dialect === 'postgres') victims = victims.forUpdate().skipLocked();
    await trx
      .updateTable('jobs')
      .set({
        state: 'dead', dead_at: now, lease_owner: null, lease_until: null,
        last_error: `lease expired on all ${this.maxAttempts} attempts: the worker stopped or hung while running this job`,
      })
      .where('id', 'in', victims)
      .execute();
  }

  /** For long jobs: keeps the lease; false means it was lost (expired and claimed by another worker). */
  async extendLease(jobId: number, workerId: string, leaseMs: number): Promise<boolean> {
    return (await this.extendLeases([jobId], workerId, leaseMs)) === 1;
  }

  /** `extendLease` for a group of jobs in one statement; returns how many leases were still held. */
  async extendLeases(jobIds: number[], workerId: string, leaseMs: number): Promise<number> {
    if (jobIds.length === 0) return 0;
    const r = await this.db
      .updateTable('jobs')
      .set({ lease_until: this.clock() + leaseMs })
      .where('id', 'in', jobIds)
      .where('state', '=', 'active')
      .where('lease_owner', '=', workerId)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /** Success: the job is removed. False when the lease was lost (harmless: jobs are idempotent). */
  async complete(jobId: number, workerId: string): Promise<boolean> {
    return (await this.completeMany([jobId], workerId)) === 1;
  }

  /** `complete` for a group of jobs in one statement (one commit instead of one per job); returns how many were removed. */
  async completeMany(jobIds: number[], workerId: string): Promise<number> {
    if (jobIds.length === 0) return 0;
    const r = await this.db
      .deleteFrom('jobs')
      .where('id', 'in', jobIds)
      .where('state', '=', 'active')
      .where('lease_owner', '=', workerId)
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  /**
   * Failure: retry after backoff (or at `retryAt`, e.g. from Retry-After), or dead-letter when attempts are
   * used up or the error is `terminal`. A retry merges into a pending job that arrived meanwhile.
   */
  async fail(jobId: number, workerId: string, error: string, o: { retryAt?: number; terminal?: boolean } = {}): Promise<FailOutcome> {
    const now = this.clock();
    return this.db.transaction().execute(async (trx) => {
      let q = trx.selectFrom('jobs').selectAll().where('id', '=', jobId).where('state', '=', 'active').where('lease_owner', '=', workerId);
      if (this.dialect === 'postgres') q = q.forUpdate();
      const job = await q.executeTakeFirst();
      if (!job) return 'lost';
      if (o.terminal || job.attempts >= this.maxAttempts) {
        await trx
          .updateTable('jobs')
          .set({ state: 'dead', dead_at: now, lease_owner: null, lease_until: null, last_error: error })
          .where('id', '=', jobId)
          .execute();
        return 'dead';
      }
      // Delete + upsert rather than update: turning this row back to pending could collide with a pending job
      // enqueued while it ran; the upsert merges into that one instead, atomically.
      await trx.deleteFrom('jobs').where('id', '=', jobId).execute();
      await this.upsertPending(trx, [{ ...job, last_error: error, run_at: o.retryAt ?? now + this.backoff(job.attempts) }], 'latest');
      return 'retry';
    });
  }

  async get(tenantId: string, jobId: number): Promise<Job | undefined> {
    const r = await this.db.selectFrom('jobs').selectAll().where('tenant_id', '=', tenantId).where('id', '=', jobId).executeTakeFirst();
    return r && toJob(r);
  }

  /** The jobs of one record in any state (at most a pending, an active and dead ones): its sync status. */
  async forRecord(key: JobKey): Promise<Job[]> {
    const rows = await this.db
      .selectFrom('jobs')
      .selectAll()
      .where('tenant_id', '=', key.tenantId)
      .where('system', '=', key.system)
      .where('object_type', '=', key.objectType)
      .where('record_id', '=', key.recordId)
      .orderBy('id')
      .execute();
    return rows.map(toJob);
  }

  async deadLetters(tenantId: string, limit = 100): Promise<Job[]> {
    const rows = await this.db
      .selectFrom('jobs')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('state', '=', 'dead')
      .orderBy('dead_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toJob);
  }

  /** Puts a dead job back in the queue with fresh attempts, due now, through the same coalescing path. */
  async replay(tenantId: string, jobId: number): Promise<boolean> {
    const now = this.clock();
    return this.db.transaction().execute(async (trx) => {
      const job = await trx.selectFrom('jobs').selectAll().where('tenant_id', '=', tenantId).where('id', '=', jobId).where('state', '=', 'dead').executeTakeFirst();
      if (!job) return false;
      await trx.deleteFrom('jobs').where('id', '=', jobId).execute();
      await this.upsertPending(trx, [{ ...job, attempts: 0, run_at: now, last_enqueued_at: now, trigger: 'replay' }], 'earliest');
      return true;
    });
  }

  async replayAll(tenantId: string): Promise<number> {
    const ids = await this.db.selectFrom('jobs').select('id').where('tenant_id', '=', tenantId).where('state', '=', 'dead').orderBy('id').execute();
    let n = 0;
    for (const { id } of ids) if (await this.replay(tenantId, id)) n++;
    return n;
  }

  /** Queue depth by state (for metrics and the admin UI); `due` = pending and runnable now. */
  async counts(tenantId?: string): Promise<Record<JobState | 'due', number>> {
    const now = this.clock();
    let q = this.db
      .selectFrom('jobs')
      .select((eb) => [
        'state',
        eb.fn.countAll<number>().as('n'),
        eb.fn.sum<number>(eb.case().when('run_at', '<=', now).then(1).else(0).end()).as('due'),
      ])
      .groupBy('state');
    if (tenantId !== undefined) q = q.where('tenant_id', '=', tenantId);
    const out = { pending: 0, active: 0, dead: 0, due: 0 };
    for (const r of await q.execute()) {
      out[r.state] = Number(r.n);
      if (r.state === 'pending') out.due = Number(r.due);
    }
    return out;
  }
}
