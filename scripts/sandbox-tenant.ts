import type { describeSandboxes } from '../sandbox/start.ts';
import type { CreateTenantInput } from '../server/src/tenants/create.ts';

/** What `npm run sandbox -- --json` prints (and the demo describes): each sandbox's URLs and credentials. */
export type SandboxDescription = ReturnType<typeof describeSandboxes>;

/**
 * A production-mode tenant, main switch on, wired to the local sandboxes: the HubSpot app install's tokens and
 * the Dynamics connection with the sandbox's own certificate authority. Used by the demo, the benchmarks and
 * the end-to-end tests, so all three run the tenant a self-hoster would get.
 */
export function sandboxTenantInput(info: SandboxDescription, o: { id: string; hubspotBasePath?: string }): CreateTenantInput {
  const { hubspot, dataverse } = info;
  return {
    id: o.id,
    mode: 'production',
    mainSwitch: true,
    settings: {
      hubspot: { portalId: hubspot.portalId, basePath: o.hubspotBasePath ?? hubspot.baseUrl, appId: String(hubspot.appId), clientId: hubspot.clientId },
      dynamics: {
        orgUrl: dataverse.orgUrl, authorityUrl: dataverse.authorityUrl, tenantId: dataverse.tenantId, clientId: dataverse.clientId,
        sandbox: { caCert: dataverse.caCert, authorityMetadata: dataverse.authorityMetadata, cloudDiscoveryMetadata: dataverse.cloudDiscoveryMetadata },
      },
    },
    secrets: {
      hubspotClientSecret: hubspot.clientSecret,
      hubspotRefreshToken: hubspot.refreshToken,
      hubspotAccessToken: hubspot.accessToken,
      dynamicsClientSecret: dataverse.clientSecret,
    },
  };
}
