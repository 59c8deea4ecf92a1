import express from 'express';
import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.ts';
import type { Store } from '../store/index.ts';
import type { Intake } from '../intake/accept.ts';
import type { JobQueue } from '../queue/job-queue.ts';
import { errorHandler, notFound, requestId } from './errors.ts';
import { hubspotWebhookRouter } from './routes/hubspot-webhook.ts';
import { dynamicsWebhookRouter } from './routes/dynamics-webhook.ts';
import { healthRouter } from './routes/health.ts';
import { adminRouter, type AdminDeps } from './routes/admin.ts';
import { dynamicsRouter } from './routes/dynamics.ts';
import { embedRouter } from './routes/embed.ts';
import type { TenantContexts } from '../sync/tenant-context.ts';

export interface HttpDeps {
  store: Store;
  metrics: Metrics;
  logger: Logger;
  intake: Intake;
  queue: JobQueue;
  scheduler: AdminDeps['scheduler'];
  /** Per-tenant connectors and settings (the resync and Dynamics routes call the tenant's systems). */
  contexts: Pick<TenantContexts, 'get' | 'invalidate'>;
  /** PUBLIC_URL: the external base URL, for rebuilding the URL HubSpot signed behind a proxy. */
  publicUrl?: string;
  /** HUBSPOT_CLIENT_SECRET: verifies HubSpot signatures. */
  hubspotClientSecret?: string;
  refreshQueueDepth?: () => Promise<void>;
  /** Express `trust proxy` (e.g. 1 behind one reverse proxy) so req.protocol/host are the caller's. */
  trustProxy?: boolean | number | string;
}

/**
 * The server's HTTP surface. Each route module parses its own body: the webhooks need the raw bytes (the
 * HubSpot signature covers them), the admin API takes small JSON. Nothing else in the server imports http/.
 */
export function createHttpApp(deps: HttpDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  if (deps.trustProxy !== undefined) app.set('trust proxy', deps.trustProxy);
  app.use(requestId);
  app.use(healthRouter(deps));
  app.use(hubspotWebhookRouter({ store: deps.store, intake: deps.intake, publicUrl: deps.publicUrl, clientSecret: deps.hubspotClientSecret }));
  app.use(dynamicsWebhookRouter({ store: deps.store, intake: deps.intake }));
  app.use('/api/tenants/:id/dynamics', dynamicsRouter({ store: deps.store, contexts: deps.contexts }));
  app.use('/api/tenants/:id', adminRouter(deps));
  app.use(embedRouter({ store: deps.store, contexts: deps.contexts }));
  app.use(notFound);
  app.use(errorHandler(deps.logger));
  return app;
}
