import { z } from 'zod';

/**
 * What a tenant (one HubSpot portal + one Dynamics org) is configured with, kept as the tenant row's
 * settings JSON. Secrets are NOT here: they live encrypted in the secrets table under SECRET_NAMES.
 */

const sandboxTrust = z.object({
  caCert: z.string().min(1),
  authorityMetadata: z.string().min(1),
  cloudDiscoveryMetadata: z.string().min(1),
});

export const tenantSettingsSchema = z.object({
  hubspot: z.object({
    portalId: z.number().int().positive(),
    /** API base URL; https://api.hubapi.com for real HubSpot, the sandbox URL otherwise. */
    basePath: z.string().url().default('https://api.hubapi.com'),
    appId: z.string().min(1),
    clientId: z.string().min(1),
    /** Epoch ms when the stored access token expires (refresh happens before). */
    accessTokenExpiresAt: z.number().int().optional(),
  }),
  dynamics: z
    .object({
      orgUrl: z.string().url(),
      authorityUrl: z.string().url().optional(),
      tenantId: z.string().optional(),
      clientId: z.string().min(1),
      /** The integration's application user, learned with WhoAmI on connect (echo suppression). */
      applicationUserId: z.string().optional(),
      /** Only for the local sandbox: its CA and discovery documents (see connectors/dataverse/token.ts). */
      sandbox: sandboxTrust.optional(),
    })
    .optional(),
  /** Customisation prefix of the Dynamics solution, e.g. `hds` → `hds_hubspotid`. */
  prefix: z.string().regex(/^[a-z][a-z0-9]{1,7}$/).default('hds'),
  /** What a new HubSpot contact with no Dynamics match becomes. */
  newContactPolicy: z.enum(['lead', 'contact', 'none']).default('lead'),
  ownerSync: z.boolean().default(true),
  pollIntervalMinutes: z.number().int().min(1).max(1440).default(5),
  uatMarkers: z
    .object({ contactEmail: z.string(), companyName: z.string(), dealName: z.string() })
    .partial()
    .default({}),
  /** Cursors of the safety-net polls, so a restart resumes where it stopped. */
  cursors: z
    .object({
      hubspot: z.record(z.string(), z.object({ since: z.number(), afterId: z.string().optional() })).default({}),
      dataverse: z.record(z.string(), z.string()).default({}),
    })
    .default({ hubspot: {}, dataverse: {} }),
});

export type TenantSettingsInput = z.input<typeof tenantSettingsSchema>;
export type TenantSettings = z.output<typeof tenantSettingsSchema>;

export const SECRET_NAMES = {
  hubspotAccessToken: 'hubspot.accessToken',
  hubspotRefreshToken: 'hubspot.refreshToken',
  hubspotClientSecret: 'hubspot.clientSecret',
  dynamicsClientSecret: 'dynamics.clientSecret',
  /** Checked on POST /webhooks/dynamics/:tenant (header `x-hds-key` or `?code=`). */
  dynamicsWebhookKey: 'dynamics.webhookKey',
  /** Bearer key for the tenant's admin API (errors, dead letters). */
  apiKey: 'api.key',
  /** Read-only bearer credential of GET /embed/v1/records/… (the HubSpot tab in Dynamics). */
  embedCredential: 'embed.credential',
} as const;

export function parseTenantSettings(raw: unknown): TenantSettings {
  const result = tenantSettingsSchema.safeParse(raw);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(settings)'}: ${i.message}`);
    throw new Error(`Tenant settings are invalid: ${problems.join('; ')}`);
  }
  return result.data;
}
