import { sql, type CreateTableBuilder, type Kysely, type Migration } from 'kysely';
import type { DialectName } from '../database.ts';

/**
 * First schema. Migrations are code (not files found at run time) so they ship inside the bundle and run the
 * same under tsx, a compiled build or tests. Never edit a released migration; add the next one.
 */
export function initial(dialect: DialectName): Migration {
  // Auto-increment ids differ per dialect; they give jobs a strict insertion order for FIFO ties.
  const id = <T extends string>(t: CreateTableBuilder<T, never>): CreateTableBuilder<T, 'id'> =>
    dialect === 'postgres'
      ? t.addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
      : t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
  const ms = 'bigint' as const;

  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('tenants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('hubspot_portal_id', 'text', (c) => c.unique())
        .addColumn('dataverse_org_url', 'text')
        .addColumn('mode', 'text', (c) => c.notNull().check(sql`mode in ('uat', 'production')`))
        .addColumn('main_switch', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('settings', 'text', (c) => c.notNull().defaultTo('{}'))
        .addColumn('created_at', ms, (c) => c.notNull())
        .addColumn('updated_at', ms, (c) => c.notNull())
        .execute();

      // Every tenant-owned table cascades from tenants, so "purge on uninstall" is one delete.
      await db.schema
        .createTable('secrets')
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('ciphertext', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('updated_at', ms, (c) => c.notNull())
        .addPrimaryKeyConstraint('secrets_pk', ['tenant_id', 'name'])
        .execute();

      await id(db.schema.createTable('links'))
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('dynamics_entity', 'text', (c) => c.notNull())
        .addColumn('dynamics_id', 'text', (c) => c.notNull())
        .addColumn('hubspot_object', 'text', (c) => c.notNull())
        .addColumn('hubspot_id', 'text', (c) => c.notNull())
        .addColumn('created_at', ms, (c) => c.notNull())
        .addColumn('updated_at', ms, (c) => c.notNull())
        // Unique both ways: a record on either side belongs to at most one link.
        .addUniqueConstraint('links_dynamics_uq', ['tenant_id', 'dynamics_entity', 'dynamics_id'])
        .addUniqueConstraint('links_hubspot_uq', ['tenant_id', 'hubspot_object', 'hubspot_id'])
        .execute();

      await db.schema
        .createTable('shadows')
        .addColumn('link_id', 'bigint', (c) => c.notNull().references('links.id').onDelete('cascade'))
        .addColumn('field', 'text', (c) => c.notNull())
        .addColumn('value_hash', 'text', (c) => c.notNull())
        .addColumn('direction', 'text', (c) => c.notNull().check(sql`direction in ('to_hubspot', 'to_dynamics')`))
        .addColumn('written_at', ms, (c) => c.notNull())
        .addPrimaryKeyConstraint('shadows_pk', ['link_id', 'field'])
        .execute();

      await id(db.schema.createTable('inbox'))
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('received_at', ms, (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addUniqueConstraint('inbox_event_uq', ['tenant_id', 'source', 'event_id'])
        .execute();
      await db.schema.createIndex('inbox_received_idx').on('inbox').column('received_at').execute();

      await id(db.schema.createTable('jobs'))
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('system', 'text', (c) => c.notNull().check(sql`system in ('hubspot', 'dynamics')`))
        .addColumn('object_type', 'text', (c) => c.notNull())
        .addColumn('record_id', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('pending', 'active', 'dead')`))
        .addColumn('trigger', 'text', (c) => c.notNull())
        .addColumn('enqueued_at', ms, (c) => c.notNull())
        .addColumn('last_enqueued_at', ms, (c) => c.notNull())
        .addColumn('coalesced_count', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('run_at', ms, (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', ms)
        .addColumn('last_error', 'text')
        .addColumn('dead_at', ms)
        .execute();
      // The coalescing rule: at most one *pending* job per record. An active job may have one pending successor
      // (the change that arrived while it ran); dead jobs do not block new work.
      await db.schema
        .createIndex('jobs_pending_key_uq')
        .on('jobs')
        .columns(['tenant_id', 'system', 'object_type', 'record_id'])
        .unique()
        .where(sql.ref('state'), '=', sql.lit('pending'))
        .execute();
      await db.schema.createIndex('jobs_due_idx').on('jobs').columns(['state', 'run_at', 'enqueued_at', 'id']).execute();
      await db.schema.createIndex('jobs_key_idx').on('jobs').columns(['tenant_id', 'system', 'object_type', 'record_id', 'state']).execute();

      await id(db.schema.createTable('sync_errors'))
        .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
        .addColumn('system', 'text', (c) => c.notNull())
        .addColumn('object_type', 'text', (c) => c.notNull())
        .addColumn('record_id', 'text', (c) => c.notNull())
        .addColumn('code', 'text', (c) => c.notNull())
        .addColumn('what', 'text', (c) => c.notNull())
        .addColumn('why', 'text', (c) => c.notNull())
        .addColumn('how_to_fix', 'text', (c) => c.notNull())
        .addColumn('occurrences', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('first_seen_at', ms, (c) => c.notNull())
        .addColumn('last_seen_at', ms, (c) => c.notNull())
        .addUniqueConstraint('sync_errors_uq', ['tenant_id', 'system', 'object_type', 'record_id', 'code'])
        .execute();
    },
    async down(db: Kysely<any>) {
      for (const t of ['sync_errors', 'jobs', 'inbox', 'shadows', 'links', 'secrets', 'tenants']) await db.schema.dropTable(t).execute();
    },
  };
}
