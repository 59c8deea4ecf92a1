import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';
import type { Clock } from '../clock.ts';

/**
 * What an inbox row keeps of an event: keys and routing metadata, never field values (a HubSpot
 * propertyChange carries `propertyValue`; it is deliberately not here). The worker re-reads the record.
 */
export interface InboxKeys {
  objectType: string;
  recordId: string;
  changeType?: string;
  occurredAt?: number;
  changeSource?: string;
  sourceId?: string;
  propertyName?: string;
  attempt?: number;
}

export interface InboxEvent {
  id: number;
  tenantId: string;
  source: string;
  eventId: string;
  receivedAt: number;
  keys: InboxKeys;
}

/** Picks the allowed keys, so a caller passing a whole webhook event cannot store its values by accident. */
function onlyKeys(k: InboxKeys): InboxKeys {
  const out: InboxKeys = { objectType: k.objectType, recordId: k.recordId };
  for (const f of ['changeType', 'occurredAt', 'changeSource', 'sourceId', 'propertyName', 'attempt'] as const) {
    if (k[f] !== undefined) (out as unknown as Record<string, unknown>)[f] = k[f];
  }
  return out;
}

/** Durable record of received events; the unique (tenant, source, event id) drops redeliveries. */
export class InboxRepository {
  constructor(private readonly db: Kysely<Database>, private readonly clock: Clock) {}

  /** `inserted: false` means this event was seen before and must not be enqueued again. */
  async record(tenantId: string, source: string, eventId: string, keys: InboxKeys): Promise<{ inserted: boolean; id?: number }> {
    const row = await this.db
      .insertInto('inbox')
      .values({ tenant_id: tenantId, source, event_id: eventId, received_at: this.clock(), payload: JSON.stringify(onlyKeys(keys)) })
      .onConflict((oc) => oc.columns(['tenant_id', 'source', 'event_id']).doNothing())
      .returning('id')
      .executeTakeFirst();
    return row ? { inserted: true, id: row.id } : { inserted: false };
  }

  async list(tenantId: string, limit = 100): Promise<InboxEvent[]> {
    const rows = await this.db.selectFrom('inbox').selectAll().where('tenant_id', '=', tenantId).orderBy('id', 'desc').limit(limit).execute();
    return rows.map((r) => ({ id: r.id, tenantId: r.tenant_id, source: r.source, eventId: r.event_id, receivedAt: r.received_at, keys: JSON.parse(r.payload) as InboxKeys }));
  }

  /** Retention: dedupe only has to outlive the senders' retry windows (HubSpot retries for 24 h). */
  async pruneOlderThan(cutoffMs: number): Promise<number> {
    const r = await this.db.deleteFrom('inbox').where('received_at', '<', cutoffMs).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
