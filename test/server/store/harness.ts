import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { Keyring } from '../../../server/src/security/encryption.ts';
import { openStore, type Store } from '../../../server/src/store/index.ts';
import type { JobsOptions } from '../../../server/src/store/repositories/jobs.ts';

/** Admin connection used to create and drop one scratch database per suite; override with TEST_PG_URL. */
export const PG_ADMIN_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export const keyring = new Keyring({ id: 'test1', key: Buffer.alloc(32, 7) });

export interface Harness {
  store: Store;
  /** Test clock: read and move it. */
  now: { value: number };
  dialect: 'sqlite' | 'postgres';
  /** Opens a second store on the same database (another "process"). */
  openAnother(): Promise<Store>;
}

export async function adminQuery(text: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

/**
 * Drops a scratch database once its sessions are gone: pool.end() returns before every server session has
 * left, and dropping WITH (FORCE) would kill a session whose client still listens, which pg raises as an
 * uncaught error in the test run.
 */
export async function dropScratchDatabase(name: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    for (let i = 0; i < 100; i++) {
      const r = await c.query('select count(*)::int as n from pg_stat_activity where datname = $1', [name]);
      if (r.rows[0].n === 0) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    await c.query(`drop database if exists ${name} with (force)`);
  } finally {
    await c.end();
  }
}

/**
 * Runs `body` once per dialect, each against a fresh database: SQLite in a temp dir, PostgreSQL in a database
 * with a random name that is dropped afterwards. Nothing is skipped when PostgreSQL is unreachable — the
 * suite fails, because CI and these machines have it.
 */
export function forEachDialect(title: string, body: (h: () => Harness) => void, jobs?: JobsOptions): void {
  for (const dialect of ['sqlite', 'postgres'] as const) {
    describe(`${title} [${dialect}]`, function () {
      const now = { value: 1_750_000_000_000 };
      let harness: Harness;
      const opened: Store[] = [];
      let cleanup: () => Promise<void> = async () => {};

      before(async function () {
        let config: { dataDir: string; databaseUrl?: string };
        if (dialect === 'sqlite') {
          const dir = mkdtempSync(join(tmpdir(), 'sync-store-'));
          config = { dataDir: dir };
          cleanup = async () => rmSync(dir, { recursive: true, force: true });
        } else {
          const name = `sync_test_${randomBytes(6).toString('hex')}`;
          await adminQuery(`create database ${name}`);
          const url = new URL(PG_ADMIN_URL);
          url.pathname = `/${name}`;
          config = { dataDir: '/nonexistent', databaseUrl: url.toString() };
          cleanup = () => dropScratchDatabase(name);
        }
        const open = async () => {
          const s = await openStore(config, { keyring, clock: () => now.value, jobs });
          opened.push(s);
          return s;
        };
        harness = { store: await open(), now, dialect, openAnother: open };
      });

      beforeEach(async () => {
        await harness.store.db.kysely.deleteFrom('tenants').execute();
      });

      after(async () => {
        for (const s of opened) await s.close();
        await cleanup();
      });

      body(() => harness);
    });
  }
}
