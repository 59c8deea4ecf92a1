import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.ts';
import type { Store } from '../store/index.ts';
import type { Job } from '../store/repositories/jobs.ts';
import { SyncFailure } from './failures.ts';
import { HoldError, SyncRun } from './run.ts';
import type { TenantContexts } from './tenant-context.ts';
import { syncFromHubSpot, type HubSpotSource } from './to-dynamics.ts';
import { syncGroupFromDynamics, type DynamicsEntity, type RecordOutcome } from './to-hubspot.ts';

/**
 * Runs queued jobs: each names a source record (system, object, id); the worker re-reads it and brings the
 * other system in line. Dynamics records of one table can run as a group (one read, one HubSpot batch write);
 * `groupKey` tells the queue runner which jobs may share a group.
 *
 * A job's result is `undefined` (done, or held for later) or its error: a ConnectorError (retryable or not),
 * a SyncFailure (terminal, with a sync error stored on the record), anything else is retried.
 */
export interface SyncWorker {
  process(job: Job): Promise<void>;
  groupKey(job: Job): string | undefined;
  processGroup(jobs: Job[]): Promise<unknown[]>;
}

export interface SyncWorkerDeps {
  store: Store;
  contexts: TenantContexts;
  metrics: Metrics;
  logger: Logger;
}

const DYNAMICS = new Set(['lead', 'contact', 'account', 'opportunity']);
const HUBSPOT = new Set(['contacts', 'companies', 'deals']);

export function createSyncWorker(deps: SyncWorkerDeps): SyncWorker {
  const newRun = async (job: Job, bindings: Record<string, unknown>) =>
    new SyncRun(await deps.contexts.get(job.tenantId), deps.store, deps.metrics, deps.logger.child({ tenant: job.tenantId, ...bindings }));

  /** The job's result from its record's outcome: holds are re-queued, failures a user can fix are stored. */
  const settle = async (run: SyncRun, job: Job, outcome: RecordOutcome): Promise<unknown> => {
    if (outcome.ok) {
      deps.metrics.syncLag.observe({ direction: job.system === 'dynamics' ? 'toHubSpot' : 'toDynamics' }, (Date.now() - job.enqueuedAt) / 1000);
      return undefined;
    }
    const err = outcome.error;
    if (err instanceof HoldError) {
      // Kept, not failed: the same key is queued again for later and this run ends.
      await deps.store.jobs.enqueue({ tenantId: job.tenantId, system: job.system, objectType: job.objectType, recordId: job.recordId, trigger: 'held', runAt: Date.now() + err.deferMs });
      run.logger.debug({ job: job.id, reason: err.message }, 'held');
      return undefined;
    }
    if (err instanceof SyncFailure) {
      const side = { system: job.system, objectType: job.objectType, recordId: job.recordId };
      await run.report(side, err.code, `The ${job.objectType} record did not sync`, err.why, err.howToFix);
    }
    return err;
  };

  const processGroup = async (jobs: Job[]): Promise<unknown[]> => {
    const [first] = jobs;
    const run = await newRun(first, { jobs: jobs.length, source: `dynamics:${first.objectType}` });
    let outcomes: RecordOutcome[];
    try {
      outcomes = await syncGroupFromDynamics(run, first.objectType as DynamicsEntity, jobs.map((j) => j.recordId.toLowerCase()));
    } catch (error) {
      outcomes = jobs.map(() => ({ ok: false, error }));
    }
    const results: unknown[] = [];
    for (const [i, job] of jobs.entries()) results.push(await settle(run, job, outcomes[i]));
    return results;
  };

  return {
    groupKey: (job) => (job.system === 'dynamics' && DYNAMICS.has(job.objectType) ? `${job.tenantId}\u0000dynamics\u0000${job.objectType}` : undefined),

    processGroup,

    async process(job) {
      let error: unknown;
      if (job.system === 'dynamics' && DYNAMICS.has(job.objectType)) {
        [error] = await processGroup([job]);
      } else if (job.system === 'hubspot' && HUBSPOT.has(job.objectType)) {
        const run = await newRun(job, { job: job.id, source: `hubspot:${job.objectType}:${job.recordId}` });
        let outcome: RecordOutcome;
        try {
          await syncFromHubSpot(run, job.objectType as HubSpotSource, job.recordId);
          outcome = { ok: true };
        } catch (err) {
          outcome = { ok: false, error: err };
        }
        error = await settle(run, job, outcome);
      } else {
        error = Object.assign(new Error(`Unknown job source ${job.system}/${job.objectType}`), { terminal: true });
      }
      if (error !== undefined) throw error;
    },
  };
}
