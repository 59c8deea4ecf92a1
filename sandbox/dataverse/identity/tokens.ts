import { randomBytes } from 'node:crypto';
import type { Principal, TokenCheck, TokenVerifier } from '../contracts.ts';
import { readSignedJwt, signJwt, type SigningKey } from './jwt.ts';

/** Entra's `aio`/`rh`/`uti` claims are opaque strings; random ones make every token unique like the real ones. */
const opaque = (bytes: number) => randomBytes(bytes).toString('base64url');

/** Dataverse and Entra forgive small clock drift, but only when a token is not yet valid (`nbf`). */
const NOT_BEFORE_SKEW_SECONDS = 300;

/** A user token is what a person signed in to Dynamics carries; a long life keeps tests and demos simple. */
const USER_TOKEN_TTL_SECONDS = 365 * 24 * 3600;

/**
 * The client id a signed-in person's token names in `appid`. Real tokens name the first-party app the person used
 * (the Dynamics web client); any fixed id serves, because nothing downstream treats it specially.
 */
const USER_FACING_APP_ID = '00000000-0000-0000-0000-0000000d365a';

export interface TokenServiceOptions {
  tenantId: string;
  /** `iss` and `idp` claims; Dataverse access tokens are v1 tokens, so Entra writes `https://sts.windows.net/<tid>/`. */
  issuer: string;
  /** When set, the only resource tokens are issued for and the only `aud` the verifier accepts. */
  audience?: string;
  ttlSeconds: number;
  key: SigningKey;
  principals: Principal[];
}

export interface TokenService {
  issueAppToken(clientId: string, principal: Principal, resource: string): string;
  issueUserToken(principal: Principal): string;
  verifier: TokenVerifier;
}

/** Compares resource URLs the way Entra matches an app id URI: case-insensitive, trailing slash ignored. */
export function sameResource(a: string, b: string): boolean {
  return a.replace(/\/+$/, '').toLowerCase() === b.replace(/\/+$/, '').toLowerCase();
}

export function createTokenService(o: TokenServiceOptions): TokenService {
  // The verifier resolves the caller from `oid`, as Dataverse maps an Entra object id to its systemuser row.
  const byObjectId = new Map(o.principals.map((p) => [p.azureObjectId.toLowerCase(), p] as const));

  function baseClaims(aud: string, lifetime: number): Record<string, unknown> {
    const now = Math.floor(Date.now() / 1000);
    return {
      aud,
      iss: o.issuer,
      iat: now,
      nbf: now,
      exp: now + lifetime,
      aio: opaque(48),
      idp: o.issuer,
      rh: `0.${opaque(40)}.`,
      tid: o.tenantId,
      uti: opaque(16),
      ver: '1.0',
    };
  }

  function issueAppToken(clientId: string, principal: Principal, resource: string): string {
    return signJwt(
      {
        ...baseClaims(resource, o.ttlSeconds),
        appid: clientId,
        appidacr: '1',
        idtyp: 'app',
        oid: principal.azureObjectId,
        sub: principal.azureObjectId,
      },
      o.key,
    );
  }

  function issueUserToken(principal: Principal): string {
    return signJwt(
      {
        ...baseClaims(o.audience ?? 'https://sandbox.crm.dynamics.com', USER_TOKEN_TTL_SECONDS),
        acr: '1',
        amr: ['pwd'],
        appid: USER_FACING_APP_ID,
        appidacr: '0',
        idtyp: 'user',
        oid: principal.azureObjectId,
        scp: 'user_impersonation',
        sub: opaque(32),
      },
      o.key,
    );
  }

  const verifier: TokenVerifier = {
    verify(authorization: string | undefined): TokenCheck {
      if (authorization === undefined || authorization.trim() === '') return { ok: false, reason: 'missing' };
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization.trim());
      if (!match) return { ok: false, reason: 'invalid' };
      const claims = readSignedJwt(match[1]!, o.key);
      if (!claims) return { ok: false, reason: 'invalid' };
      if (claims.iss !== o.issuer || claims.tid !== o.tenantId) return { ok: false, reason: 'invalid' };
      if (o.audience !== undefined && (typeof claims.aud !== 'string' || !sameResource(claims.aud, o.audience))) {
        return { ok: false, reason: 'invalid' };
      }
      const nowSeconds = Date.now() / 1000;
      if (typeof claims.nbf === 'number' && claims.nbf > nowSeconds + NOT_BEFORE_SKEW_SECONDS) return { ok: false, reason: 'invalid' };
      if (typeof claims.exp !== 'number') return { ok: false, reason: 'invalid' };
      if (nowSeconds >= claims.exp) return { ok: false, reason: 'expired' };
      const principal = typeof claims.oid === 'string' ? byObjectId.get(claims.oid.toLowerCase()) : undefined;
      if (!principal) return { ok: false, reason: 'invalid' };
      return { ok: true, principal: { ...principal } };
    },
  };

  return { issueAppToken, issueUserToken, verifier };
}
