import { sql, type Kysely } from 'kysely';
import type { Database, ShadowDirection } from '../schema.ts';
import type { Clock } from '../clock.ts';
import { INDEXED_SHADOW_FIELD } from '../migrations/003-shadow-lookup.ts';

export type IndexedShadowField = typeof INDEXED_SHADOW_FIELD;

export interface Shadow {
  linkId: number;
  field: string;
  valueHash: string;
  direction: ShadowDirection;
  writtenAt: number;
}

/** Last value we wrote per (link, field). Every call is scoped by tenant through the owning link. */
export class ShadowsRepository {
  constructor(private readonly db: Kysely<Database>, private readonly clock: Clock) {}

  private ownedLinks(tenantId: string) {
    return this.db.selectFrom('links').select('id').where('tenant_id', '=', tenantId);
  }

  /** Records the writes of one job in one statement; a link of another tenant writes nothing. */
  async record(tenantId: string, linkId: number, direction: ShadowDirection, hashes: Record<string, string>): Promise<void> {
    await this.recordMany(tenantId, direction, new Map([[linkId, hashes]]));
  }

  /**
   * `record` for the writes of a whole group (link id → field hashes): one ownership check and one upsert per
   * 1,000 rows, so a group of 100 records costs a couple of commits instead of one per record.
   */
  async recordMany(tenantId: string, direction: ShadowDirection, byLink: Map<number, Record<string, string>>): Promise<void> {
    const wanted = [...byLink].filter(([, hashes]) => Object.keys(hashes).length > 0).map(([id]) => id);
    if (wanted.length === 0) return;
    const owned = new Set((await this.ownedLinks(tenantId).where('id', 'in', wanted).execute()).map((r) => r.id));
    const now = this.clock();
    const rows = wanted.filter((id) => owned.has(id)).flatMap((linkId) =>
      Object.entries(byLink.get(linkId)!).map(([field, hash]) => ({ link_id: linkId, field, value_hash: hash, direction, written_at: now })));
    for (let i = 0; i < rows.length; i += 1000) {
      await this.db
        .insertInto('shadows')
        .values(rows.slice(i, i + 1000))
        .onConflict((oc) =>
          oc.columns(['link_id', 'field']).doUpdateSet({
            value_hash: sql.ref('excluded.value_hash'),
            direction: sql.ref('excluded.direction'),
            written_at: sql.ref('excluded.written_at'),
          }),
        )
        .execute();
    }
  }

  async forLink(tenantId: string, linkId: number): Promise<Map<string, Shadow>> {
    const rows = await this.db
      .selectFrom('shadows')
      .selectAll()
      .where('link_id', '=', linkId)
      .where('link_id', 'in', this.ownedLinks(tenantId))
      .execute();
    return new Map(rows.map((r) => [r.field, { linkId: r.link_id, field: r.field, valueHash: r.value_hash, direction: r.direction, writtenAt: r.written_at }]));
  }

  /**
   * Of the given hashes, those some link of this tenant (HubSpot side `hubspotObject`) holds for `field`;
   * hash → link id. Only indexed fields can be asked about (see the shadow-lookup migration).
   */
  async linksHolding(tenantId: string, hubspotObject: string, field: IndexedShadowField, hashes: string[]): Promise<Map<string, number>> {
    if (hashes.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('shadows as s')
      .innerJoin('links as l', 'l.id', 's.link_id')
      .select(['s.value_hash', 's.link_id'])
      .where('l.tenant_id', '=', tenantId)
      .where('l.hubspot_object', '=', hubspotObject)
      // A literal, not a parameter: the planner only uses a partial index when it can see the value.
      .where('s.field', '=', sql.lit(field))
      .where('s.value_hash', 'in', [...new Set(hashes)])
      .execute();
    return new Map(rows.map((r) => [r.value_hash, r.link_id]));
  }

  async clear(tenantId: string, linkId: number): Promise<void> {
    await this.db.deleteFrom('shadows').where('link_id', '=', linkId).where('link_id', 'in', this.ownedLinks(tenantId)).execute();
  }
}
