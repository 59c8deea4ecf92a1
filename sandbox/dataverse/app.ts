import type { IncomingMessage } from 'node:http';
import express, { type Request, type Response } from 'express';
import type { FaultInjector, FaultResponder } from '../common/faults.ts';
import type { Principal, TokenCheck, TokenVerifier } from './contracts.ts';
import { Codes, DataverseError } from './errors.ts';
import { errorResponse, newRequestIds, type ApiResponse, type WebApi } from './api.ts';
import { executeBatch } from './batch.ts';
import type { ServiceProtection } from './limits.ts';
import { API_PREFIX } from './paths.ts';
import { sameOriginWrite, type BrowserSessions } from './sessions.ts';

/**
 * HTTP: fault injection, then the org pages (main.aspx signs the browser in), then authentication: a bearer
 * token, or without an Authorization header the browser's session cookie (401 + WWW-Authenticate either way),
 * then per-user service protection (429 + Retry-After), then the Web API or $batch. Control routes live
 * under /__sandbox.
 */

export interface AppDeps {
  api: WebApi;
  faults: FaultInjector;
  limits: ServiceProtection;
  /** Set once the identity provider is up (it needs the org URL as token audience). */
  auth: () => { verifier: TokenVerifier; authorityUrl: string } | undefined;
  /** Org-URL pages outside the Web API (web resources, main.aspx), served without a token. */
  orgRoutes?: express.Router;
  /** Browser sessions: opening main.aspx signs in, and the cookie then authenticates Web API calls. */
  sessions?: BrowserSessions;
  /** Request bodies above this many bytes get 413. */
  maxBodyBytes?: number;
  /** More `/__sandbox/*` control routes (never faulted, no token). */
  control?: express.Router;
}

const JSON_TYPE = 'application/json; odata.metadata=minimal; odata.streaming=true; IEEE754Compatible=false; charset=utf-8';

