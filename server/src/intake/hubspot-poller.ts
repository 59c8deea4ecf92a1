import type { HubSpotConnector } from '../connectors/hubspot/connector.ts';
import type { Store } from '../store/index.ts';
import type { JobQueue } from '../queue/job-queue.ts';
import { readCursors, saveCursor } from './cursors.ts';

/**
 * HubSpot safety net: webhooks can be lost (an outage longer than HubSpot's retry window, a subscription
 * switched off), so every few minutes each object is searched by last-modified date from the stored cursor and
 * the ids are queued. Records we wrote ourselves come back too; the worker's shadow comparison drops them.
 */

export const HUBSPOT_POLL_OBJECTS = ['contacts', 'companies', 'deals'] as const;

/**
 * The search index lags behind writes by seconds, so a record modified just before the previous poll's last
 * result may only now become searchable with an older timestamp. Starting each poll a little before the cursor
 * catches those; the repeats only coalesce into jobs the worker finds unchanged.
 */
export const DEFAULT_POLL_OVERLAP_MS = 2 * 60_000;

export interface HubSpotPollResult {
  enqueued: number;
  /** Objects polled for the first time: the cursor was set to now, nothing queued (history is the resync's job). */
  baselined: string[];
}

export async function pollHubSpot(o: {
  store: Store;
  queue: JobQueue;
  tenantId: string;
  hubspot: Pick<HubSpotConnector, 'searchModifiedSince'>;
  overlapMs?: number;
  now?: () => number;
}): Promise<HubSpotPollResult> {
  const now = (o.now ?? Date.now)();
  const overlap = o.overlapMs ?? DEFAULT_POLL_OVERLAP_MS;
  const cursors = (await readCursors(o.store, o.tenantId)).hubspot;
  const result: HubSpotPollResult = { enqueued: 0, baselined: [] };
  for (const object of HUBSPOT_POLL_OBJECTS) {
    const stored = cursors[object];
    if (!stored) {
      await saveCursor(o.store, o.tenantId, 'hubspot', object, { since: now - overlap, afterId: '0' });
      result.baselined.push(object);
      continue;
    }
    let last = stored;
    for await (const page of o.hubspot.searchModifiedSince(object, { since: Math.max(0, stored.since - overlap), afterId: '0' })) {
      for (const r of page.records) {
        await o.queue.enqueue({ tenantId: o.tenantId, system: 'hubspot', objectType: object, recordId: r.id, trigger: 'poll' });
        result.enqueued++;
      }
      // The overlap re-reads the last minutes on every poll; never move the cursor backwards because of it.
      if (page.cursor.since >= last.since) last = page.cursor;
    }
    if (last !== stored) await saveCursor(o.store, o.tenantId, 'hubspot', object, last);
  }
  return result;
}
