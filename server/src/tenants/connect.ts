import type { DataverseConnector } from '../connectors/dataverse/connector.ts';
import type { HubSpotConnector } from '../connectors/hubspot/connector.ts';
import { DYNAMICS_LINK_GROUP, DYNAMICS_LINK_PROPERTIES } from '../connectors/hubspot/link-properties.ts';
import type { Store } from '../store/index.ts';

/**
 * Connecting a tenant prepares both systems for the sync (idempotent: safe to run again):
 * - HubSpot: the `dynamics_id` / `dynamics_entity` / `dynamics_url` properties on contacts, companies, deals;
 * - Dynamics: the `<prefix>_hubspotid` column + alternate key on lead, contact, account, opportunity (the
 *   upsert key that makes every write idempotent);
 * - the application user the server runs as (WhoAmI), saved for echo suppression of Dataverse webhooks.
 */

export const LINKED_HUBSPOT_OBJECTS = ['contacts', 'companies', 'deals'] as const;
export const LINKED_DYNAMICS_TABLES = ['lead', 'contact', 'account', 'opportunity'] as const;

export interface ConnectContexts {
  get(tenantId: string): Promise<{
    settings: { prefix: string };
    hubspot: Pick<HubSpotConnector, 'ensureProperties'>;
    dynamics: Pick<DataverseConnector, 'ensureHubSpotIdColumn' | 'whoAmI'>;
  }>;
  invalidate(tenantId: string): void;
}

export interface ConnectResult {
  applicationUserId: string;
  hubspotPropertiesCreated: Record<string, string[]>;
  dynamicsColumns: Record<string, { column: string; columnCreated: boolean; keyCreated: boolean; keyStatus?: string }>;
  /** Where each system must send its webhooks (register them with these). */
  webhookUrls: { hubspot: string; dynamics: string };
}

export async function connectTenant(store: Store, contexts: ConnectContexts, tenantId: string, o: { publicUrl: string }): Promise<ConnectResult> {
  // Credentials or settings may have changed since the context was built.
  contexts.invalidate(tenantId);
  const ctx = await contexts.get(tenantId);
  const hubspotPropertiesCreated: ConnectResult['hubspotPropertiesCreated'] = {};
  for (const object of LINKED_HUBSPOT_OBJECTS) {
    hubspotPropertiesCreated[object] = (await ctx.hubspot.ensureProperties(object, DYNAMICS_LINK_GROUP, DYNAMICS_LINK_PROPERTIES)).created;
  }
  const dynamicsColumns: ConnectResult['dynamicsColumns'] = {};
  for (const table of LINKED_DYNAMICS_TABLES) dynamicsColumns[table] = await ctx.dynamics.ensureHubSpotIdColumn(table, ctx.settings.prefix);
  const applicationUserId = (await ctx.dynamics.whoAmI()).userId.toLowerCase();

  // Fresh read-modify-write of the settings: only `dynamics.applicationUserId` changes.
  const tenant = await store.tenants.get(tenantId);
  if (!tenant) throw new Error(`Tenant ${tenantId} does not exist`);
  const settings = tenant.settings as { dynamics?: Record<string, unknown> };
  await store.tenants.update(tenantId, { settings: { ...settings, dynamics: { ...settings.dynamics, applicationUserId } } });
  contexts.invalidate(tenantId);

  const base = o.publicUrl.replace(/\/+$/, '');
  return {
    applicationUserId,
    hubspotPropertiesCreated,
    dynamicsColumns,
    webhookUrls: { hubspot: `${base}/webhooks/hubspot`, dynamics: `${base}/webhooks/dynamics/${encodeURIComponent(tenantId)}` },
  };
}
