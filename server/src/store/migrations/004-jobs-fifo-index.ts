import type { Kysely, Migration } from 'kysely';

/**
 * Claims walk pending jobs in queue order (`enqueued_at`, `id`) and stop at the limit; this index lets them do
 * that without sorting the whole backlog each time. It replaces the (state, run_at, …) index, which planners
 * preferred for its run_at range and then sorted every due job — tens of thousands after a resync — per claim.
 * Jobs not yet due are skipped while walking; they are few next to a backlog of due ones.
 */
export function jobsFifoIndex(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema.createIndex('jobs_fifo_idx').on('jobs').columns(['state', 'enqueued_at', 'id']).execute();
      await db.schema.dropIndex('jobs_due_idx').execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.createIndex('jobs_due_idx').on('jobs').columns(['state', 'run_at', 'enqueued_at', 'id']).execute();
      await db.schema.dropIndex('jobs_fifo_idx').execute();
    },
  };
}
