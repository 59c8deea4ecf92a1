import { randomBytes, randomUUID } from 'node:crypto';
import { Portal, type ChangeListener } from './store.ts';

/** The developer app the sandbox hosts (one app; every portal has it installed). */
export interface AppInfo {
  appId: number;
  clientId: string;
  clientSecret: string;
  developerApiKey: string;
  /** Allowed OAuth redirect URIs; empty = any http(s) URL on localhost/127.0.0.1/[::1]. */
  redirectUris: string[];
}

export interface AccessTokenInfo {
  token: string;
  portalId: number;
  userId: number;
  userEmail: string;
  scopes: string[];
  expiresAt: number;
  refreshToken: string;
}

export interface RefreshTokenInfo {
  token: string;
  portalId: number;
  userId: number;
  userEmail: string;
  scopes: string[];
}

export interface AuthCodeInfo {
  code: string;
  portalId: number;
  redirectUri: string;
  scopes: string[];
  expiresAt: number;
}

export interface PortalCredentials {
  portalId: number;
  accessToken: string;
  refreshToken: string;
  userToken: string;
  userId: number;
  ownerId: string;
}

export const DEFAULT_SCOPES = [
  'oauth', 'crm.objects.contacts.read', 'crm.objects.contacts.write', 'crm.objects.companies.read',
  'crm.objects.companies.write', 'crm.objects.deals.read', 'crm.objects.deals.write', 'crm.schemas.contacts.read',
  'crm.schemas.contacts.write', 'crm.schemas.companies.read', 'crm.schemas.companies.write', 'crm.schemas.deals.read',
  'crm.schemas.deals.write', 'crm.objects.owners.read',
];

/** Opaque token text in HubSpot's style (region prefix + base64url), unguessable. */
const token = (prefix: string) => `${prefix}-${randomBytes(24).toString('base64url')}`;

/** Everything the sandbox knows: the app, portals, tokens. Routers receive this, never globals. */
export class SandboxState {
  readonly app: AppInfo;
  readonly portals = new Map<number, Portal>();
  readonly accessTokens = new Map<string, AccessTokenInfo>();
  readonly refreshTokens = new Map<string, RefreshTokenInfo>();
  readonly authCodes = new Map<string, AuthCodeInfo>();
  /** userToken → portalId: the "act as a human" credential. */
  readonly userTokens = new Map<string, number>();
  private nextPortal = 24_100_001;
  private nextRecord = 1001;
  private nextOwner = 61_000_001;
  private nextUser = 71_000_001;
  private readonly ids = {
    recordId: () => String(this.nextRecord++),
    ownerId: () => String(this.nextOwner++),
    userId: () => this.nextUser++,
  };

  constructor(
    readonly accessTokenTtlSeconds: number,
    private readonly onChange: ChangeListener,
    redirectUris: string[] = [],
  ) {
    this.app = {
      appId: 3_100_001,
      clientId: randomUUID(),
      clientSecret: randomUUID(),
      developerApiKey: randomUUID(),
      redirectUris,
    };
  }

  newPortal(): Portal {
    const portal = new Portal(this.nextPortal++, this.ids, (p, e) => this.onChange(p, e));
    this.portals.set(portal.portalId, portal);
    this.userTokens.set(token('pat-na1-user'), portal.portalId);
    return portal;
  }

  userTokenOf(portal: Portal): string {
    for (const [t, id] of this.userTokens) if (id === portal.portalId) return t;
    throw new Error(`portal ${portal.portalId} has no user token`);
  }

  /** Installs the app in a portal: a refresh token and a first access token, as the token exchange returns. */
  install(portal: Portal, scopes: string[] = DEFAULT_SCOPES): { access: AccessTokenInfo; refresh: RefreshTokenInfo } {
    const refresh: RefreshTokenInfo = {
      token: randomUUID(), portalId: portal.portalId, userId: portal.user.userId, userEmail: portal.user.email, scopes,
    };
    this.refreshTokens.set(refresh.token, refresh);
    return { access: this.issueAccessToken(refresh), refresh };
  }

  issueAccessToken(refresh: RefreshTokenInfo): AccessTokenInfo {
    const access: AccessTokenInfo = {
      token: token('CNa1'), portalId: refresh.portalId, userId: refresh.userId, userEmail: refresh.userEmail,
      scopes: refresh.scopes, expiresAt: Date.now() + this.accessTokenTtlSeconds * 1000, refreshToken: refresh.token,
    };
    this.accessTokens.set(access.token, access);
    return access;
  }

  credentials(portal: Portal): PortalCredentials {
    const { access, refresh } = this.install(portal);
    return {
      portalId: portal.portalId, accessToken: access.token, refreshToken: refresh.token, userToken: this.userTokenOf(portal),
      userId: portal.user.userId, ownerId: portal.user.ownerId,
    };
  }

  createPortal(): PortalCredentials {
    return this.credentials(this.newPortal());
  }

  /** Makes access tokens expired at once (one token, or all of a portal's). Returns how many. */
  expireTokens(filter: { accessToken?: string; portalId?: number }): number {
    let n = 0;
    for (const info of this.accessTokens.values()) {
      if ((filter.accessToken && info.token === filter.accessToken) || (filter.portalId && info.portalId === filter.portalId)) {
        info.expiresAt = Math.min(info.expiresAt, Date.now() - 1);
        n++;
      }
    }
    return n;
  }
}
