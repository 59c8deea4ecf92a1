/**
 * Installs a tenant for the sync benchmarks into a data directory before the server process starts, the way
 * the `npm start` demo wires its own: HubSpot app install, Dynamics connection, both systems' webhooks
 * pointing at the server's URL. Done here, in the bench's process, so that the server's process holds
 * nothing but the running product when its memory is measured.
 */
import pino from 'pino';
import { loadConfig } from '../../server/src/config.ts';
import { createMetrics } from '../../server/src/observability/metrics.ts';
import { loadKeyring } from '../../server/src/security/key-file.ts';
import { openStore } from '../../server/src/store/index.ts';
import { TenantContexts } from '../../server/src/sync/tenant-context.ts';
import { connectTenant, createTenant, registerDataverseWebhook, registerHubSpotAppWebhooks } from '../../server/src/tenants/index.ts';
import { sandboxTenantInput } from '../sandbox-tenant.ts';
import type { SandboxLine } from './sandboxes.ts';

export const BENCH_TENANT_ID = 'bench';

/** The environment the server process needs for this tenant's sandboxes (beside PORT and the like). */
export function serverEnv(info: SandboxLine, dataDir: string, encryptionKey: string): Record<string, string> {
  return {
    DATA_DIR: dataDir,
    ENCRYPTION_KEY: encryptionKey,
    HUBSPOT_CLIENT_ID: info.hubspot.clientId,
    HUBSPOT_CLIENT_SECRET: info.hubspot.clientSecret,
    HUBSPOT_APP_ID: String(info.hubspot.appId),
  };
}

export async function provisionTenant(o: { info: SandboxLine; env: Record<string, string>; serverUrl: string }): Promise<{ tenantId: string; apiKey: string }> {
  const { hubspot } = o.info;
  const config = loadConfig(o.env);
  const store = await openStore(config, { keyring: loadKeyring(config) });
  try {
    const contexts = new TenantContexts({ store, metrics: createMetrics(), logger: pino({ level: 'silent' }) });
    const created = await createTenant(store, sandboxTenantInput(o.info, { id: BENCH_TENANT_ID }));
    const connected = await connectTenant(store, contexts, BENCH_TENANT_ID, { publicUrl: o.serverUrl });
    const ctx = await contexts.get(BENCH_TENANT_ID);
    await registerDataverseWebhook(ctx.dynamics, { url: connected.webhookUrls.dynamics, key: created.webhookKey });
    await registerHubSpotAppWebhooks({ basePath: hubspot.baseUrl, appId: hubspot.appId, developerApiKey: hubspot.developerApiKey, targetUrl: connected.webhookUrls.hubspot });
    return { tenantId: BENCH_TENANT_ID, apiKey: created.apiKey };
  } finally {
    await store.close();
  }
}
