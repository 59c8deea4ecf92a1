import { randomUUID } from 'node:crypto';
import express, { type Response } from 'express';
import { HubSpotError } from './errors.ts';
import { DEFAULT_SCOPES, type SandboxState } from './state.ts';

/**
 * OAuth 2 install flow. `/oauth/authorize` grants at once (no login page) and redirects with `code` + `state`.
 * Installing creates a new portal unless `portal_id=<id>` names an existing one (also `/oauth/<id>/authorize`).
 */

const CODE_TTL_MS = 10 * 60_000;

/** HubSpot's OAuth errors use the error code as `status` (BAD_AUTH_CODE, BAD_REFRESH_TOKEN, ...). */
function oauthError(res: Response, code: string, message: string, status = 400): void {
  res.status(status).json({ status: code, message, correlationId: randomUUID(), requestId: randomUUID() });
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function errorPage(res: Response, title: string, detail: string): void {
  res.status(400).type('html').send(
    `<!doctype html><html><head><title>${escapeHtml(title)}</title></head><body><h1>${escapeHtml(title)}</h1><p>${escapeHtml(detail)}</p></body></html>`,
  );
}

/** Registered redirect URIs, or any local http(s) URL when none are registered (developer convenience). */
export function redirectAllowed(state: SandboxState, uri: string): boolean {
  if (state.app.redirectUris.length) return state.app.redirectUris.includes(uri);
  try {
    const u = new URL(uri);
    return (u.protocol === 'http:' || u.protocol === 'https:') && ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
  } catch {
    return false;
  }
}

export function oauthRouter(state: SandboxState): express.Router {
  const r = express.Router();

  r.get(['/oauth/authorize', '/oauth/:portalId/authorize'], (req, res) => {
    const q = req.query as Record<string, string | undefined>;
    if (q.client_id !== state.app.clientId) return errorPage(res, 'Authorization failed', `Unknown client_id ${q.client_id ?? '(missing)'}.`);
    if (!q.redirect_uri || !redirectAllowed(state, q.redirect_uri)) {
      return errorPage(res, 'Authorization failed', `redirect_uri ${q.redirect_uri ?? '(missing)'} does not match the app's redirect URLs.`);
    }
    const hint = Number(req.params.portalId ?? q.portal_id);
    let portal = Number.isFinite(hint) ? state.portals.get(hint) : undefined;
    if (!portal && (req.params.portalId ?? q.portal_id)) return errorPage(res, 'Authorization failed', `Unknown portal ${req.params.portalId ?? q.portal_id}.`);
    portal ??= state.newPortal();
    const scopes = [...new Set(`${q.scope ?? ''} ${q.optional_scope ?? ''}`.split(/[\s+]+/).filter(Boolean))];
    const code = randomUUID();
    state.authCodes.set(code, {
      code, portalId: portal.portalId, redirectUri: q.redirect_uri, scopes: scopes.length ? scopes : DEFAULT_SCOPES, expiresAt: Date.now() + CODE_TTL_MS,
    });
    const target = new URL(q.redirect_uri);
    target.searchParams.set('code', code);
    if (q.state !== undefined) target.searchParams.set('state', q.state);
    res.redirect(302, target.toString());
  });

  r.post('/oauth/v1/token', express.urlencoded({ extended: false }), (req, res) => {
    const b = (req.body ?? {}) as Record<string, string | undefined>;
    if (b.client_id !== state.app.clientId) return oauthError(res, 'BAD_CLIENT_ID', 'missing or unknown client id');
    if (b.client_secret !== state.app.clientSecret) return oauthError(res, 'BAD_CLIENT_SECRET', 'missing or invalid client secret');
    if (b.grant_type === 'authorization_code') {
      const code = b.code ? state.authCodes.get(b.code) : undefined;
      if (!code || code.expiresAt < Date.now()) return oauthError(res, 'BAD_AUTH_CODE', 'missing or unknown auth code');
      if (b.redirect_uri !== code.redirectUri) return oauthError(res, 'BAD_REDIRECT_URI', 'redirect_uri does not match initial auth code URL');
      state.authCodes.delete(code.code); // single use
      const portal = state.portals.get(code.portalId)!;
      const { access, refresh } = state.install(portal, code.scopes);
      return res.json({
        access_token: access.token, refresh_token: refresh.token, expires_in: state.accessTokenTtlSeconds, token_type: 'bearer',
        hub_id: portal.portalId, user_id: portal.user.userId, scopes: refresh.scopes, token_use: 'access_token',
      });
    }
    if (b.grant_type === 'refresh_token') {
      const refresh = b.refresh_token ? state.refreshTokens.get(b.refresh_token) : undefined;
      if (!refresh) return oauthError(res, 'BAD_REFRESH_TOKEN', 'missing or unknown refresh token');
      const access = state.issueAccessToken(refresh);
      return res.json({
        access_token: access.token, refresh_token: refresh.token, expires_in: state.accessTokenTtlSeconds, token_type: 'bearer',
        hub_id: refresh.portalId, user_id: refresh.userId, scopes: refresh.scopes, token_use: 'access_token',
      });
    }
    oauthError(res, 'BAD_GRANT_TYPE', `unsupported grant_type ${b.grant_type ?? '(missing)'}`);
  });

  r.get('/oauth/v1/access-tokens/:token', (req, res) => {
    const info = state.accessTokens.get(String(req.params.token));
    if (!info || info.expiresAt <= Date.now()) throw new HubSpotError(404, 'OBJECT_NOT_FOUND', 'Token not found or expired');
    res.json({
      token: info.token, user: info.userEmail, hub_domain: `portal-${info.portalId}.sandbox.hubspot.local`, hub_id: info.portalId,
      app_id: state.app.appId, expires_in: Math.floor((info.expiresAt - Date.now()) / 1000), user_id: info.userId, token_type: 'access',
      scopes: info.scopes, is_private_distribution: false,
    });
  });

  r.get('/oauth/v1/refresh-tokens/:token', (req, res) => {
    const info = state.refreshTokens.get(String(req.params.token));
    if (!info) throw new HubSpotError(404, 'OBJECT_NOT_FOUND', 'Refresh token not found');
    res.json({
      token: info.token, user: info.userEmail, hub_domain: `portal-${info.portalId}.sandbox.hubspot.local`, hub_id: info.portalId,
      client_id: state.app.clientId, scopes: info.scopes, token_type: 'refresh', user_id: info.userId,
    });
  });

  // Revoking a refresh token also ends the access tokens minted from it (the install is gone).
  r.delete('/oauth/v1/refresh-tokens/:token', (req, res) => {
    const token = String(req.params.token);
    if (!state.refreshTokens.delete(token)) throw new HubSpotError(404, 'OBJECT_NOT_FOUND', 'Refresh token not found');
    for (const [t, info] of state.accessTokens) if (info.refreshToken === token) state.accessTokens.delete(t);
    res.status(204).end();
  });

  return r;
}
