import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.ts';
import type { Store } from '../store/index.ts';
import type { Job } from '../store/repositories/jobs.ts';
import { QueueNotifier } from './notifier.ts';
import { decideRetry, type BackoffOptions } from './retry.ts';

/** What the runner runs; the sync worker (`sync/worker.ts`) implements it. */
export interface JobProcessor {
  process(job: Job): Promise<void>;
  /** Jobs with the same key may run together through `processGroup` (undefined: the job runs alone). */
  groupKey?(job: Job): string | undefined;
  /** One result per job, in order: undefined for done, else the error (handled as `process` throwing it). */
  processGroup?(jobs: Job[]): Promise<unknown[]>;
}

export interface QueueRunnerOptions {
  store: Store;
  worker: JobProcessor;
  metrics: Metrics;
  logger: Logger;
  notifier?: QueueNotifier;
  /** Jobs (or groups of jobs) run at once by this process (default 4). */
  concurrency?: number;
  /** Most jobs in one group (default 100: HubSpot's batch size). */
  maxGroupSize?: number;
  /** Idle poll for jobs enqueued by other processes or that became due (default 250 ms). */
  pollIntervalMs?: number;
  /** Lease per claim (default 60 s); renewed every third of it while the job runs. */
  leaseMs?: number;
  backoff?: BackoffOptions;
  /** Unique per process; defaults to host:pid:random. */
  workerId?: string;
  /** How often the queue-depth gauge is refreshed while running (default 5 s; /metrics also refreshes it). */
  depthRefreshMs?: number;
  now?: () => number;
}

export interface StopOptions {
  /** How long in-flight jobs may take to finish before they are released back to the queue (default 10 s). */
  graceMs?: number;
}

/** One job, or several that the worker runs as a group; they share a slot. */
interface InFlight {
  jobs: Job[];
  done: Promise<void>;
  renew: NodeJS.Timeout;
  /** Set when stop() gave up waiting and released the job: the late result must not be reported. */
  released: boolean;
}

/**
 * Runs queued jobs: up to `concurrency` at once per process, each under a lease (renewed while it runs) so a
 * killed process loses nothing — its leases run out and another process claims the jobs. One loop claims as
 * many jobs as there are free slots; the repository's claim (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the
 * write lock on SQLite) guarantees two processes never hold the same job.
 *
 * Results: success → complete (the row is deleted); failure → `decideRetry` → fail with a retry time
 * (exponential backoff with jitter, or the service's Retry-After) or terminal; the repository dead-letters
 * when the attempts are used up.
 */
