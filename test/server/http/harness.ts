import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Keyring } from '../../../server/src/security/encryption.ts';
import { openStore, type Store } from '../../../server/src/store/index.ts';
import type { JobsOptions } from '../../../server/src/store/repositories/jobs.ts';
import { createMetrics } from '../../../server/src/observability/metrics.ts';
import { adminQuery, dropScratchDatabase, PG_ADMIN_URL } from '../store/harness.ts';
import { JobQueue } from '../../../server/src/queue/job-queue.ts';
import { createIntake } from '../../../server/src/intake/accept.ts';
import { createTenant } from '../../../server/src/tenants/create.ts';

/** Shared by the http, intake, queue and tenants tests. */

export const silent = pino({ level: 'silent' });

/** For apps under test whose routes never reach a tenant's HubSpot or Dynamics. */
export const noConnectors = async (): Promise<never> => {
  throw new Error('this test app has no tenant connectors');
};
export const keyring = new Keyring({ id: 'test1', key: Buffer.alloc(32, 9) });
export { PG_ADMIN_URL };

export interface TempStore {
  store: Store;
  close(): Promise<void>;
}

/** A fresh SQLite store in a temp dir. */
export async function sqliteStore(jobs?: JobsOptions): Promise<TempStore & { dataDir: string }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sync-srv-'));
  const store = await openStore({ dataDir }, { keyring, jobs });
  return {
    store,
    dataDir,
    close: async () => {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A scratch PostgreSQL database; `open()` gives another store on it (another "process"). */
export async function scratchPostgres(): Promise<{ url: string; open(jobs?: JobsOptions): Promise<Store>; drop(): Promise<void> }> {
  const name = `sync_srv_test_${randomBytes(6).toString('hex')}`;
  await adminQuery(`create database ${name}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  const opened: Store[] = [];
  return {
    url: url.toString(),
    open: async (jobs?: JobsOptions) => {
      const s = await openStore({ dataDir: '/nonexistent', databaseUrl: url.toString() }, { keyring, jobs });
      opened.push(s);
      return s;
    },
    drop: async () => {
      for (const s of opened) await s.close().catch(() => undefined);
      await dropScratchDatabase(name);
    },
  };
}

export function intakeFor(store: Store, o: { hubspotAppId?: string } = {}) {
  const metrics = createMetrics();
  const queue = new JobQueue(store);
  const intake = createIntake({ store, queue, metrics, logger: silent, hubspotAppId: o.hubspotAppId });
  return { metrics, queue, intake };
}

let portal = 70_000_000;

/** A tenant with made-up credentials (no connector is called). */
export async function makeTenant(store: Store, over: { id?: string; applicationUserId?: string; appId?: string } = {}) {
  const portalId = ++portal;
  return createTenant(store, {
    id: over.id,
    settings: {
      hubspot: { portalId, basePath: 'http://127.0.0.1:9', appId: over.appId ?? '3100001', clientId: 'client-id' },
      dynamics: {
        orgUrl: 'http://127.0.0.1:9', authorityUrl: 'https://127.0.0.1:9/tenant', clientId: 'dv-client',
        ...(over.applicationUserId ? { applicationUserId: over.applicationUserId } : {}),
      },
    },
    secrets: { hubspotClientSecret: 'hs-secret', hubspotRefreshToken: 'refresh', dynamicsClientSecret: 'dv-secret' },
  }).then((c) => ({ ...c, portalId }));
}

export async function until(check: () => Promise<boolean> | boolean, timeoutMs = 10_000, stepMs = 25): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
