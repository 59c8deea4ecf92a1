import express from 'express';
import { notFound, validationError } from './errors.ts';
import type { RateLimiter } from './limits.ts';
import type { SandboxState } from './state.ts';
import type { WebhookDispatcher } from './webhooks.ts';

/**
 * `/__sandbox/…`: test and script control of a running sandbox (no HubSpot equivalent). Never rate-limited or
 * faulted, never authenticated: the sandbox is a local development tool.
 */
export function controlRouter(state: SandboxState, limiter: RateLimiter, dispatcher: WebhookDispatcher, baseUrl: () => string): express.Router {
  const r = express.Router();

  r.get('/__sandbox', (_req, res) => {
    res.json({
      baseUrl: baseUrl(),
      app: state.app,
      portals: [...state.portals.keys()],
      rateLimits: { enabled: limiter.enabled, tenSecondly: limiter.tenSecondly, searchPerSecond: limiter.searchPerSecond },
    });
  });

  r.get('/__sandbox/portals', (_req, res) => {
    res.json({
      results: [...state.portals.values()].map((p) => ({
        portalId: p.portalId, userId: p.user.userId, ownerId: p.user.ownerId, userToken: state.userTokenOf(p),
        counts: { contacts: p.records.contacts.size, companies: p.records.companies.size, deals: p.records.deals.size },
      })),
    });
  });

  r.post('/__sandbox/portals', (_req, res) => {
    res.status(201).json(state.createPortal());
  });

  /** Fresh tokens for an existing portal (as if the app were re-authorised). */
  r.post('/__sandbox/portals/:portalId/tokens', (req, res) => {
    const portal = state.portals.get(Number(req.params.portalId));
    if (!portal) throw notFound(`Portal ${req.params.portalId} not found`);
    res.status(201).json(state.credentials(portal));
  });

  r.post('/__sandbox/portals/:portalId/owners', (req, res) => {
    const portal = state.portals.get(Number(req.params.portalId));
    if (!portal) throw notFound(`Portal ${req.params.portalId} not found`);
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (typeof b.email !== 'string' || !b.email.includes('@')) throw validationError('email is required');
    res.status(201).json(portal.addOwner(String(b.firstName ?? ''), String(b.lastName ?? ''), b.email));
  });

  /** Body `{accessToken}` or `{portalId}`: those access tokens now answer 401 EXPIRED_AUTHENTICATION. */
  r.post('/__sandbox/tokens/expire', (req, res) => {
    const b = (req.body ?? {}) as { accessToken?: unknown; portalId?: unknown };
    if (typeof b.accessToken !== 'string' && typeof b.portalId !== 'number') throw validationError('Give accessToken (string) or portalId (number)');
    const expired = state.expireTokens({
      accessToken: typeof b.accessToken === 'string' ? b.accessToken : undefined,
      portalId: typeof b.portalId === 'number' ? b.portalId : undefined,
    });
    res.json({ expired });
  });

  r.put('/__sandbox/rate-limits', (req, res) => {
    const b = (req.body ?? {}) as { enabled?: unknown };
    if (typeof b.enabled !== 'boolean') throw validationError('enabled (boolean) is required');
    limiter.enabled = b.enabled;
    limiter.reset();
    res.json({ enabled: limiter.enabled, tenSecondly: limiter.tenSecondly, searchPerSecond: limiter.searchPerSecond });
  });

  r.put('/__sandbox/app/redirect-uris', (req, res) => {
    const uris = (req.body as { redirectUris?: unknown })?.redirectUris;
    if (!Array.isArray(uris) || !uris.every((u) => typeof u === 'string')) throw validationError('redirectUris must be an array of strings');
    state.app.redirectUris.splice(0, state.app.redirectUris.length, ...uris);
    res.json({ redirectUris: state.app.redirectUris });
  });

  r.get('/__sandbox/webhooks', (_req, res) => {
    res.json({ settings: dispatcher.settings ?? null, subscriptions: [...dispatcher.subscriptions.values()], stats: dispatcher.stats });
  });

  r.post('/__sandbox/webhooks/idle', async (_req, res) => {
    await dispatcher.idle();
    res.json({ idle: true });
  });

  return r;
}
