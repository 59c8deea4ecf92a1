import { sql, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../database.ts';

/**
 * The rate budget that all server processes share (see ../rate-budget.ts). PostgreSQL only: SQLite means a
 * single process, whose budget lives in memory.
 */
export function rateBudget(dialect: DialectName): Migration {
  return {
    async up(db: Kysely<any>) {
      if (dialect !== 'postgres') return;
      await db.schema
        .createTable('rate_budget')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('slot_at', sql`bigint[]`, (c) => c.notNull())
        .addColumn('slot_n', sql`integer[]`, (c) => c.notNull())
        .addColumn('wait_ms', 'bigint')
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
    },
    async down(db: Kysely<any>) {
      if (dialect === 'postgres') await db.schema.dropTable('rate_budget').execute();
    },
  };
}
