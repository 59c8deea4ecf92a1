/**
 * Entra-ID-like identity provider for the Dataverse sandbox: an HTTPS token endpoint for the client-credentials
 * grant (what the product's msal client calls), OpenID discovery documents, and the `TokenVerifier` the Web API
 * uses to turn a bearer token into a Principal. Certificates and signing keys are made fresh at every start.
 */
import { randomUUID } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import { listen } from '../../common/listen.ts';
import type { Principal, TokenVerifier } from '../contracts.ts';
import { generateTlsMaterial } from './certificates.ts';
import { entraErrors, type EntraError } from './entra-errors.ts';
import { createSigningKey, publicJwk } from './jwt.ts';
import { handleTokenRequest, type RegisteredClient } from './token-endpoint.ts';
import { createTokenService, type TokenService } from './tokens.ts';

export interface IdentityProviderOptions {
  tenantId: string;
  host?: string;
  /** 0 or absent picks a free port. */
  port?: number;
  /** `expires_in` of application tokens; Entra's usual value is 3599. */
  tokenTtlSeconds?: number;
  /**
   * The environment URL (e.g. `https://sandbox.crm.dynamics.com`). When set, tokens are only issued for this resource
   * (others get AADSTS500011 like a foreign resource would) and the verifier rejects tokens with another `aud`.
   */
  orgUrl?: string;
  clients: Array<{ clientId: string; clientSecret: string; principal: Principal }>;
  users: Array<{ principal: Principal }>;
}

export interface IdentityProvider {
  /** `https://127.0.0.1:PORT/<tenantId>`: the msal `authority`. */
  authorityUrl: string;
  /** PEM of the CA that signed the server certificate; trust it only in sandbox mode. */
  caCert: string;
  /** JSON of the tenant's OpenID configuration, for msal's `authorityMetadata` (saves the discovery round trip). */
  authorityMetadata: string;
  /** JSON of an instance-discovery response naming this host, for msal's `cloudDiscoveryMetadata`. */
  cloudDiscoveryMetadata: string;
  verifier: TokenVerifier;
  /** A long-lived token for a person using Dynamics (a registered user), accepted by the verifier. */
  userToken(systemUserId: string): string;
  close(): Promise<void>;
}

function sendEntraError(res: Response, err: EntraError): void {
  res.status(err.status).set({ 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache' }).json(err.body);
}

function openIdConfiguration(origin: string, tenantId: string): Record<string, unknown> {
  const base = `${origin}/${tenantId}`;
  return {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${base}/v2.0`,
    request_uri_parameter_supported: false,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'cloud_instance_name', 'cloud_instance_host_name', 'cloud_graph_host_name', 'msgraph_host',
      'aud', 'exp', 'iat', 'auth_time', 'acr', 'nonce', 'preferred_username', 'name', 'tid', 'ver', 'at_hash', 'c_hash', 'email'],
    tenant_region_scope: 'NA',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  };
}

function cloudDiscovery(origin: string, tenantId: string): Record<string, unknown> {
  const host = new URL(origin).host;
  return {
    tenant_discovery_endpoint: `${origin}/${tenantId}/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  };
}

export async function startIdentityProvider(o: IdentityProviderOptions): Promise<IdentityProvider> {
  const tenantId = o.tenantId;
  const ttlSeconds = o.tokenTtlSeconds ?? 3599;
  const clients = new Map<string, RegisteredClient>(o.clients.map((c) => [c.clientId.toLowerCase(), { ...c }]));
  const users = new Map(o.users.map((u) => [u.principal.systemUserId.toLowerCase(), u.principal]));
  const tls = await generateTlsMaterial();
  const key = createSigningKey();

  // The issuer contains the port, known only after listening; the routes read these once they are set.
  let origin = '';
  let tokens: TokenService | undefined;

  const app = express();
  app.disable('x-powered-by');
  app.use((req, res, next) => {
    res.set('x-ms-request-id', randomUUID());
    const clientRequestId = req.get('client-request-id');
    if (clientRequestId) res.set('client-request-id', clientRequestId);
    next();
  });

  // Entra accepts the tenant id in any letter case; any other tenant is unknown here.
  const knownTenant = (req: Request, res: Response): boolean => {
    const tenant = String(req.params.tenant);
    if (tenant.toLowerCase() === tenantId.toLowerCase()) return true;
    sendEntraError(res, entraErrors.tenantNotFound(tenant, req.get('client-request-id')));
    return false;
  };

  app.get('/:tenant/v2.0/.well-known/openid-configuration', (req, res) => {
    if (knownTenant(req, res)) res.json(openIdConfiguration(origin, tenantId));
  });
  app.get('/:tenant/discovery/v2.0/keys', (req, res) => {
    if (knownTenant(req, res)) res.json({ keys: [publicJwk(key)] });
  });
  app.get('/common/discovery/instance', (_req, res) => {
    res.json(cloudDiscovery(origin, tenantId));
  });
  app.post('/:tenant/oauth2/v2.0/token', express.urlencoded({ extended: false, limit: '64kb' }), (req, res) => {
    if (!knownTenant(req, res)) return;
    const result = handleTokenRequest(
      {
        form: (req.body ?? {}) as Record<string, unknown>,
        authorization: req.get('authorization'),
        // msal sends client-request-id as a header, a query parameter and a form field; any of them is the correlation.
        correlationId: req.get('client-request-id') ?? (typeof req.query['client-request-id'] === 'string' ? req.query['client-request-id'] : undefined),
      },
      { tenantId, audience: o.orgUrl, ttlSeconds, clients, tokens: tokens! },
    );
    if (result.status !== 200) return sendEntraError(res, result as EntraError);
    res.status(200).set({ 'Cache-Control': 'no-store, no-cache', Pragma: 'no-cache' }).json(result.body);
  });

  const server = await listen(app, { host: o.host ?? '127.0.0.1', port: o.port ?? 0, tls: { key: tls.key, cert: tls.cert } });
  origin = server.url;
  tokens = createTokenService({
    tenantId,
    issuer: `${origin}/${tenantId}/`,
    audience: o.orgUrl,
    ttlSeconds,
    key,
    principals: [...o.clients.map((c) => c.principal), ...o.users.map((u) => u.principal)],
  });

  const service = tokens;
  return {
    authorityUrl: `${origin}/${tenantId}`,
    caCert: tls.caCert,
    authorityMetadata: JSON.stringify(openIdConfiguration(origin, tenantId)),
    cloudDiscoveryMetadata: JSON.stringify(cloudDiscovery(origin, tenantId)),
    verifier: service.verifier,
    userToken(systemUserId: string): string {
      const principal = users.get(systemUserId.toLowerCase());
      if (!principal) throw new Error(`userToken: no user with systemUserId ${systemUserId} was registered with the identity provider`);
      return service.issueUserToken(principal);
    },
    close: () => server.close(),
  };
}

export type { TokenVerifier };
