import { createHash, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../contracts.ts';
import { entraErrors, type EntraError } from './entra-errors.ts';
import { sameResource, type TokenService } from './tokens.ts';

export interface RegisteredClient {
  clientId: string;
  clientSecret: string;
  principal: Principal;
}

export interface TokenRequest {
  /** Form fields of the POST body. */
  form: Record<string, unknown>;
  /** `Authorization` header: Entra also accepts the client id and secret as HTTP Basic (client_secret_basic). */
  authorization?: string;
  /** msal sends `client-request-id`; Entra echoes it as the correlation id. */
  correlationId?: string;
}

export interface TokenSuccess {
  status: 200;
  body: { token_type: 'Bearer'; expires_in: number; ext_expires_in: number; access_token: string };
}

/** Scopes msal or a caller may add that do not name a resource; Entra ignores them in this flow. */
const OIDC_SCOPES = new Set(['openid', 'profile', 'offline_access', 'email']);

function sameSecret(a: string, b: string): boolean {
  // Hash first so the comparison is constant-time whatever the lengths.
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const match = header ? /^Basic\s+(\S+)$/i.exec(header.trim()) : null;
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  // RFC 6749 §2.3.1: both halves are form-url-encoded before being joined.
  return { id: decodeURIComponent(decoded.slice(0, colon)), secret: decodeURIComponent(decoded.slice(colon + 1)) };
}

const field = (form: Record<string, unknown>, name: string): string | undefined => {
  const v = form[name];
  return typeof v === 'string' && v !== '' ? v : undefined;
};

/**
 * The client-credentials grant of `POST /{tenant}/oauth2/v2.0/token`, checked in the order Entra checks:
 * request shape, then the application, then its secret, then the requested resource.
 */
export function handleTokenRequest(
  req: TokenRequest,
  ctx: { tenantId: string; audience?: string; ttlSeconds: number; clients: Map<string, RegisteredClient>; tokens: TokenService },
): TokenSuccess | EntraError {
  const c = req.correlationId;
  const grant = field(req.form, 'grant_type');
  if (!grant) return entraErrors.missingParameter('grant_type', c);
  if (grant !== 'client_credentials') return entraErrors.unsupportedGrant(grant, c);

  const basic = basicCredentials(req.authorization);
  const clientId = field(req.form, 'client_id') ?? basic?.id;
  if (!clientId) return entraErrors.missingParameter('client_id', c);
  const scope = field(req.form, 'scope');
  if (!scope) return entraErrors.missingParameter('scope', c);

  const client = ctx.clients.get(clientId.toLowerCase());
  if (!client) return entraErrors.unknownClient(clientId, ctx.tenantId, c);
  const secret = field(req.form, 'client_secret') ?? basic?.secret;
  if (!secret) return entraErrors.missingSecret(c);
  if (!sameSecret(secret, client.clientSecret)) return entraErrors.invalidSecret(client.clientId, c);

  const resources = scope.split(/\s+/).filter((s) => s !== '' && !OIDC_SCOPES.has(s.toLowerCase()));
  if (resources.length !== 1 || !resources[0]!.endsWith('/.default')) return entraErrors.scopeNotDefault(scope, c);
  const resource = resources[0]!.slice(0, -'/.default'.length);
  if (ctx.audience !== undefined && !sameResource(resource, ctx.audience)) {
    return entraErrors.resourceNotFound(resource, ctx.tenantId, c);
  }

  return {
    status: 200,
    body: {
      token_type: 'Bearer',
      expires_in: ctx.ttlSeconds,
      ext_expires_in: ctx.ttlSeconds,
      access_token: ctx.tokens.issueAppToken(client.clientId, client.principal, resource),
    },
  };
}
