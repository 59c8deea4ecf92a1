import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Lets the sync ask "is any linked contact already holding this e-mail?" from the shadows alone, so a batch of
 * new contacts can be written with one HubSpot upsert by e-mail instead of one read per record first (see
 * `linkedByValue` in sync/shadow.ts). Partial: only e-mail rows are indexed, so the many other shadow rows a
 * group writes cost no extra index work.
 */
export const INDEXED_SHADOW_FIELD = 'hs:email';

export function shadowLookup(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createIndex('shadows_field_hash_idx').on('shadows').columns(['field', 'value_hash'])
        .where(sql.ref('field'), '=', sql.lit(INDEXED_SHADOW_FIELD)).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex('shadows_field_hash_idx').execute();
    },
  };
}
