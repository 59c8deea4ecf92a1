import { randomBytes } from 'node:crypto';
import type { Store } from '../store/index.ts';
import type { Tenant } from '../store/repositories/tenants.ts';
import type { TenantMode } from '../store/schema.ts';
import { generateWebhookKey } from '../security/webhook-key.ts';
import { SECRET_NAMES, tenantSettingsSchema, type TenantSettingsInput } from './settings.ts';

/**
 * Creating a tenant: validated settings on the row, credentials encrypted in the secrets table, and two keys
 * generated for it — the admin API key and the Dynamics webhook key. Both are returned exactly once: only
 * their ciphertext is kept, and nothing else ever prints them.
 */

export interface CreateTenantInput {
  id?: string;
  /** Defaults to UAT with the main switch off: nothing syncs until someone has looked at the mapping. */
  mode?: TenantMode;
  mainSwitch?: boolean;
  settings: TenantSettingsInput;
  secrets: {
    hubspotClientSecret: string;
    hubspotRefreshToken: string;
    hubspotAccessToken?: string;
    /** Required once `settings.dynamics` is given. */
    dynamicsClientSecret?: string;
  };
}

export interface CreatedTenant {
  tenant: Tenant;
  /** `Authorization: Bearer <apiKey>` for /api/tenants/:id. Shown once. */
  apiKey: string;
  /** Checked on POST /webhooks/dynamics/:tenant (`x-hds-key` header or `?code=`). Shown once. */
  webhookKey: string;
}

export class TenantInputError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Tenant input is invalid: ${problems.join('; ')}`);
    this.name = 'TenantInputError';
    this.problems = problems;
  }
}

/** Admin API keys: a recognisable prefix (secret scanners, support) + 32 random bytes. */
export function generateApiKey(): string {
  return `hds_${randomBytes(32).toString('base64url')}`;
}

export async function createTenant(store: Store, input: CreateTenantInput): Promise<CreatedTenant> {
  const parsed = tenantSettingsSchema.safeParse(input.settings);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `settings.${i.path.join('.')}: ${i.message}`);
  const s = input.secrets ?? ({} as CreateTenantInput['secrets']);
  if (!s.hubspotClientSecret) problems.push('secrets.hubspotClientSecret is required (the HubSpot app\'s client secret)');
  if (!s.hubspotRefreshToken) problems.push('secrets.hubspotRefreshToken is required (from the OAuth install)');
  if (parsed.success && parsed.data.dynamics && !s.dynamicsClientSecret) problems.push('secrets.dynamicsClientSecret is required with settings.dynamics');
  if (input.mode !== undefined && input.mode !== 'uat' && input.mode !== 'production') problems.push('mode must be "uat" or "production"');
  if (problems.length || !parsed.success) throw new TenantInputError(problems);
  const settings = parsed.data;
  const portalId = String(settings.hubspot.portalId);
  // Webhook deliveries are routed by portal id: two tenants on one portal would make that ambiguous.
  if (await store.tenants.findByPortalId(portalId)) throw new TenantInputError([`HubSpot portal ${portalId} already belongs to a tenant`]);

  const tenant = await store.tenants.create({
    id: input.id,
    hubspotPortalId: portalId,
    dataverseOrgUrl: settings.dynamics?.orgUrl ?? null,
    mode: input.mode ?? 'uat',
    mainSwitch: input.mainSwitch ?? false,
    settings,
  });
  const apiKey = generateApiKey();
  const webhookKey = generateWebhookKey();
  try {
    await store.secrets.put(tenant.id, SECRET_NAMES.hubspotClientSecret, s.hubspotClientSecret);
    await store.secrets.put(tenant.id, SECRET_NAMES.hubspotRefreshToken, s.hubspotRefreshToken);
    if (s.hubspotAccessToken) await store.secrets.put(tenant.id, SECRET_NAMES.hubspotAccessToken, s.hubspotAccessToken);
    if (s.dynamicsClientSecret) await store.secrets.put(tenant.id, SECRET_NAMES.dynamicsClientSecret, s.dynamicsClientSecret);
    await store.secrets.put(tenant.id, SECRET_NAMES.apiKey, apiKey);
    await store.secrets.put(tenant.id, SECRET_NAMES.dynamicsWebhookKey, webhookKey);
  } catch (err) {
    // No half-made tenant without its keys (the cascade removes any secrets already written).
    await store.tenants.delete(tenant.id).catch(() => undefined);
    throw err;
  }
  return { tenant, apiKey, webhookKey };
}
