import type { Store } from '../store/index.ts';
import { InboxRepository, type InboxKeys } from '../store/repositories/inbox.ts';
import { JobsRepository, type JobKey } from '../store/repositories/jobs.ts';
import { systemClock, type Clock } from '../store/clock.ts';
import { QueueNotifier } from './notifier.ts';

export type EnqueueInput = JobKey & { trigger?: string; runAt?: number };

export interface RecordedEvent {
  /** False: the event was delivered before (same tenant, source and event id); nothing was enqueued. */
  inserted: boolean;
  jobIds: number[];
}

/**
 * The producer side of the queue, shared by intake (webhooks, polls) and the admin API (replay): writes jobs
 * through the store and wakes this process's idle runners.
 */
export class JobQueue {
  readonly notifier: QueueNotifier;
  private readonly clock: Clock;

  constructor(private readonly store: Store, o: { notifier?: QueueNotifier; clock?: Clock } = {}) {
    this.notifier = o.notifier ?? new QueueNotifier();
    this.clock = o.clock ?? systemClock;
  }

  async enqueue(key: EnqueueInput): Promise<{ jobId: number; coalesced: boolean }> {
    const r = await this.store.jobs.enqueue(key);
    this.notifier.notify();
    return r;
  }

  /**
   * Inbox row + its jobs in ONE transaction. Separately, a crash (or a failed enqueue) between the two would
   * leave an event that is recorded — so its redelivery is dropped as a duplicate — but never queued: lost.
   * Together, either both are durable (and we answer 2xx) or neither is (and the sender retries).
   */
  async recordAndEnqueue(tenantId: string, source: string, eventId: string, keys: InboxKeys, jobs: EnqueueInput[]): Promise<RecordedEvent> {
    const { kysely, dialect } = this.store.db;
    const out = await kysely.transaction().execute(async (trx) => {
      const inbox = new InboxRepository(trx, this.clock);
      const r = await inbox.record(tenantId, source, eventId, keys);
      if (!r.inserted) return { inserted: false, jobIds: [] };
      // Only `enqueue` is used on this transaction-scoped repository (it runs one statement on `trx`).
      const q = new JobsRepository(trx, dialect, this.clock);
      const jobIds: number[] = [];
      for (const j of jobs) jobIds.push((await q.enqueue(j)).jobId);
      return { inserted: true, jobIds };
    });
    if (out.jobIds.length) this.notifier.notify();
    return out;
  }

  /** Many jobs at once (a resync queues thousands of records). */
  async enqueueMany(jobs: EnqueueInput[]): Promise<{ enqueued: number; coalesced: number }> {
    if (jobs.length === 0) return { enqueued: 0, coalesced: 0 };
    const r = await this.store.jobs.enqueueMany(jobs);
    this.notifier.notify();
    return r;
  }

  async replay(tenantId: string, jobId: number): Promise<boolean> {
    const ok = await this.store.jobs.replay(tenantId, jobId);
    if (ok) this.notifier.notify();
    return ok;
  }

  async replayAll(tenantId: string): Promise<number> {
    const n = await this.store.jobs.replayAll(tenantId);
    if (n) this.notifier.notify();
    return n;
  }
}
