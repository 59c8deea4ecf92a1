import type { Keyring } from '../security/encryption.ts';
import { createDatabase, type Db } from './database.ts';
import { migrateToLatest } from './migrate.ts';
import { systemClock, type Clock } from './clock.ts';
import { TenantsRepository } from './repositories/tenants.ts';
import { SecretsRepository } from './repositories/secrets.ts';
import { LinksRepository } from './repositories/links.ts';
import { ShadowsRepository } from './repositories/shadows.ts';
import { InboxRepository } from './repositories/inbox.ts';
import { JobsRepository, type JobsOptions } from './repositories/jobs.ts';
import { SyncErrorsRepository } from './repositories/sync-errors.ts';

export interface Store {
  db: Db;
  tenants: TenantsRepository;
  secrets: SecretsRepository;
  links: LinksRepository;
  shadows: ShadowsRepository;
  inbox: InboxRepository;
  jobs: JobsRepository;
  errors: SyncErrorsRepository;
  close(): Promise<void>;
}

export interface StoreOptions {
  keyring: Keyring;
  clock?: Clock;
  jobs?: JobsOptions;
}

/** Repositories over an open database (migrations already run). */
export function createRepositories(db: Db, o: StoreOptions): Store {
  const clock = o.clock ?? systemClock;
  const k = db.kysely;
  return {
    db,
    tenants: new TenantsRepository(k, clock),
    secrets: new SecretsRepository(k, o.keyring, clock),
    links: new LinksRepository(k, clock),
    shadows: new ShadowsRepository(k, clock),
    inbox: new InboxRepository(k, clock),
    jobs: new JobsRepository(k, db.dialect, clock, o.jobs),
    errors: new SyncErrorsRepository(k, clock),
    close: () => db.close(),
  };
}

/** Start-up path: open the configured database, migrate it, return the repositories. */
export async function openStore(config: { dataDir: string; databaseUrl?: string | undefined }, o: StoreOptions): Promise<Store> {
  const db = createDatabase(config);
  try {
    await migrateToLatest(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return createRepositories(db, o);
}

export { createDatabase, isUniqueViolation, type Db, type DialectName } from './database.ts';
export { migrateToLatest } from './migrate.ts';
export type { Clock } from './clock.ts';
