import type { Kysely, Migration } from 'kysely';

/**
 * Lets the sync ask "is any linked record already holding this value?" (e.g. the e-mail of a HubSpot contact)
 * from the shadows alone, so a batch of new contacts can be written with one HubSpot upsert by e-mail instead
 * of one read per record first (see `linkedByValue` in sync/shadow.ts).
 */
export function shadowLookup(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createIndex('shadows_field_hash_idx').on('shadows').columns(['field', 'value_hash']).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex('shadows_field_hash_idx').execute();
    },
  };
}
