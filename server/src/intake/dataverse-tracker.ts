import type { Logger } from 'pino';
import type { DataverseConnector } from '../connectors/dataverse/connector.ts';
import { ConnectorError } from '../connectors/errors.ts';
import type { Store } from '../store/index.ts';
import type { JobQueue } from '../queue/job-queue.ts';
import { readCursors, saveCursor } from './cursors.ts';

/**
 * Dataverse safety net: change tracking (delta links) per table catches what the SDK-step webhooks missed
 * (steps switched off, our server down longer than Dataverse's async retries).
 *
 * Deleted rows are queued as jobs with trigger `delete`; the worker decides what that means (the product does
 * not delete in HubSpot: it records the sync error "deleted in Dynamics; link kept, not deleted in HubSpot").
 */

export const TRACKED_TABLES = ['lead', 'contact', 'account', 'opportunity'] as const;

export interface TrackResult {
  enqueued: number;
  deleted: number;
  /** Tables read for the first time (or after an expired link): the link was stored, nothing queued. */
  baselined: string[];
}

export async function trackDataverseChanges(o: {
  store: Store;
  queue: JobQueue;
  tenantId: string;
  dynamics: Pick<DataverseConnector, 'trackChanges'>;
  logger?: Logger;
}): Promise<TrackResult> {
  const links = (await readCursors(o.store, o.tenantId)).dataverse;
  const result: TrackResult = { enqueued: 0, deleted: 0, baselined: [] };
  for (const entity of TRACKED_TABLES) {
    const link = links[entity];
    if (!link) {
      // The initial tracked read lists every row; only its delta link is wanted (history is the resync's job).
      const cs = await o.dynamics.trackChanges(entity);
      await saveCursor(o.store, o.tenantId, 'dataverse', entity, cs.deltaLink);
      result.baselined.push(entity);
      continue;
    }
    let cs;
    try {
      cs = await o.dynamics.trackChanges(entity, { deltaLink: link });
    } catch (err) {
      // An expired (older than the org's retention, 7 days by default) or otherwise refused link cannot be
      // repaired: start again from now. Changes in the gap are only found by a resync, so say so loudly.
      if (err instanceof ConnectorError && typeof err.status === 'number' && err.status >= 400 && err.status < 500 && err.status !== 401 && err.status !== 429) {
        o.logger?.warn({ err, tenantId: o.tenantId, entity }, 'Dataverse change-tracking link refused; starting a new one (run a resync to catch changes made meanwhile)');
        const fresh = await o.dynamics.trackChanges(entity);
        await saveCursor(o.store, o.tenantId, 'dataverse', entity, fresh.deltaLink);
        result.baselined.push(entity);
        continue;
      }
      throw err;
    }
    for (const id of new Set(cs.changedIds)) {
      await o.queue.enqueue({ tenantId: o.tenantId, system: 'dynamics', objectType: entity, recordId: id.toLowerCase(), trigger: 'change-tracking' });
      result.enqueued++;
    }
    for (const id of new Set(cs.deletedIds)) {
      await o.queue.enqueue({ tenantId: o.tenantId, system: 'dynamics', objectType: entity, recordId: id.toLowerCase(), trigger: 'delete' });
      result.deleted++;
    }
    // Saved after the jobs are durable: a crash in between re-reads the same changes next time (harmless).
    if (cs.deltaLink !== link) await saveCursor(o.store, o.tenantId, 'dataverse', entity, cs.deltaLink);
  }
  return result;
}
