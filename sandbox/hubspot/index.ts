import { randomUUID } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import pino from 'pino';
import { FaultInjector, type FaultConfig, type FaultResponder } from '../common/faults.ts';
import { listen } from '../common/listen.ts';
import { WriteLog } from '../common/write-log.ts';
import { analyticsControlRouter } from './analytics.ts';
import { associationsRouter } from './associations.ts';
import { requireAuth } from './auth.ts';
import { controlRouter } from './control.ts';
import { errorMiddleware, HubSpotError, sendError, unknownRoute } from './errors.ts';
import { RateLimiter, rateLimitBody } from './limits.ts';
import { oauthRouter } from './oauth.ts';
import { objectsRouter } from './objects.ts';
import { ownersRouter } from './owners.ts';
import { propertiesRouter } from './properties.ts';
import { searchRouter } from './search.ts';
import { SandboxState, type PortalCredentials } from './state.ts';
import { WebhookDispatcher, webhooksRouter } from './webhooks.ts';

export type { PortalCredentials } from './state.ts';

export interface HubSpotSandboxOptions {
  host?: string;
  port?: number;
  faults?: Partial<FaultConfig>;
  rateLimits?: { tenSecondly?: number; searchPerSecond?: number; enabled?: boolean };
  /** Lifetime of OAuth access tokens (HubSpot: 1800). */
  accessTokenTtlSeconds?: number;
  webhookRetry?: { maxAttempts?: number; baseDelayMs?: number };
  /** Allowed OAuth redirect URIs; default: any http(s) URL on localhost / 127.0.0.1. */
  redirectUris?: string[];
  /** Events are collected this long before a POST (default 50 ms). */
  webhookBatchWindowMs?: number;
}

export interface HubSpotSandbox {
  /** `http://127.0.0.1:PORT`, the @hubspot/api-client `basePath`. */
  baseUrl: string;
  app: { appId: number; clientId: string; clientSecret: string; developerApiKey: string };
  /** A first portal, created at start, with the app installed. */
  portal: PortalCredentials;
  createPortal(): PortalCredentials;
  faults: FaultInjector;
  webhooks: { idle(): Promise<void> };
  close(): Promise<void>;
}

/** How injected faults look: HubSpot's own 429 and error bodies, so clients react as they would in production. */
const responder: FaultResponder = {
  tooManyRequests(_req, res) {
    res.status(429).json(rateLimitBody('TEN_SECONDLY_ROLLING', 'publicapi:sandbox-fault'));
  },
  serverError(_req, res, status) {
    res.status(status).json({
      status: 'error', message: status === 502 ? 'Bad Gateway' : 'internal error', correlationId: randomUUID(),
      category: status === 502 ? 'BAD_GATEWAY' : 'INTERNAL_ERROR',
    });
  },
};

/** The Express app; exported for in-process use, `startHubSpotSandbox` is the normal entry. */
function buildApp(state: SandboxState, limiter: RateLimiter, dispatcher: WebhookDispatcher, faults: FaultInjector, writes: WriteLog, baseUrl: () => string) {
  const log = pino({ name: 'hubspot-sandbox', level: process.env.HUBSPOT_SANDBOX_LOG_LEVEL ?? 'warn' });
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(express.json({ limit: '10mb', type: ['application/json', 'application/*+json'] }));
  app.use(faults.router());
  app.use(controlRouter(state, limiter, dispatcher, baseUrl));
  app.use(analyticsControlRouter(state));
  app.use(writes.router());
  app.use(faults.middleware(responder, (req) => req.path.startsWith('/__sandbox')));
  app.use(oauthRouter(state));
  app.use(webhooksRouter(state, dispatcher));
  // Every CRM route needs a token; the app's tokens are then rate-limited per portal.
  const authenticate = requireAuth(state);
  const limit = limiter.middleware();
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (!req.path.startsWith('/crm/')) return next();
    authenticate(req, res, (err?: unknown) => (err ? next(err) : limit(req, res, next)));
  });
  app.use(objectsRouter());
  app.use(searchRouter());
  app.use(propertiesRouter());
  app.use(ownersRouter());
  app.use(associationsRouter());
  app.use(unknownRoute);
  app.use(errorMiddleware((err) => log.error({ err }, 'unexpected error')));
  return app;
}

export async function startHubSpotSandbox(options: HubSpotSandboxOptions = {}): Promise<HubSpotSandbox> {
  let dispatcher: WebhookDispatcher | undefined;
  const writes = new WriteLog();
  const state = new SandboxState(options.accessTokenTtlSeconds ?? 1800, (portal, event) => {
    if (event.kind === 'creation' || event.kind === 'propertyChange') {
      writes.note(event.type, event.id, event.actor.kind, event.kind === 'creation' ? 'create' : 'update', event.at);
    }
    dispatcher?.onChange(portal, event);
  }, options.redirectUris ?? []);
  dispatcher = new WebhookDispatcher(state.app, options.webhookRetry, options.webhookBatchWindowMs ?? 50);
  const limiter = new RateLimiter(options.rateLimits);
  const faults = new FaultInjector(options.faults ?? {});
  let url = '';
  const app = buildApp(state, limiter, dispatcher, faults, writes, () => url);
  const server = await listen(app, { host: options.host, port: options.port });
  url = server.url;
  const portal = state.createPortal();
  const d = dispatcher;
  return {
    baseUrl: url,
    app: { appId: state.app.appId, clientId: state.app.clientId, clientSecret: state.app.clientSecret, developerApiKey: state.app.developerApiKey },
    portal,
    createPortal: () => state.createPortal(),
    faults,
    webhooks: { idle: () => d.idle() },
    close: async () => {
      d.close();
      faults.releaseHung();
      await server.close();
    },
  };
}

export { HubSpotError, sendError };
