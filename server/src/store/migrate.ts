import { Migrator, type Migration, type MigrationResultSet } from 'kysely';
import type { Db } from './database.ts';
import { initial } from './migrations/001-initial.ts';
import { rateBudget } from './migrations/002-rate-budget.ts';
import { shadowLookup } from './migrations/003-shadow-lookup.ts';
import { jobsFifoIndex } from './migrations/004-jobs-fifo-index.ts';

/** All migrations in order; names sort lexically, which is the order Kysely applies them in. */
function migrations(db: Db): Record<string, Migration> {
  return {
    '001-initial': initial(db.dialect),
    '002-rate-budget': rateBudget(db.dialect),
    '003-shadow-lookup': shadowLookup(),
    '004-jobs-fifo-index': jobsFifoIndex(),
  };
}

/**
 * Brings the schema up to date; called at start-up by every process. On PostgreSQL Kysely holds an advisory
 * lock meanwhile, so processes starting together migrate once.
 */
export async function migrateToLatest(db: Db): Promise<MigrationResultSet> {
  const migrator = new Migrator({ db: db.kysely, provider: { getMigrations: async () => migrations(db) } });
  const result = await migrator.migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration "${failed}" failed: ${(result.error as Error).message ?? String(result.error)}`, { cause: result.error });
  }
  return result;
}
