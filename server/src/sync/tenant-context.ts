import type { Logger } from 'pino';
import { DataverseConnector } from '../connectors/dataverse/connector.ts';
import { createDataverseTokenSource } from '../connectors/dataverse/token.ts';
import { HubSpotConnector } from '../connectors/hubspot/connector.ts';
import { createHubSpotTokenSource } from '../connectors/hubspot/tokens.ts';
import { InMemoryRateBudget, type RateBudget } from '../connectors/rate-budget.ts';
import type { ApiCallObserver } from '../connectors/http-retry.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { Store } from '../store/index.ts';
import { SECRET_NAMES, parseTenantSettings, type TenantSettings } from '../tenants/settings.ts';
import type { DynamicsAttributeMeta, DynamicsType, HubSpotPropertyMeta, HubSpotType } from './rules/types.ts';
import type { MetadataAccess, OwnerDirectory } from './rules/mapping.ts';
import { normaliseEmail } from './rules/match.ts';

/**
 * Everything the worker needs about one tenant, built once and cached: settings, the two connectors (with
 * their token sources, rate budgets and metadata caches) and the owner directory. `invalidate` drops it
 * after settings or credentials change.
 */
export interface TenantContext {
  tenantId: string;
  mainSwitch: boolean;
  mode: 'uat' | 'production';
  settings: TenantSettings;
  hubspot: HubSpotConnector;
  dynamics: DataverseConnector;
  /** Metadata of one HubSpot object and one Dataverse table, in the rules' shapes. */
  metadata(hubspotObject: string, dynamicsEntity: string, o?: { refresh?: boolean }): Promise<MetadataAccess>;
  owners(o?: { refresh?: boolean }): Promise<OwnerDirectory>;
}

export interface TenantContextDeps {
  store: Store;
  metrics: Metrics;
  logger: Logger;
  /** Shared by every tenant's connectors; a PostgreSQL-backed budget replaces it when processes share limits. */
  budget?: RateBudget;
}

const OWNERS_TTL_MS = 10 * 60_000;

export class TenantContexts {
  private readonly cache = new Map<string, Promise<TenantContext>>();
  private readonly budget: RateBudget;

  constructor(private readonly deps: TenantContextDeps) {
    this.budget = deps.budget ?? new InMemoryRateBudget();
  }

  get(tenantId: string): Promise<TenantContext> {
    let ctx = this.cache.get(tenantId);
    if (!ctx) {
      ctx = this.build(tenantId);
      this.cache.set(tenantId, ctx);
      // A failed build (missing secret, bad settings) must not be cached: the fix should take effect at once.
      ctx.catch(() => this.cache.delete(tenantId));
    }
    return ctx;
  }

  invalidate(tenantId: string): void {
    this.cache.delete(tenantId);
  }

