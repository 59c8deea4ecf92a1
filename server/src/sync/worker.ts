import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.ts';
import type { Store } from '../store/index.ts';
import type { Job } from '../store/repositories/jobs.ts';
import { ConnectorError } from '../connectors/errors.ts';
import { SyncFailure } from './failures.ts';
import type { Outcome } from './group.ts';
import { HoldError, SyncRun } from './run.ts';
import type { TenantContexts } from './tenant-context.ts';
import { syncGroupFromHubSpot, type HubSpotSource } from './to-dynamics.ts';
import { syncGroupFromDynamics, type DynamicsEntity } from './to-hubspot.ts';

/**
 * Runs queued jobs: each names a source record (system, object, id); the worker re-reads it and brings the
 * other system in line. Records of one object from one system run as a group (one read, one batch write to
 * the other system); `groupKey` tells the queue runner which jobs may share a group.
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
  const settle = async (run: SyncRun, job: Job, outcome: Outcome<unknown>): Promise<unknown> => {
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
    const side = { system: job.system, objectType: job.objectType, recordId: job.recordId };
    if (err instanceof SyncFailure) {
      await run.report(side, err.code, `The ${job.objectType} record did not sync`, err.why, err.howToFix);
    } else if (err instanceof ConnectorError && err.kind === 'permanent') {
      // A 4xx the data must fix (a value the target refuses): the runner dead-letters it at once, so the record
      // must say why, like any other failure a user can fix.
      await run.report(side, `${err.system === 'hubspot' ? 'hubspot' : 'dynamics'}_rejected`, `The ${job.objectType} record did not sync`,
        err.message, 'Correct the value in the source record (or the field mapping) and save the record again; the change then syncs.');
    }
    return err;
  };

  /** Jobs of one tenant, system and object (the runner groups them by `groupKey`). */
  const processGroup = async (jobs: Job[]): Promise<unknown[]> => {
    const [first] = jobs;
    const run = await newRun(first, { jobs: jobs.length, source: `${first.system}:${first.objectType}` });
    let outcomes: Outcome<unknown>[];
    try {
      outcomes = first.system === 'dynamics'
        ? await syncGroupFromDynamics(run, first.objectType as DynamicsEntity, jobs.map((j) => j.recordId.toLowerCase()))
        : await syncGroupFromHubSpot(run, first.objectType as HubSpotSource, jobs.map((j) => j.recordId));
    } catch (error) {
      outcomes = jobs.map(() => ({ ok: false, error }));
    }
    const results: unknown[] = [];
    for (const [i, job] of jobs.entries()) results.push(await settle(run, job, outcomes[i]));
    return results;
  };

  const known = (job: Job) => (job.system === 'dynamics' ? DYNAMICS : HUBSPOT).has(job.objectType);

  return {
    groupKey: (job) => (known(job) ? `${job.tenantId}\u0000${job.system}\u0000${job.objectType}` : undefined),

    processGroup,

    async process(job) {
      const [error] = known(job)
        ? await processGroup([job])
        : [Object.assign(new Error(`Unknown job source ${job.system}/${job.objectType}`), { terminal: true })];
      if (error !== undefined) throw error;
    },
  };
}
