import express from 'express';
import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Metrics } from '../../observability/metrics.ts';
import type { Store } from '../../store/index.ts';

export interface HealthDeps {
  store: Store;
  metrics: Metrics;
  logger: Logger;
  /** Refreshes the queue-depth gauge (from the database) before a scrape. */
  refreshQueueDepth?: () => Promise<void>;
}

/** GET /healthz (database reachable → 200, else 503) and GET /metrics (Prometheus text format). */
export function healthRouter(deps: HealthDeps): express.Router {
  const r = express.Router();
  r.get('/healthz', async (_req, res) => {
    try {
      await sql`select 1`.execute(deps.store.db.kysely);
      res.json({ status: 'ok' });
    } catch (err) {
      deps.logger.warn({ err }, 'health check: database unreachable');
      res.status(503).json({ status: 'unavailable', error: { code: 'database_unreachable', message: 'The database does not answer.' } });
    }
  });
  r.get('/metrics', async (_req, res) => {
    await deps.refreshQueueDepth?.();
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  return r;
}
