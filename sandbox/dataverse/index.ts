import { randomBytes, randomUUID } from 'node:crypto';
import { FaultInjector, type FaultConfig } from '../common/faults.ts';
import { listen } from '../common/listen.ts';
import { WriteLog } from '../common/write-log.ts';
import { registerActions } from './actions.ts';
import { WebApi } from './api.ts';
import { cachingVerifier, createApp } from './app.ts';
import type { ChangeFeed, OrgInfo, Principal, StepRegistry, TokenVerifier } from './contracts.ts';
import { startIdentityProvider } from './identity/index.ts';
import { ServiceProtection } from './limits.ts';
import { registerMetadata } from './metadata.ts';
import { createOrgInfo, createStepRegistry, seedOrg, type OrgSeed } from './org.ts';
import { startWebhookDispatcher } from './plugins/index.ts';
import { Schema } from './schema.ts';
import { BrowserSessions } from './sessions.ts';
import { registerSolutions, type SolutionsOptions } from './solutions/index.ts';
import { Store } from './store.ts';

/**
 * Starts the Dataverse sandbox: the Web API (this folder), an Entra-like identity provider
 * (identity/) whose tokens the API accepts, and the plug-in pipeline (plugins/) that turns committed
 * changes into webhook calls for registered SDK steps. Everything is in memory and fresh per start.
 */

export interface DataverseSandboxOptions {
  host?: string;
  port?: number;
  identityPort?: number;
  faults?: Partial<FaultConfig>;
  serviceProtection?: { requestsPerWindow?: number; windowMs?: number; enabled?: boolean };
  tokenTtlSeconds?: number;
  /** Idle time after which a browser session (signed in by opening main.aspx) ends; default 3600. */
  browserSessionTtlSeconds?: number;
  solutions?: SolutionsOptions;
}

export interface DataverseSandbox {
  /** http://127.0.0.1:PORT (Web API at /api/data/v9.2/) */
  orgUrl: string;
  tenantId: string;
  authorityUrl: string;
  authorityMetadata: string;
  cloudDiscoveryMetadata: string;
  caCert: string;
  /** The integration's application user. */
  clientId: string;
  clientSecret: string;
  applicationUserId: string;
  /** An ordinary Dynamics user (a person). */
  userToken: string;
  userId: string;
  faults: FaultInjector;
  webhooks: { idle(): Promise<void> };
  /** In-process access for tests and tools (not part of the imitated service). */
  internals: { schema: Schema; store: Store; changes: ChangeFeed; steps: StepRegistry; org: OrgInfo; limits: ServiceProtection };
  close(): Promise<void>;
}

export async function startDataverseSandbox(options: DataverseSandboxOptions = {}): Promise<DataverseSandbox> {
  const tenantId = randomUUID();
  const clientId = randomUUID();
  const clientSecret = randomBytes(24).toString('base64url');
  const seed: OrgSeed = {
    organizationId: randomUUID(),
    organizationName: 'sandbox.crm.dynamics.com',
    businessUnitId: randomUUID(),
    applicationUser: { systemUserId: randomUUID(), azureObjectId: randomUUID(), applicationId: clientId, name: 'HubSpot Sync' },
    person: { systemUserId: randomUUID(), azureObjectId: randomUUID(), firstname: 'Dana', lastname: 'Sales', email: 'dana.sales@sandbox.example.com' },
  };
  const appPrincipal: Principal = { systemUserId: seed.applicationUser.systemUserId, azureObjectId: seed.applicationUser.azureObjectId, kind: 'application' };
  const personPrincipal: Principal = { systemUserId: seed.person.systemUserId, azureObjectId: seed.person.azureObjectId, kind: 'user' };

  const schema = new Schema();
  const store = new Store(schema);
  seedOrg(store, seed);
  const org = createOrgInfo(schema, seed);
  const steps = createStepRegistry(store);
  const faults = new FaultInjector(options.faults);
  const limits = new ServiceProtection(options.serviceProtection);

  const api = new WebApi(schema, store, '');
  registerActions(api, { organizationId: seed.organizationId, businessUnitId: seed.businessUnitId });
  registerMetadata(api);
  const solutions = registerSolutions(api, options.solutions);

  const writes = new WriteLog();
  store.onChange((c) => writes.note(c.entity, c.id, c.principal.kind === 'application' ? 'app' : 'user', c.message === 'Create' ? 'create' : 'update'));

  let auth: { verifier: TokenVerifier; authorityUrl: string } | undefined;
  // Browsers sign in as the ordinary user: the application user is a service identity with no interactive login.
  const sessions = new BrowserSessions({
    signInAs: personPrincipal,
    ttlMs: options.browserSessionTtlSeconds === undefined ? undefined : options.browserSessionTtlSeconds * 1000,
  });
  const app = createApp({ api, faults, limits, auth: () => auth, orgRoutes: solutions.router, sessions, control: writes.router() });
  const server = await listen(app, { host: options.host, port: options.port ?? 0 });
  api.orgUrl = server.url;

  let identity: Awaited<ReturnType<typeof startIdentityProvider>>;
  try {
    identity = await startIdentityProvider({
      tenantId, host: options.host, port: options.identityPort, tokenTtlSeconds: options.tokenTtlSeconds, orgUrl: server.url,
      clients: [{ clientId, clientSecret, principal: appPrincipal }],
      users: [{ principal: personPrincipal }],
    });
  } catch (err) {
    await server.close();
    throw err;
  }
  auth = { verifier: cachingVerifier(identity.verifier), authorityUrl: identity.authorityUrl };
  const dispatcher = startWebhookDispatcher({ feed: store, steps, org });

  return {
    orgUrl: server.url,
    tenantId,
    authorityUrl: identity.authorityUrl,
    authorityMetadata: identity.authorityMetadata,
    cloudDiscoveryMetadata: identity.cloudDiscoveryMetadata,
    caCert: identity.caCert,
    clientId,
    clientSecret,
    applicationUserId: seed.applicationUser.systemUserId,
    userToken: identity.userToken(personPrincipal.systemUserId),
    userId: personPrincipal.systemUserId,
    faults,
    webhooks: { idle: () => dispatcher.idle() },
    internals: { schema, store, changes: store, steps, org, limits },
    close: async () => {
      dispatcher.stop();
      faults.releaseHung();
      await Promise.all([server.close(), identity.close()]);
    },
  };
}