export class QueueRunner {
  readonly workerId: string;
  readonly notifier: QueueNotifier;
  private readonly concurrency: number;
  private readonly pollIntervalMs: number;
  private readonly leaseMs: number;
  private readonly maxGroupSize: number;
  private readonly now: () => number;
  private readonly inFlight = new Map<number, InFlight>();
  private running = false;
  private loop: Promise<void> | undefined;
  private depthTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: QueueRunnerOptions) {
    this.concurrency = Math.max(1, o.concurrency ?? 4);
    this.pollIntervalMs = o.pollIntervalMs ?? 250;
    this.leaseMs = o.leaseMs ?? 60_000;
    this.maxGroupSize = Math.max(1, o.maxGroupSize ?? 100);
    this.notifier = o.notifier ?? new QueueNotifier();
    this.workerId = o.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.now = o.now ?? Date.now;
  }

  get activeJobs(): number {
    let n = 0;
    for (const f of this.inFlight.values()) n += f.jobs.length;
    return n;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.claimLoop();
    const refresh = this.o.depthRefreshMs ?? 5_000;
    if (refresh > 0) {
      this.depthTimer = setInterval(() => void this.refreshDepth(), refresh);
      this.depthTimer.unref();
    }
  }

  /**
   * Stops claiming, waits for running jobs up to `graceMs`, then hands the rest back to the queue (due now, so
   * another process picks them up without waiting for the lease to run out).
   */
  async stop(o: StopOptions = {}): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.depthTimer) clearInterval(this.depthTimer);
    this.notifier.notify(); // wake the claim loop so it sees running=false
    await this.loop;
    const graceMs = o.graceMs ?? 10_000;
    const all = Promise.all([...this.inFlight.values()].map((f) => f.done));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      all.then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), graceMs))),
    ]);
    clearTimeout(timer);
    if (!timedOut) return;
    for (const f of this.inFlight.values()) {
      f.released = true;
      clearInterval(f.renew);
      for (const job of f.jobs) {
        try {
          // `fail` with retryAt=now puts the job back as pending (merging with any newer pending job of the record).
          await this.o.store.jobs.fail(job.id, this.workerId, 'released: the server shut down while this job was running', { retryAt: this.now() });
        } catch (err) {
          this.o.logger.warn({ err, jobId: job.id }, 'could not release job on shutdown; its lease will expire instead');
        }
      }
    }
    this.inFlight.clear();
  }

  /** Queue depth gauge from the database (all processes' jobs). */
  async refreshDepth(): Promise<void> {
    try {
      const c = await this.o.store.jobs.counts();
      this.o.metrics.queueDepth.set({ state: 'pending' }, c.pending);
      this.o.metrics.queueDepth.set({ state: 'due' }, c.due);
      this.o.metrics.queueDepth.set({ state: 'active' }, c.active);
      this.o.metrics.queueDepth.set({ state: 'dead' }, c.dead);
    } catch (err) {
      this.o.logger.debug({ err }, 'queue depth refresh failed');
    }
  }

  private async claimLoop(): Promise<void> {
    let failures = 0;
    while (this.running) {
      const free = this.concurrency - this.inFlight.size;
      let claimed: Job[][] = [];
      if (free > 0) {
        try {
          claimed = await this.group(await this.o.store.jobs.claim({ workerId: this.workerId, limit: free, leaseMs: this.leaseMs }));
          failures = 0;
        } catch (err) {
          // Database unreachable: back off (up to 10 s) instead of spinning; jobs are safe in the table.
          failures++;
          this.o.logger.error({ err }, 'claiming jobs failed');
          await this.notifier.wait(Math.min(10_000, this.pollIntervalMs * 2 ** failures));
          continue;
        }
      }
      if (!this.running) {
        // Stopped while claiming: give the jobs straight back.
        for (const job of claimed.flat()) await this.o.store.jobs.fail(job.id, this.workerId, 'released: the server is shutting down', { retryAt: this.now() }).catch(() => {});
        break;
      }
      for (const jobs of claimed) this.startJobs(jobs);
      // A full claim means more may be waiting: go again at once (if a slot is free). Otherwise sleep until an
      // enqueue in this process, a finished job, or the poll interval.
      if (claimed.length === 0 || this.inFlight.size >= this.concurrency) await this.notifier.wait(this.pollIntervalMs);
    }
  }

  /**
   * Claimed jobs → units that each take a slot. A job the worker can group pulls in more due jobs of its kind
   * (same tenant, system and object), oldest first, up to the group size: a backlog of 20,000 Dynamics
   * contacts becomes 200 HubSpot batch writes instead of 20,000 single ones.
   */
  private async group(claimed: Job[]): Promise<Job[][]> {
    const { worker } = this.o;
    if (!worker.groupKey || !worker.processGroup) return claimed.map((j) => [j]);
    const units: Job[][] = [];
    const groups = new Map<string, Job[]>();
    for (const job of claimed) {
      const key = worker.groupKey(job);
      const g = key === undefined ? undefined : groups.get(key);
      if (g) g.push(job);
      else {
        units.push([job]);
        if (key !== undefined) groups.set(key, units[units.length - 1]);
      }
    }
    for (const g of groups.values()) {
      if (g.length >= this.maxGroupSize) continue;
      const { tenantId, system, objectType } = g[0];
      g.push(...(await this.o.store.jobs.claim({ workerId: this.workerId, limit: this.maxGroupSize - g.length, leaseMs: this.leaseMs, tenantId, system, objectType })));
    }
    return units;
  }

  private startJobs(jobs: Job[]): void {
    // Renew at a third of the lease, so two missed renewals still leave time before it runs out.
    const renew = setInterval(() => {
      this.o.store.jobs.extendLeases(jobs.map((j) => j.id), this.workerId, this.leaseMs).then(
        (held) => { if (held < jobs.length) this.o.logger.warn({ jobIds: jobs.map((j) => j.id), lost: jobs.length - held }, 'lease lost while the job was running (another worker may run it again; jobs are idempotent)'); },
        (err) => this.o.logger.warn({ err, jobIds: jobs.map((j) => j.id) }, 'lease renewal failed'),
      );
    }, Math.max(50, Math.floor(this.leaseMs / 3)));
    renew.unref();
    const entry: InFlight = { jobs, renew, released: false, done: Promise.resolve() };
    entry.done = this.run(entry).finally(() => {
      clearInterval(renew);
      this.inFlight.delete(jobs[0].id);
      this.notifier.notify(); // a slot is free
    });
    this.inFlight.set(jobs[0].id, entry);
  }

  private async run(entry: InFlight): Promise<void> {
    const { jobs } = entry;
    let results: unknown[];
    try {
      if (jobs.length === 1) {
        results = [undefined];
        await this.o.worker.process(jobs[0]);
      } else {
        results = await this.o.worker.processGroup!(jobs);
      }
    } catch (err) {
      results = jobs.map(() => err ?? new Error('worker failed without an error'));
    }
    if (entry.released) return;
    const done = jobs.filter((_, i) => results[i] === undefined);
    try {
      await this.o.store.jobs.completeMany(done.map((j) => j.id), this.workerId);
    } catch (err) {
      // They stay active under our lease; when it runs out they are claimed again (and change nothing).
      this.o.logger.error({ err, jobIds: done.map((j) => j.id) }, 'could not record the jobs as done');
    }
    for (const [i, job] of jobs.entries()) if (results[i] !== undefined) await this.recordFailure(job, results[i]);
  }

  /** Stores one job's failure: retry with backoff, or the dead letters. */
  private async recordFailure(job: Job, error: unknown): Promise<void> {
    const log = this.o.logger.child({ jobId: job.id, tenantId: job.tenantId, system: job.system, objectType: job.objectType, recordId: job.recordId, attempt: job.attempts });
    try {
      const d = decideRetry(error, job.attempts, this.o.backoff);
      const outcome = await this.o.store.jobs.fail(job.id, this.workerId, d.message, d.terminal ? { terminal: true } : { retryAt: this.now() + d.delayMs });
      if (outcome === 'retry') {
        this.o.metrics.retries.inc({ system: job.system });
        log.warn({ err: error, retryInMs: d.delayMs }, 'job failed; will retry');
      } else if (outcome === 'dead') {
        this.o.metrics.deadLetters.inc();
        log.error({ err: error, terminal: d.terminal }, 'job dead-lettered');
      }
    } catch (err) {
      // The job stays active under our lease; when it runs out the job is claimed again.
      log.error({ err }, 'could not record the job result');
    }
  }
}