  private async build(tenantId: string): Promise<TenantContext> {
    const { store, metrics } = this.deps;
    const tenant = await store.tenants.get(tenantId);
    if (!tenant) throw Object.assign(new Error(`Tenant ${tenantId} does not exist`), { terminal: true });
    const settings = parseTenantSettings(tenant.settings);
    if (!settings.dynamics) {
      throw Object.assign(new Error(`Tenant ${tenantId} is not connected to Dynamics yet: connect it with the org URL and client credentials`), { terminal: true });
    }
    const secret = async (name: string) => {
      const value = await store.secrets.get(tenantId, name);
      if (!value) throw Object.assign(new Error(`Tenant ${tenantId} has no ${name} stored: reconnect the tenant`), { terminal: true });
      return value;
    };
    const observer: ApiCallObserver = (system, operation, status) => metrics.apiCalls.inc({ system, operation, status: String(status) });

    const hubspotTokens = createHubSpotTokenSource({
      basePath: settings.hubspot.basePath,
      portalId: settings.hubspot.portalId,
      clientId: settings.hubspot.clientId,
      clientSecret: await secret(SECRET_NAMES.hubspotClientSecret),
      refreshToken: await secret(SECRET_NAMES.hubspotRefreshToken),
      accessToken: await store.secrets.get(tenantId, SECRET_NAMES.hubspotAccessToken),
      expiresAt: settings.hubspot.accessTokenExpiresAt,
      budget: this.budget,
      observer,
      onTokens: async (tokens) => {
        await store.secrets.put(tenantId, SECRET_NAMES.hubspotAccessToken, tokens.accessToken);
        await store.secrets.put(tenantId, SECRET_NAMES.hubspotRefreshToken, tokens.refreshToken);
        const current = await store.tenants.get(tenantId);
        if (current) {
          const s = current.settings as { hubspot?: Record<string, unknown> };
          await store.tenants.update(tenantId, { settings: { ...s, hubspot: { ...s.hubspot, accessTokenExpiresAt: tokens.expiresAt } } });
        }
      },
    });
    const hubspot = new HubSpotConnector({
      portalId: settings.hubspot.portalId,
      basePath: settings.hubspot.basePath,
      tokens: hubspotTokens,
      budget: this.budget,
      observer,
      ownersTtlMs: OWNERS_TTL_MS,
    });
    const d = settings.dynamics;
    const dynamics = new DataverseConnector({
      orgUrl: d.orgUrl,
      tokens: createDataverseTokenSource({
        orgUrl: d.orgUrl,
        authorityUrl: d.authorityUrl,
        tenantId: d.tenantId,
        clientId: d.clientId,
        clientSecret: await secret(SECRET_NAMES.dynamicsClientSecret),
        sandbox: d.sandbox,
      }),
      budget: this.budget,
      observer,
    });

    let users: { at: number; byId: Map<string, string>; byEmail: Map<string, string> } | undefined;
    const loadUsers = async (refresh: boolean) => {
      if (!users || refresh || Date.now() - users.at > OWNERS_TTL_MS) {
        const rows = await dynamics.retrieveAll('systemuser', { select: ['systemuserid', 'internalemailaddress', 'isdisabled'], annotations: false });
        const byId = new Map<string, string>();
        const byEmail = new Map<string, string>();
        for (const r of rows) {
          const email = normaliseEmail(r.internalemailaddress);
          const id = String(r.systemuserid).toLowerCase();
          if (!email) continue;
          byId.set(id, email);
          // A disabled user can still own records, but new assignments go to the enabled one.
          if (!r.isdisabled || !byEmail.has(email)) byEmail.set(email, id);
        }
        users = { at: Date.now(), byId, byEmail };
      }
      return users;
    };

    return {
      tenantId,
      mainSwitch: tenant.mainSwitch,
      mode: tenant.mode,
      settings,
      hubspot,
      dynamics,
      async metadata(hubspotObject, dynamicsEntity, o = {}) {
        const [props, attrs, optionSets] = await Promise.all([
          hubspot.getProperties(hubspotObject, o),
          dynamics.getAttributes(dynamicsEntity, o),
          dynamics.getOptionSets(dynamicsEntity, o),
        ]);
        return {
          hubspotProperty(name: string): HubSpotPropertyMeta | undefined {
            const p = props.get(name);
            return p && { name: p.name, type: p.type as HubSpotType, fieldType: p.fieldType, options: p.options };
          },
          dynamicsAttribute(logicalName: string): DynamicsAttributeMeta | undefined {
            const a = attrs.get(logicalName);
            if (!a) return undefined;
            const type = (a.typeName === 'MultiSelectPicklistType' ? 'MultiSelectPicklist' : a.type) as DynamicsType;
            return { logicalName, type, options: optionSets.get(logicalName)?.options };
          },
        };
      },
      async owners(o = {}) {
        const [owners, u] = await Promise.all([hubspot.listOwners(o), loadUsers(o.refresh ?? false)]);
        const ownerEmail = new Map<string, string>();
        const ownerByEmail = new Map<string, string>();
        for (const owner of owners) {
          const email = normaliseEmail(owner.email);
          if (!email) continue;
          ownerEmail.set(owner.id, email);
          ownerByEmail.set(email, owner.id);
        }
        return {
          emailOfHubSpotOwner: (id) => ownerEmail.get(id),
          hubspotOwnerIdByEmail: (email) => ownerByEmail.get(email),
          emailOfSystemUser: (id) => u.byId.get(id.toLowerCase()),
          systemUserIdByEmail: (email) => u.byEmail.get(email),
        };
      },
    };
  }
}
