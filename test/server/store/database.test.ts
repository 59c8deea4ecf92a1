import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { createDatabase, migrateToLatest } from '../../../server/src/store/index.ts';
import { forEachDialect } from './harness.ts';

describe('store: SQLite database file', () => {
  it('creates DATA_DIR/sync.db in WAL mode with foreign keys on, and migrating twice is a no-op', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'sync-db-')), 'nested', 'data');
    const db = createDatabase({ dataDir: dir });
    try {
      const first = await migrateToLatest(db);
      assert.ok(first.results?.length && first.results.every((r) => r.status === 'Success'));
      const again = await migrateToLatest(db);
      assert.deepEqual(again.results, []);
      assert.ok(existsSync(join(dir, 'sync.db')));
      const mode = await sql<{ journal_mode: string }>`pragma journal_mode`.execute(db.kysely);
      assert.equal(mode.rows[0].journal_mode, 'wal');
      const fk = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(db.kysely);
      assert.equal(fk.rows[0].foreign_keys, 1);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

forEachDialect('store: schema', (h) => {
  it('has every table and deleting a tenant purges all its rows (uninstall)', async () => {
    const { store } = h();
    const t = await store.tenants.create({ hubspotPortalId: '123' });
    await store.secrets.put(t.id, 'hubspot.refresh_token', 'r-1');
    const link = await store.links.create(t.id, { entity: 'contact', id: 'A' }, { object: 'contacts', id: '1' });
    await store.shadows.record(t.id, link.id, 'to_hubspot', { email: 'h' });
    await store.inbox.record(t.id, 'hubspot', 'e1', { objectType: 'contacts', recordId: '1' });
    await store.jobs.enqueue({ tenantId: t.id, system: 'hubspot', objectType: 'contacts', recordId: '1' });
    await store.errors.record(t.id, { system: 'hubspot', objectType: 'contacts', recordId: '1', code: 'x', what: 'w', why: 'y', howToFix: 'h' });

    assert.equal(await store.tenants.delete(t.id), true);
    const k = store.db.kysely;
    for (const table of ['secrets', 'links', 'shadows', 'inbox', 'jobs', 'sync_errors'] as const) {
      const r = await k.selectFrom(table).select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      assert.equal(Number(r.n), 0, `${table} emptied`);
    }
  });
});
