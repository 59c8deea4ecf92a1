import type { Kysely, Selectable } from 'kysely';
import type { Database, SyncErrorsTable, SystemName } from '../schema.ts';
import type { Clock } from '../clock.ts';

export interface RecordRef {
  system: SystemName;
  objectType: string;
  recordId: string;
}

/** A failure a user can fix, shown on the record in the admin UI, the HubSpot card and the API. */
export interface SyncErrorInput extends RecordRef {
  /** Stable machine code (e.g. `dropdown_unmatched`); one row per record and code, repeats count up. */
  code: string;
  what: string;
  why: string;
  howToFix: string;
}

export interface SyncError extends SyncErrorInput {
  id: number;
  tenantId: string;
  occurrences: number;
  firstSeenAt: number;
  lastSeenAt: number;
}

function toError(r: Selectable<SyncErrorsTable>): SyncError {
  return {
    id: r.id, tenantId: r.tenant_id, system: r.system, objectType: r.object_type, recordId: r.record_id, code: r.code,
    what: r.what, why: r.why, howToFix: r.how_to_fix, occurrences: r.occurrences, firstSeenAt: r.first_seen_at, lastSeenAt: r.last_seen_at,
  };
}

export class SyncErrorsRepository {
  constructor(private readonly db: Kysely<Database>, private readonly clock: Clock) {}

  async record(tenantId: string, e: SyncErrorInput): Promise<void> {
    await this.recordMany(tenantId, [e]);
  }

  /** `record` for many problems in one statement (the last one wins for a repeated record and code). */
  async recordMany(tenantId: string, errors: SyncErrorInput[]): Promise<void> {
    const key = (e: SyncErrorInput) => `${e.system}\u0000${e.objectType}\u0000${e.recordId}\u0000${e.code}`;
    // One statement may not touch a row twice (PostgreSQL refuses), so repeats within the batch collapse first.
    const unique = [...new Map(errors.map((e) => [key(e), e])).values()];
    if (unique.length === 0) return;
    const now = this.clock();
    await this.db
      .insertInto('sync_errors')
      .values(unique.map((e) => ({
        tenant_id: tenantId, system: e.system, object_type: e.objectType, record_id: e.recordId, code: e.code,
        what: e.what, why: e.why, how_to_fix: e.howToFix, occurrences: 1, first_seen_at: now, last_seen_at: now,
      })))
      .onConflict((oc) =>
        oc.columns(['tenant_id', 'system', 'object_type', 'record_id', 'code']).doUpdateSet((eb) => ({
          what: eb.ref('excluded.what'),
          why: eb.ref('excluded.why'),
          how_to_fix: eb.ref('excluded.how_to_fix'),
          occurrences: eb('sync_errors.occurrences', '+', 1),
          last_seen_at: eb.ref('excluded.last_seen_at'),
        })),
      )
      .execute();
  }

  async forRecord(tenantId: string, ref: RecordRef): Promise<SyncError[]> {
    const rows = await this.db
      .selectFrom('sync_errors')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('system', '=', ref.system)
      .where('object_type', '=', ref.objectType)
      .where('record_id', '=', ref.recordId)
      .orderBy('id')
      .execute();
    return rows.map(toError);
  }

  async list(tenantId: string, limit = 100, offset = 0): Promise<SyncError[]> {
    const rows = await this.db.selectFrom('sync_errors').selectAll().where('tenant_id', '=', tenantId).orderBy('last_seen_at', 'desc').orderBy('id', 'desc').limit(limit).offset(offset).execute();
    return rows.map(toError);
  }

  /** A successful sync of the record resolves its errors (all codes, or the given ones). */
  /** All problems of many records of one system and object (a synced group), in one statement. */
  async clearMany(tenantId: string, system: SystemName, objectType: string, recordIds: string[]): Promise<number> {
    if (recordIds.length === 0) return 0;
    const r = await this.db
      .deleteFrom('sync_errors')
      .where('tenant_id', '=', tenantId)
      .where('system', '=', system)
      .where('object_type', '=', objectType)
      .where('record_id', 'in', [...new Set(recordIds)])
      .executeTakeFirst();
    return Number(r.numDeletedRows);
  }

}
