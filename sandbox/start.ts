import type { FaultConfig } from './common/faults.ts';
import { startHubSpotSandbox, type HubSpotSandbox } from './hubspot/index.ts';
import { startDataverseSandbox, type DataverseSandbox } from './dataverse/index.ts';

export interface SandboxesOptions {
  host?: string;
  hubspotPort?: number;
  dataversePort?: number;
  identityPort?: number;
  faults?: Partial<FaultConfig>;
  /** Off turns HubSpot's 10-second/search limits and Dataverse's service protection off (benchmarks). */
  rateLimits?: boolean;
}

export interface Sandboxes {
  hubspot: HubSpotSandbox;
  dataverse: DataverseSandbox;
  close(): Promise<void>;
}

/** Starts both sandboxes side by side; if the second fails to start, the first is stopped again. */
export async function startSandboxes(options: SandboxesOptions = {}): Promise<Sandboxes> {
  const limits = options.rateLimits ?? true;
  const hubspot = await startHubSpotSandbox({
    host: options.host,
    port: options.hubspotPort,
    faults: options.faults,
    rateLimits: { enabled: limits },
  });
  let dataverse: DataverseSandbox;
  try {
    dataverse = await startDataverseSandbox({
      host: options.host,
      port: options.dataversePort,
      identityPort: options.identityPort,
      faults: options.faults,
      serviceProtection: { enabled: limits },
    });
  } catch (err) {
    await hubspot.close();
    throw err;
  }
  return {
    hubspot,
    dataverse,
    close: async () => {
      await Promise.all([hubspot.close(), dataverse.close()]);
    },
  };
}

/** The one-line description scripts rely on (`npm run sandbox -- --json`). */
export function describeSandboxes({ hubspot, dataverse }: Sandboxes) {
  return {
    hubspot: {
      baseUrl: hubspot.baseUrl,
      portalId: hubspot.portal.portalId,
      appId: hubspot.app.appId,
      clientId: hubspot.app.clientId,
      clientSecret: hubspot.app.clientSecret,
      developerApiKey: hubspot.app.developerApiKey,
      accessToken: hubspot.portal.accessToken,
      refreshToken: hubspot.portal.refreshToken,
      userToken: hubspot.portal.userToken,
    },
    dataverse: {
      orgUrl: dataverse.orgUrl,
      tenantId: dataverse.tenantId,
      authorityUrl: dataverse.authorityUrl,
      clientId: dataverse.clientId,
      clientSecret: dataverse.clientSecret,
      applicationUserId: dataverse.applicationUserId,
      userToken: dataverse.userToken,
      userId: dataverse.userId,
      caCert: dataverse.caCert,
      authorityMetadata: dataverse.authorityMetadata,
      cloudDiscoveryMetadata: dataverse.cloudDiscoveryMetadata,
    },
  };
}
