import type { NextFunction, Request, Response } from 'express';
import { HubSpotError } from './errors.ts';
import type { SandboxState } from './state.ts';
import type { Portal } from './store.ts';
import type { Actor } from './types.ts';

/** Who is calling, resolved once per request by `requireAuth` and read by every CRM route. */
export interface AuthContext {
  portal: Portal;
  actor: Actor;
  /** Rate-limit bucket (portal + app); null for the user token, which the app limits do not apply to. */
  rateKey: string | null;
}

const NO_CREDENTIALS =
  'Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview';

export function auth(res: Response): AuthContext {
  const ctx = res.locals.hubspot as AuthContext | undefined;
  if (!ctx) throw new Error('route mounted without requireAuth');
  return ctx;
}

/** Bearer access token (app) or portal user token (a person in the CRM UI); anything else is a 401. */
export function requireAuth(state: SandboxState) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) return next(new HubSpotError(401, 'INVALID_AUTHENTICATION', NO_CREDENTIALS));
    const token = match[1];
    const access = state.accessTokens.get(token);
    if (access) {
      const ago = Date.now() - access.expiresAt;
      if (ago >= 0) {
        const seconds = Math.max(1, Math.round(ago / 1000));
        return next(new HubSpotError(401, 'EXPIRED_AUTHENTICATION', `The OAuth token used to make this call expired ${seconds} second(s) ago.`));
      }
      const portal = state.portals.get(access.portalId);
      if (!portal) return next(new HubSpotError(401, 'INVALID_AUTHENTICATION', NO_CREDENTIALS));
      res.locals.hubspot = { portal, actor: { kind: 'app', appId: state.app.appId }, rateKey: `${portal.portalId}:${state.app.appId}` } satisfies AuthContext;
      return next();
    }
    const userPortal = state.userTokens.get(token);
    const portal = userPortal === undefined ? undefined : state.portals.get(userPortal);
    if (portal) {
      res.locals.hubspot = { portal, actor: { kind: 'user', userId: portal.user.userId }, rateKey: null } satisfies AuthContext;
      return next();
    }
    next(new HubSpotError(401, 'INVALID_AUTHENTICATION', NO_CREDENTIALS));
  };
}