function send(res: Response, r: ApiResponse): void {
  res.status(r.status);
  res.set('OData-Version', '4.0');
  for (const [k, v] of Object.entries(r.headers)) res.set(k, v);
  if (r.json !== undefined) {
    res.set('Content-Type', JSON_TYPE);
    res.end(JSON.stringify(r.json));
  } else if (r.text) {
    res.set('Content-Type', r.text.contentType);
    res.end(r.text.body);
  } else {
    res.end();
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new DataverseError(413, Codes.InvalidArgument, `The request body exceeds the maximum size of ${limit} bytes.`));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Injected faults answer like Dataverse: 429 with Retry-After and the request-limit code. */
export const dataverseFaultResponder: FaultResponder = {
  tooManyRequests(_req, res) {
    send(res, {
      status: 429, headers: { 'Retry-After': '2' },
      json: new DataverseError(429, Codes.TooManyRequests, 'Number of requests exceeded the limit of 6000 over time window of 300 seconds.').body(),
    });
  },
  serverError(_req, res, status) {
    send(res, { status, headers: {}, json: new DataverseError(status, Codes.Generic, status === 502 ? 'Bad Gateway' : 'Generic SQL error.').body() });
  },
};

/**
 * Remembers accepted tokens until their `exp`, so a busy client does not pay an RSA signature check per
 * request. Only successful checks are cached, and a cached token still expires on time.
 */
export function cachingVerifier(inner: TokenVerifier, now: () => number = Date.now): TokenVerifier {
  const cache = new Map<string, { check: ReturnType<TokenVerifier['verify']>; expiresAt: number }>();
  return {
    verify(authorization) {
      if (!authorization) return inner.verify(authorization);
      const hit = cache.get(authorization);
      if (hit && hit.expiresAt > now()) return hit.check;
      if (hit) cache.delete(authorization);
      const check = inner.verify(authorization);
      if (check.ok) {
        const exp = jwtExpiry(authorization);
        if (exp !== undefined) {
          if (cache.size > 10_000) cache.clear();
          cache.set(authorization, { check, expiresAt: exp * 1000 });
        }
      }
      return check;
    },
  };
}

function jwtExpiry(authorization: string): number | undefined {
  try {
    const payload = authorization.replace(/^Bearer\s+/i, '').split('.')[1];
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp : undefined;
  } catch {
    return undefined;
  }
}

export function createApp(deps: AppDeps): express.Express {
  const { api, faults, limits } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');

  app.use(faults.router());
  if (deps.control) app.use(deps.control);
  app.get('/__sandbox/service-protection', (_req, res) => {
    res.json({ enabled: limits.enabled, requestsPerWindow: limits.requestsPerWindow, windowMs: limits.windowMs });
  });
  app.put('/__sandbox/service-protection', express.json(), (req, res) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const num = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined);
    if ((b.requestsPerWindow !== undefined && !num(b.requestsPerWindow)) || (b.windowMs !== undefined && !num(b.windowMs)) || (b.enabled !== undefined && typeof b.enabled !== 'boolean')) {
      res.status(400).json({ message: 'requestsPerWindow and windowMs must be positive integers, enabled a boolean.' });
      return;
    }
    limits.configure({ requestsPerWindow: num(b.requestsPerWindow), windowMs: num(b.windowMs), enabled: b.enabled as boolean | undefined });
    res.json({ enabled: limits.enabled, requestsPerWindow: limits.requestsPerWindow, windowMs: limits.windowMs });
  });

  app.use(faults.middleware(dataverseFaultResponder, (req) => req.path.startsWith('/__sandbox')));
  // The form page is where a person's browser arrives; signing in there gives its web resources a session.
  if (deps.sessions) app.get('/main.aspx', deps.sessions.signIn());
  if (deps.orgRoutes) app.use(deps.orgRoutes);

  /** The caller of a Web API request: the bearer token when there is an Authorization header, else the session cookie. */
  const authenticate = (req: Request): Principal => {
    const auth = deps.auth();
    if (!auth) throw new DataverseError(503, Codes.Generic, 'The identity provider is not ready.');
    const authorization = req.get('authorization');
    let check: TokenCheck;
    if (authorization === undefined && deps.sessions) {
      const session = deps.sessions.check(req.get('cookie'));
      // A bad or expired cookie is answered exactly like no credential at all, so it reveals nothing about sessions.
      check = session.ok ? session : { ok: false, reason: 'missing' };
    } else {
      check = auth.verifier.verify(authorization);
    }
    if (!check.ok) {
      const reason = { missing: 'Bearer token is missing.', invalid: 'Bearer token is not valid.', expired: 'Bearer token has expired.' }[check.reason];
      throw new DataverseError(401, Codes.Unauthorized, `Unauthorized. ${reason}`, {
        'WWW-Authenticate': `Bearer authorization_uri=${auth.authorityUrl}/oauth2/authorize, resource_id=${api.orgUrl}/`,
      });
    }
    if (authorization === undefined && !['GET', 'HEAD', 'OPTIONS'].includes(req.method)) {
      // Cookie-only writes must come from the org's own pages (see sameOriginWrite); reads need no check,
      // since a foreign page cannot read a cross-origin answer unless CORS allows it, and nothing here allows credentialed CORS.
      const same = sameOriginWrite(req);
      if (!same.ok) {
        throw new DataverseError(403, Codes.Unauthorized,
          `Forbidden. A request authenticated by the browser session must come from the organization's own pages (${same.why}); other callers need a bearer token.`);
      }
    }
    return check.principal;
  };

  app.use(async (req: Request, res: Response) => {
    const ids = newRequestIds();
    res.set('x-ms-service-request-id', ids.requestId);
    res.set('REQ_ID', ids.requestId);
    try {
      const url = req.originalUrl;
      const prefixless = API_PREFIX.slice(0, -1);
      if (!(url === prefixless || url.startsWith(API_PREFIX) || url.startsWith(`${prefixless}?`))) {
        // Unknown versions and paths: the service answers 404 without an OData body.
        throw new DataverseError(404, Codes.OData, `Resource not found for the segment '${url.split('?')[0]}'.`);
      }
      const principal = authenticate(req);
      const limit = limits.take(principal.systemUserId);
      if (!limit.ok) {
        throw new DataverseError(429, Codes.TooManyRequests,
          `Number of requests exceeded the limit of ${limit.limit} over time window of ${Math.round(limit.windowMs / 1000)} seconds.`,
          { 'Retry-After': String(limit.retryAfterSeconds) });
      }
      res.set('x-ms-ratelimit-burst-remaining-xrm-requests', String(limit.remaining));
      const body = req.method === 'GET' || req.method === 'HEAD' ? '' : await readBody(req, deps.maxBodyBytes ?? 32 * 1024 * 1024);
      const q = url.indexOf('?');
      const pathPart = (q < 0 ? url : url.slice(0, q)).slice(API_PREFIX.length);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k.toLowerCase()] = v;
      const apiReq = {
        method: req.method, path: pathPart, search: q < 0 ? '' : url.slice(q), headers, body, principal,
        requestId: ids.requestId, correlationId: req.get('x-ms-correlation-request-id') ?? ids.correlationId,
      };
      const result = pathPart === '$batch' && req.method === 'POST' ? await executeBatch(api, apiReq) : await api.handle(apiReq);
      send(res, result);
    } catch (err) {
      send(res, errorResponse(err));
    }
  });
  return app;
}
