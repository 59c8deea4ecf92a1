import type { Kysely, Migration } from 'kysely';

/**
 * Claims walk pending jobs in queue order (`enqueued_at`, `id`) and stop at the limit; this index lets them do
 * that without sorting the whole backlog each time.
 */
export function jobsFifoIndex(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createIndex('jobs_fifo_idx').on('jobs').columns(['state', 'enqueued_at', 'id']).execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropIndex('jobs_fifo_idx').execute();
    },
  };
}
