import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.ts';
import type { Store } from '../store/index.ts';
import type { Tenant } from '../store/repositories/tenants.ts';
import type { EnqueueInput, JobQueue } from '../queue/job-queue.ts';
import { isOwnDataverseChange, isOwnHubSpotChange } from '../sync/rules/echo.ts';
import { parseHubSpotEvents, type HubSpotChange } from './hubspot-events.ts';
import { parseDynamicsContext } from './dynamics-context.ts';

/**
 * Webhook deliveries → durable inbox + queue. The HTTP routes call these after authenticating the request;
 * the parsers throw `WebhookPayloadError` for bodies the sender must fix (→ 400). Nothing here reads or keeps
 * field values: the queue carries keys and the worker re-reads the record.
 */

export interface IntakeDeps {
  store: Store;
  queue: JobQueue;
  metrics: Metrics;
  logger: Logger;
  /** The HubSpot app id from the server config; a tenant's own `hubspot.appId` setting wins. */
  hubspotAppId?: string;
}

export interface HubSpotDeliveryResult {
  /** Events recorded and queued now. */
  accepted: number;
  /** Redeliveries of events already in the inbox. */
  duplicates: number;
  /** Events written by our own app (echoes), dropped. */
  echoes: number;
  /** Events of portals with no tenant here (e.g. uninstalled): dropped, or HubSpot would retry them for a day. */
  unknownPortal: number;
}

export interface DynamicsWebhookResult {
  status: 'accepted' | 'duplicate' | 'echo' | 'ignored';
  jobId?: number;
}

/** Settings are JSON; read the one value needed without failing the delivery on an unrelated bad setting. */
function setting(tenant: Tenant, path: [string, string]): string | undefined {
  const group = (tenant.settings as Record<string, unknown>)[path[0]];
  const v = group && typeof group === 'object' ? (group as Record<string, unknown>)[path[1]] : undefined;
  return v === undefined || v === null ? undefined : String(v);
}

function hubspotJobs(tenantId: string, c: HubSpotChange): EnqueueInput[] {
  const trigger = c.kind === 'deletion' ? 'delete' : 'webhook';
  const jobs: EnqueueInput[] = [{ tenantId, system: 'hubspot', objectType: c.object, recordId: c.objectId, trigger }];
  // An association changed: both ends may need their links (lookups) rewritten.
  if (c.related) jobs.push({ tenantId, system: 'hubspot', objectType: c.related.object, recordId: c.related.objectId, trigger: 'association' });
  return jobs;
}

export function createIntake(deps: IntakeDeps) {
  const { store, queue, metrics, logger } = deps;

  async function acceptHubSpotDelivery(body: unknown): Promise<HubSpotDeliveryResult> {
    // Validates the whole delivery before anything is written, so a malformed batch is refused as a whole and
    // HubSpot's retry of it cannot half-apply twice.
    const changes = parseHubSpotEvents(body);
    const result: HubSpotDeliveryResult = { accepted: 0, duplicates: 0, echoes: 0, unknownPortal: 0 };
    const tenants = new Map<number, Tenant | undefined>();
    for (const c of changes) {
      if (!tenants.has(c.portalId)) tenants.set(c.portalId, await store.tenants.findByPortalId(String(c.portalId)));
      const tenant = tenants.get(c.portalId);
      if (!tenant) {
        result.unknownPortal++;
        continue;
      }
      const appId = setting(tenant, ['hubspot', 'appId']) ?? deps.hubspotAppId;
      if (appId && isOwnHubSpotChange(c, appId)) {
        metrics.echoesSuppressed.inc({ direction: 'toDynamics', layer: 'source' });
        result.echoes++;
        continue;
      }
      const r = await queue.recordAndEnqueue(
        tenant.id, 'hubspot', c.eventKey,
        { objectType: c.object, recordId: c.objectId, changeType: c.kind, occurredAt: c.occurredAt, changeSource: c.changeSource, sourceId: c.sourceId },
        hubspotJobs(tenant.id, c),
      );
      if (r.inserted) result.accepted++;
      else result.duplicates++;
    }
    if (result.unknownPortal) logger.warn({ portals: [...tenants].filter(([, t]) => !t).map(([p]) => p) }, 'HubSpot events for portals with no tenant were dropped');
    return result;
  }

  /** `tenant` is already resolved and its webhook key checked by the route. */
  async function acceptDynamicsWebhook(tenant: Tenant, body: unknown, entityHeader?: string): Promise<DynamicsWebhookResult> {
    const change = parseDynamicsContext(body, entityHeader);
    if (!change) return { status: 'ignored' };
    const appUser = setting(tenant, ['dynamics', 'applicationUserId']);
    if (appUser && isOwnDataverseChange({ InitiatingUserId: change.initiatingUserId }, appUser)) {
      metrics.echoesSuppressed.inc({ direction: 'toHubSpot', layer: 'source' });
      return { status: 'echo' };
    }
    const r = await queue.recordAndEnqueue(
      tenant.id, 'dynamics', change.eventKey,
      { objectType: change.entity, recordId: change.id, changeType: change.message },
      [{ tenantId: tenant.id, system: 'dynamics', objectType: change.entity, recordId: change.id, trigger: 'webhook' }],
    );
    return r.inserted ? { status: 'accepted', jobId: r.jobIds[0] } : { status: 'duplicate' };
  }

  return { acceptHubSpotDelivery, acceptDynamicsWebhook };
}

export type Intake = ReturnType<typeof createIntake>;
