import { ConfidentialClientApplication, type Configuration } from '@azure/msal-node';
import { createCaTrustingNetworkModule } from './trusted-network.ts';

export interface DataverseTokenSourceOptions {
  /** Environment URL, e.g. `https://contoso.crm.dynamics.com`; the token's resource. */
  orgUrl: string;
  /** Entra authority. Defaults to `https://login.microsoftonline.com/<tenantId>`. */
  authorityUrl?: string;
  tenantId?: string;
  clientId: string;
  clientSecret: string;
  /**
   * Only for the local sandbox: its CA and discovery documents. With this, msal talks to the sandbox over a
   * network module that trusts that CA alone; without it, msal talks to real Entra with default trust.
   */
  sandbox?: { caCert: string; authorityMetadata: string; cloudDiscoveryMetadata: string };
}

export interface DataverseTokenSource {
  /** A bearer token for the environment; msal serves it from its cache until close to expiry (5 min before). */
  getToken(): Promise<string>;
}

export function createDataverseTokenSource(o: DataverseTokenSourceOptions): DataverseTokenSource {
  const authority = o.authorityUrl ?? (o.tenantId ? `https://login.microsoftonline.com/${o.tenantId}` : undefined);
  if (!authority) throw new Error('Dataverse token source: set authorityUrl or tenantId');
  const scopes = [`${o.orgUrl.replace(/\/+$/, '')}/.default`];

  const config: Configuration = { auth: { clientId: o.clientId, clientSecret: o.clientSecret, authority } };
  if (o.sandbox) {
    // knownAuthorities + metadata: msal must not call Microsoft's instance discovery for a 127.0.0.1 authority.
    config.auth.knownAuthorities = [new URL(authority).host];
    config.auth.authorityMetadata = o.sandbox.authorityMetadata;
    config.auth.cloudDiscoveryMetadata = o.sandbox.cloudDiscoveryMetadata;
    config.system = { networkClient: createCaTrustingNetworkModule(o.sandbox.caCert) };
  }
  const app = new ConfidentialClientApplication(config);

  return {
    async getToken() {
      const result = await app.acquireTokenByClientCredential({ scopes });
      if (!result?.accessToken) throw new Error('Dataverse token source: Entra returned no access token');
      return result.accessToken;
    },
  };
}
