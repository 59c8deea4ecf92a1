import type { DataverseConnector } from '../connectors/dataverse/connector.ts';
import type { HubSpotConnector } from '../connectors/hubspot/connector.ts';
import type { JobQueue } from '../queue/job-queue.ts';

/**
 * Historical sync / resync: queues every record of one object from its source system, as keys only (the
 * worker reads each record fresh, so a resync is the same path as a live change and safe to repeat). Used for
 * the first sync after connecting, after changing the mapping, and to catch up after a long outage.
 *
 * Reading ids is cheap: Dataverse pages of 5,000 ids (one call each), HubSpot search pages of 200 (search has
 * its own 5/s budget and does not count against the ten-secondly limit the writes need).
 */

export const RESYNC_OBJECTS = {
  dynamics: ['lead', 'contact', 'account', 'opportunity'],
  hubspot: ['contacts', 'companies', 'deals'],
} as const;

export type ResyncSystem = keyof typeof RESYNC_OBJECTS;

export interface ResyncResult {
  system: ResyncSystem;
  object: string;
  /** Records read from the source. */
  read: number;
  /** New jobs; the rest merged into jobs already waiting for the same records. */
  enqueued: number;
  coalesced: number;
}

export async function resync(o: {
  tenantId: string;
  system: ResyncSystem;
  object: string;
  queue: JobQueue;
  connectors: { dynamics: Pick<DataverseConnector, 'retrieveMultiple' | 'metadata'>; hubspot: Pick<HubSpotConnector, 'searchModifiedSince'> };
  onPage?: (progress: ResyncResult) => void;
}): Promise<ResyncResult> {
  const result: ResyncResult = { system: o.system, object: o.object, read: 0, enqueued: 0, coalesced: 0 };
  const add = async (ids: string[]) => {
    const r = await o.queue.enqueueMany(ids.map((recordId) => ({ tenantId: o.tenantId, system: o.system, objectType: o.object, recordId, trigger: 'resync' })));
    result.read += ids.length;
    result.enqueued += r.enqueued;
    result.coalesced += r.coalesced;
    o.onPage?.({ ...result });
  };
  if (o.system === 'dynamics') {
    const { primaryIdAttribute } = await o.connectors.dynamics.metadata.entity(o.object);
    for await (const page of o.connectors.dynamics.retrieveMultiple(o.object, { select: [primaryIdAttribute], annotations: false, pageSize: 5000 })) {
      await add(page.map((r) => String(r[primaryIdAttribute]).toLowerCase()));
    }
  } else {
    for await (const page of o.connectors.hubspot.searchModifiedSince(o.object, 0)) await add(page.records.map((r) => r.id));
  }
  return result;
}
