import type { EmbedEntity, EmbedHubSpotRecord, EmbedResponse } from '../../../dynamics-solution/webresource/embed-contract.ts';
import { ConnectorError } from '../connectors/errors.ts';
import type { Store } from '../store/index.ts';
import type { Tenant } from '../store/repositories/tenants.ts';
import { gate, UAT_FIELDS } from '../sync/rules/gate.ts';
import type { TenantContext } from '../sync/tenant-context.ts';
import { readHubSpotRecord } from './hubspot-view.ts';
import { syncView } from './sync-view.ts';

/**
 * One Dynamics record as the HubSpot tab shows it: the HubSpot record it is linked to (read live) and its
 * sync state (from our tables). Only the tenant's own link table decides what is shown, never the caller.
 */

export interface RecordViewDeps {
  store: Store;
  contexts: { get(tenantId: string): Promise<Pick<TenantContext, 'hubspot' | 'dynamics' | 'settings'>> };
  /**
   * How long the HubSpot half of a view is reused (default 15 s): reloading a form or opening it in two tabs
   * should not spend the portal's API budget the sync needs. Nothing is kept longer, nor on disk.
   */
  cacheTtlMs?: number;
  /** The answer must arrive before the panel gives up (10 s): past this, a slow HubSpot becomes an error. */
  deadlineMs?: number;
  now?: () => number;
}

/** HubSpot or Dynamics could not be read: the panel shows the message; nothing about the record is wrong. */
export class EmbedUpstreamError extends Error {
  constructor(message: string, readonly timeout = false) {
    super(message);
    this.name = 'EmbedUpstreamError';
  }
}

/** The tenant's connectors cannot be built (not connected to Dynamics, a credential missing). */
export class EmbedNotConnectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbedNotConnectedError';
  }
}

const MAX_CACHED = 1000;

export class RecordViews {
  private readonly cache = new Map<string, { at: number; value: Promise<EmbedHubSpotRecord | null> }>();
  private readonly ttlMs: number;
  private readonly deadlineMs: number;
  private readonly now: () => number;

  constructor(private readonly deps: RecordViewDeps) {
    this.ttlMs = deps.cacheTtlMs ?? 15_000;
    this.deadlineMs = deps.deadlineMs ?? 8_000;
    this.now = deps.now ?? Date.now;
  }

  async view(tenant: Tenant, entity: EmbedEntity, id: string): Promise<EmbedResponse> {
    const { store } = this.deps;
    const link = await store.links.findByDynamics(tenant.id, { entity, id });
    const hubspot = link ? await this.hubspotHalf(tenant.id, link.hubspot.object, link.hubspot.id) : null;
    const sync = await syncView(store, {
      tenantId: tenant.id, dynamics: { entity, id }, link,
      inScope: () => this.inScope(tenant, entity, id),
    });
    return hubspot ? { status: 'linked', hubspot, sync } : { status: 'not_synced', sync };
  }

  private async context(tenantId: string) {
    try {
      return await this.deps.contexts.get(tenantId);
    } catch (err) {
      throw new EmbedNotConnectedError((err as Error).message);
    }
  }

  private hubspotHalf(tenantId: string, object: string, id: string): Promise<EmbedHubSpotRecord | null> {
    const key = `${tenantId}\u0000${object}\u0000${id}`;
    const now = this.now();
    const hit = this.cache.get(key);
    if (hit && now - hit.at < this.ttlMs) return this.upstream(hit.value, 'HubSpot');
    for (const [k, v] of this.cache) if (now - v.at >= this.ttlMs || this.cache.size >= MAX_CACHED) this.cache.delete(k);
    const value = this.context(tenantId).then((ctx) => readHubSpotRecord(ctx.hubspot, object, id));
    const entry = { at: now, value };
    this.cache.set(key, entry);
    // A failure is not reused: the next open asks HubSpot again.
    value.catch(() => this.cache.get(key) === entry && this.cache.delete(key));
    return this.upstream(value, 'HubSpot');
  }

  /** UAT mode keeps records without the test marker out; only then is the Dynamics record read. */
  private async inScope(tenant: Tenant, entity: EmbedEntity, id: string): Promise<boolean> {
    if (tenant.mode !== 'uat' || !tenant.mainSwitch) return true;
    const ctx = await this.context(tenant.id);
    const row = await this.upstream(ctx.dynamics.retrieve(entity, id, [UAT_FIELDS[entity].dynamics]), 'Dynamics');
    if (!row) return true;
    return gate({ mainSwitch: tenant.mainSwitch, mode: tenant.mode, markers: ctx.settings.uatMarkers }, entity, 'toHubSpot', row).action !== 'skip';
  }

  /** Connector failures and slowness become one error type with a message a Dynamics user can act on. */
  private upstream<T>(p: Promise<T>, system: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new EmbedUpstreamError(`${system} did not answer within ${Math.round(this.deadlineMs / 1000)} seconds; try again in a moment.`, true)), this.deadlineMs);
    });
    return Promise.race([p, deadline])
      .catch((err: unknown) => {
        if (err instanceof ConnectorError) throw new EmbedUpstreamError(`${system} could not be read: ${err.serviceMessage || err.message}`);
        throw err;
      })
      .finally(() => clearTimeout(timer));
  }
}
