import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDataverseSandbox, type DataverseSandbox } from '../../../sandbox/dataverse/index.ts';
import { loadConfig } from '../../../server/src/config.ts';
import { startServer, type RunningServer } from '../../../server/src/main.ts';
import { createTenant, type CreatedTenant } from '../../../server/src/tenants/create.ts';
import { silent } from './harness.ts';

/**
 * A running sync server (SQLite) and a Dataverse sandbox, with tenants whose Dynamics side is that sandbox:
 * what the steps routes and the deploy tool work against. The HubSpot side is never called (main switch off).
 */

export interface ConnectedServer {
  server: RunningServer;
  dataverse: DataverseSandbox;
  /** A tenant connected to `org` (default: this sandbox), or with no Dynamics at all. */
  tenant(o?: { org?: DataverseSandbox | null }): Promise<CreatedTenant>;
  /** POST/PATCH as the sandbox's ordinary user (a person), so SDK steps fire; returns the record id. */
  asUser(method: 'POST' | 'PATCH', path: string, body: unknown): Promise<string>;
  /** Webhook deliveries the server accepted into its inbox for one record. */
  accepted(tenantId: string, recordId: string): Promise<number>;
  close(): Promise<void>;
}

let portal = 81_000_000;

export async function startConnectedServer(): Promise<ConnectedServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sync-connected-'));
  // Deliveries to a repointed or disabled endpoint fail on purpose in these tests; the sandbox would log each.
  const savedLevel = process.env.SANDBOX_LOG_LEVEL;
  process.env.SANDBOX_LOG_LEVEL = 'silent';
  const dataverse = await startDataverseSandbox({ port: 0, identityPort: 0 }).finally(() => {
    if (savedLevel === undefined) delete process.env.SANDBOX_LOG_LEVEL;
    else process.env.SANDBOX_LOG_LEVEL = savedLevel;
  });
  const server = await startServer({ config: loadConfig({ PORT: '0', DATA_DIR: dataDir, LOG_LEVEL: 'silent' }), logger: silent, host: '127.0.0.1', schedule: false });
  const { store } = server;
  return {
    server, dataverse,
    tenant: (o = {}) => {
      const org = o.org === undefined ? dataverse : o.org;
      return createTenant(store, {
        settings: {
          hubspot: { portalId: ++portal, basePath: 'http://127.0.0.1:9', appId: '3100001', clientId: 'client-id' },
          ...(org && {
            dynamics: {
              orgUrl: org.orgUrl, authorityUrl: org.authorityUrl, tenantId: org.tenantId, clientId: org.clientId,
              sandbox: { caCert: org.caCert, authorityMetadata: org.authorityMetadata, cloudDiscoveryMetadata: org.cloudDiscoveryMetadata },
            },
          }),
        },
        secrets: { hubspotClientSecret: 'hs-secret', hubspotRefreshToken: 'refresh', ...(org && { dynamicsClientSecret: org.clientSecret }) },
      });
    },
    asUser: async (method, path, body) => {
      const res = await fetch(`${dataverse.orgUrl}/api/data/v9.2/${path}`, {
        method, headers: { authorization: `Bearer ${dataverse.userToken}`, 'content-type': 'application/json', 'odata-version': '4.0' }, body: JSON.stringify(body),
      });
      if (res.status !== 204) throw new Error(`${method} ${path} as a user: HTTP ${res.status} ${await res.text()}`);
      return /\(([0-9a-f-]{36})\)/.exec(res.headers.get('odata-entityid') ?? '')?.[1] ?? '';
    },
    accepted: async (tenantId, recordId) => {
      await dataverse.webhooks.idle();
      return (await store.inbox.list(tenantId, 10_000)).filter((e) => e.keys.recordId === recordId).length;
    },
    close: async () => {
      await server.close();
      await dataverse.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
