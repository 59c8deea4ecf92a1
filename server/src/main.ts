import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import type { Logger } from 'pino';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { createLogger } from './observability/logger.ts';
import { createMetrics, type Metrics } from './observability/metrics.ts';
import { loadKeyring } from './security/key-file.ts';
import { openStore, type Store } from './store/index.ts';
import { PostgresCallLog } from './store/rate-budget.ts';
import { InMemoryRateBudget, RollingRateBudget } from './connectors/rate-budget.ts';
import { TenantContexts } from './sync/tenant-context.ts';
import { createSyncWorker } from './sync/worker.ts';
import { JobQueue } from './queue/job-queue.ts';
import { QueueRunner, type JobProcessor } from './queue/runner.ts';
import { createIntake } from './intake/accept.ts';
import { Scheduler } from './intake/scheduler.ts';
import { createHttpApp } from './http/app.ts';

/**
 * Entry point: config → keyring → store → tenant contexts, worker, queue runner, scheduler → HTTP.
 * `startServer` is what tests and `scripts/start.ts` use; run directly (`tsx server/src/main.ts`) it reads
 * the environment and runs until SIGTERM/SIGINT.
 */

export interface StartServerOptions {
  config: Config;
  logger?: Logger;
  /** Replaces the sync worker (tests). */
  worker?: JobProcessor;
  /** Jobs run at once by this process (default: the config's WORKER_CONCURRENCY). */
  concurrency?: number;
  /** Idle poll of the queue (default 250 ms). */
  queuePollMs?: number;
  /** Lease per claimed job (default: the config's JOB_LEASE_SECONDS): how long a killed process's jobs wait before another process takes them. */
  leaseMs?: number;
  /** Scheduler tick (default 5 s); the per-tenant poll interval is a tenant setting. */
  schedulerTickMs?: number;
  /** Set false to leave the scheduler stopped (tests that poll with pollNow only). */
  schedule?: boolean;
  host?: string;
}

export interface RunningServer {
  /** http://host:port of the listening server. */
  url: string;
  store: Store;
  metrics: Metrics;
  logger: Logger;
  contexts: TenantContexts;
  queue: JobQueue;
  runner: QueueRunner;
  scheduler: Scheduler;
  close(): Promise<void>;
}

export async function startServer(o: StartServerOptions): Promise<RunningServer> {
  const { config } = o;
  const logger = o.logger ?? createLogger({ level: config.logLevel });
  const metrics = createMetrics();
  const keyring = loadKeyring(config);
  const store = await openStore(config, { keyring });
  // On PostgreSQL all processes count API calls in one table, so a tenant's limits hold however many run;
  // SQLite means a single process, whose memory is enough.
  const sharedBudget = store.db.dialect === 'postgres';
  const budget = sharedBudget ? new RollingRateBudget(new PostgresCallLog(store.db.kysely)) : new InMemoryRateBudget();
  const contexts = new TenantContexts({ store, metrics, logger, budget });
  const queue = new JobQueue(store);
  const worker = o.worker ?? createSyncWorker({ store, contexts, metrics, logger });
  const runner = new QueueRunner({ store, worker, metrics, logger, notifier: queue.notifier, concurrency: o.concurrency ?? config.workerConcurrency, pollIntervalMs: o.queuePollMs, leaseMs: o.leaseMs ?? config.jobLeaseMs });
  const scheduler = new Scheduler({ store, contexts, queue, logger, defaultIntervalMinutes: config.pollIntervalMinutes, tickMs: o.schedulerTickMs });
  const intake = createIntake({ store, queue, metrics, logger, hubspotAppId: config.hubspot.appId });
  const app = createHttpApp({
    store, metrics, logger, intake, queue, scheduler, contexts,
    publicUrl: config.publicUrl, hubspotClientSecret: config.hubspot.clientSecret,
    refreshQueueDepth: () => runner.refreshDepth(),
  });

  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.port, o.host ?? '0.0.0.0', (err?: Error) => (err ? reject(err) : resolve(s)));
      s.once('error', reject);
    });
  } catch (err) {
    await store.close();
    throw err;
  }
  // Webhook senders keep connections alive; without this, close() would wait for their idle sockets.
  server.keepAliveTimeout = 5_000;
  runner.start();
  if (o.schedule !== false) scheduler.start();

  const { port } = server.address() as AddressInfo;
  const host = o.host && o.host !== '0.0.0.0' ? o.host : '127.0.0.1';
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const rateBudget = sharedBudget ? 'postgres (shared by all processes)' : 'memory (this process)';
  logger.info({ url, database: config.databaseUrl ? 'postgres' : 'sqlite', rateBudget }, 'sync server listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // 1. stop taking requests (in-flight ones finish: their inbox writes need the store);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      // 2. no new polls; 3. finish or release running jobs; 4. only then close the database.
      await scheduler.stop();
      await runner.stop();
      await store.close();
      logger.info('sync server stopped');
    })());

  return { url, store, metrics, logger, contexts, queue, runner, scheduler, close };
}

/** CLI: environment → server; config problems are printed as a list and exit 1. */
async function cli(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const running = await startServer({ config });
  const stop = (signal: string) => {
    running.logger.info({ signal }, 'stopping');
    running.close().then(
      () => process.exit(0),
      (err) => {
        running.logger.error({ err }, 'error while stopping');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  cli().catch((err) => {
    process.stderr.write(`Sync server failed to start: ${(err as Error).message}\n`);
    process.exit(1);
  });
}
