import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Client } from '@hubspot/api-client';
import { DynamicsWebApi } from 'dynamics-web-api';
import { startSandboxes, type Sandboxes } from '../../../sandbox/start.ts';
import { DYNAMICS_LINK_GROUP, DYNAMICS_LINK_PROPERTIES } from '../../../server/src/connectors/hubspot/link-properties.ts';
import { createMetrics, type Metrics } from '../../../server/src/observability/metrics.ts';
import { Keyring } from '../../../server/src/security/encryption.ts';
import { openStore, type Store } from '../../../server/src/store/index.ts';
import { SECRET_NAMES, type TenantSettingsInput } from '../../../server/src/tenants/settings.ts';
import { TenantContexts } from '../../../server/src/sync/tenant-context.ts';
import { createSyncWorker, type SyncWorker } from '../../../server/src/sync/worker.ts';
import { scratchPostgres } from '../http/harness.ts';

/**
 * A tenant wired to fresh sandboxes with a SQLite store, and helpers that act as people in each system
 * (HubSpot user token, ordinary Dynamics user) and run the queue's due jobs through the real worker.
 */
export interface SyncHarness {
  sb: Sandboxes;
  store: Store;
  metrics: Metrics;
  tenantId: string;
  worker: SyncWorker;
  contexts: TenantContexts;
  /** HubSpot as a person in the CRM UI. */
  hubspotUser: Client;
  /** Dynamics as an ordinary user. */
  dynamicsUser: DynamicsWebApi;
  enqueue(system: 'hubspot' | 'dynamics', objectType: string, recordId: string): Promise<void>;
  /** Claims and processes every due job (including ones the worker enqueues) until the queue is empty. */
  drain(): Promise<{ processed: number; failed: Array<{ job: string; error: Error }> }>;
  /** Writes made to each system so far, from the metrics. */
  writes(direction: 'toHubSpot' | 'toDynamics'): Promise<number>;
  close(): Promise<void>;
}

/** The worker's tests run on both storage engines, as the product does. */
export const DIALECTS = ['sqlite', 'postgres'] as const;
export type Dialect = (typeof DIALECTS)[number];

export async function startSyncHarness(
  settings: Partial<TenantSettingsInput> = {},
  tenant: { mode?: 'uat' | 'production'; mainSwitch?: boolean } = {},
  dialect: Dialect = 'sqlite',
): Promise<SyncHarness> {
  const sb = await startSandboxes({ hubspotPort: 0, dataversePort: 0, identityPort: 0, rateLimits: false });
  const dir = mkdtempSync(join(tmpdir(), 'sync-worker-'));
  const pg = dialect === 'postgres' ? await scratchPostgres() : undefined;
  const store = pg ? await pg.open() : await openStore({ dataDir: dir }, { keyring: new Keyring({ id: 't', key: Buffer.alloc(32, 3) }) });
  const metrics = createMetrics();
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const { hubspot, dataverse } = sb;

  const input: TenantSettingsInput = {
    hubspot: { portalId: hubspot.portal.portalId, basePath: hubspot.baseUrl, appId: String(hubspot.app.appId), clientId: hubspot.app.clientId },
    dynamics: {
      orgUrl: dataverse.orgUrl, authorityUrl: dataverse.authorityUrl, clientId: dataverse.clientId, applicationUserId: dataverse.applicationUserId,
      sandbox: { caCert: dataverse.caCert, authorityMetadata: dataverse.authorityMetadata, cloudDiscoveryMetadata: dataverse.cloudDiscoveryMetadata },
    },
    ...settings,
  };
  const row = await store.tenants.create({ hubspotPortalId: String(hubspot.portal.portalId), dataverseOrgUrl: dataverse.orgUrl, mode: tenant.mode ?? 'production', mainSwitch: tenant.mainSwitch ?? true, settings: input as Record<string, unknown> });
  await store.secrets.put(row.id, SECRET_NAMES.hubspotRefreshToken, hubspot.portal.refreshToken);
  await store.secrets.put(row.id, SECRET_NAMES.hubspotAccessToken, hubspot.portal.accessToken);
  await store.secrets.put(row.id, SECRET_NAMES.hubspotClientSecret, hubspot.app.clientSecret);
  await store.secrets.put(row.id, SECRET_NAMES.dynamicsClientSecret, dataverse.clientSecret);

  const contexts = new TenantContexts({ store, metrics, logger });
  const ctx = await contexts.get(row.id);
  for (const object of ['contacts', 'companies', 'deals']) await ctx.hubspot.ensureProperties(object, DYNAMICS_LINK_GROUP, DYNAMICS_LINK_PROPERTIES);
  for (const entity of ['lead', 'contact', 'account', 'opportunity']) await ctx.dynamics.ensureHubSpotIdColumn(entity, 'hds');
  contexts.invalidate(row.id);
  const worker = createSyncWorker({ store, contexts, metrics, logger });

  const counter = async (direction: string) => {
    const m = await metrics.writes.get();
    return m.values.filter((v) => v.labels.direction === direction).reduce((n, v) => n + v.value, 0);
  };

  return {
    sb, store, metrics, tenantId: row.id, worker, contexts,
    hubspotUser: new Client({ accessToken: hubspot.portal.userToken, basePath: hubspot.baseUrl }),
    dynamicsUser: new DynamicsWebApi({ serverUrl: dataverse.orgUrl, onTokenRefresh: async () => dataverse.userToken }),
    async enqueue(system, objectType, recordId) {
      await store.jobs.enqueue({ tenantId: row.id, system, objectType, recordId, trigger: 'test' });
    },
    async drain() {
      let processed = 0;
      const failed: Array<{ job: string; error: Error }> = [];
      for (let round = 0; round < 50; round++) {
        const jobs = await store.jobs.claim({ workerId: 'test', limit: 10, leaseMs: 60_000 });
        if (jobs.length === 0) break;
        for (const job of jobs) {
          try {
            await worker.process(job);
            await store.jobs.complete(job.id, 'test');
          } catch (error) {
            failed.push({ job: `${job.system}:${job.objectType}:${job.recordId}`, error: error as Error });
            await store.jobs.fail(job.id, 'test', (error as Error).message, { terminal: true });
          }
          processed += 1;
        }
      }
      return { processed, failed };
    },
    writes: counter,
    async close() {
      await store.close();
      await pg?.drop();
      await sb.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
