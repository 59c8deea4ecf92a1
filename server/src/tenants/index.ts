export { createTenant, generateApiKey, TenantInputError, type CreateTenantInput, type CreatedTenant } from './create.ts';
export { connectTenant, LINKED_DYNAMICS_TABLES, LINKED_HUBSPOT_OBJECTS, type ConnectContexts, type ConnectResult } from './connect.ts';
export { registerDataverseWebhook, registerHubSpotAppWebhooks, hubspotSubscriptions, subscribedProperties, DATAVERSE_ENDPOINT_NAME } from './webhooks.ts';
export { SECRET_NAMES, parseTenantSettings, tenantSettingsSchema, type TenantSettings, type TenantSettingsInput } from './settings.ts';
