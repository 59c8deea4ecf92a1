import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.ts';
import type { Store } from '../store/index.ts';
import type { Job } from '../store/repositories/jobs.ts';
import { SyncFailure } from './failures.ts';
import { HoldError, SyncRun } from './run.ts';
import type { TenantContexts } from './tenant-context.ts';
import { syncFromHubSpot, type HubSpotSource } from './to-dynamics.ts';
import { syncFromDynamics, type DynamicsEntity } from './to-hubspot.ts';

/**
 * Runs one queued job: the job names a source record (system, object, id); the worker re-reads it and
 * brings the other system in line. Errors: a ConnectorError (retryable or not), a SyncFailure (terminal,
 * with a sync error stored on the record), anything else is retried.
 */
export interface SyncWorker {
  process(job: Job): Promise<void>;
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
  return {
    async process(job) {
      const ctx = await deps.contexts.get(job.tenantId);
      const logger = deps.logger.child({ tenant: job.tenantId, job: job.id, source: `${job.system}:${job.objectType}:${job.recordId}` });
      const run = new SyncRun(ctx, deps.store, deps.metrics, logger);
      const started = Date.now();
      try {
        if (job.system === 'dynamics' && DYNAMICS.has(job.objectType)) {
          await syncFromDynamics(run, job.objectType as DynamicsEntity, job.recordId.toLowerCase());
          deps.metrics.syncLag.observe({ direction: 'toHubSpot' }, (Date.now() - job.enqueuedAt) / 1000);
        } else if (job.system === 'hubspot' && HUBSPOT.has(job.objectType)) {
          await syncFromHubSpot(run, job.objectType as HubSpotSource, job.recordId);
          deps.metrics.syncLag.observe({ direction: 'toDynamics' }, (Date.now() - job.enqueuedAt) / 1000);
        } else {
          throw Object.assign(new Error(`Unknown job source ${job.system}/${job.objectType}`), { terminal: true });
        }
        logger.debug({ ms: Date.now() - started }, 'synced');
      } catch (err) {
        if (err instanceof HoldError) {
          // Kept, not failed: the same key is queued again for later and this run ends.
          await deps.store.jobs.enqueue({ tenantId: job.tenantId, system: job.system, objectType: job.objectType, recordId: job.recordId, trigger: 'held', runAt: Date.now() + err.deferMs });
          logger.debug({ reason: err.message }, 'held');
          return;
        }
        if (err instanceof SyncFailure) {
          const side = { system: job.system, objectType: job.objectType, recordId: job.recordId };
          await run.report(side, err.code, `The ${job.objectType} record did not sync`, err.why, err.howToFix);
        }
        throw err;
      }
    },
  };
}
