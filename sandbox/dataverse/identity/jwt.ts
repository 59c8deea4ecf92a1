import crypto, { type KeyObject } from 'node:crypto';

/** Signing key of the sandbox tenant, published as a JWK like Entra's `discovery/v2.0/keys`. */
export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export type JwtClaims = Record<string, unknown>;

export function createSigningKey(): SigningKey {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  // Entra's kid is a base64url thumbprint; a hash of the public key gives the same look and is stable per key.
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const kid = crypto.createHash('sha1').update(der).digest('base64url');
  return { kid, privateKey, publicKey };
}

export function publicJwk(key: SigningKey): Record<string, unknown> {
  const jwk = key.publicKey.export({ format: 'jwk' });
  return { kty: 'RSA', use: 'sig', kid: key.kid, x5t: key.kid, n: jwk.n, e: jwk.e };
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** RS256, the algorithm Entra signs access tokens with. */
export function signJwt(claims: JwtClaims, key: SigningKey): string {
  const head = b64({ typ: 'JWT', alg: 'RS256', x5t: key.kid, kid: key.kid });
  const body = b64(claims);
  const signature = crypto.sign('sha256', Buffer.from(`${head}.${body}`), key.privateKey).toString('base64url');
  return `${head}.${body}.${signature}`;
}

/** Returns the claims when the token is well-formed and signed by `key`; null otherwise. Expiry is the caller's job. */
export function readSignedJwt(token: string, key: SigningKey): JwtClaims | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [head, body, signature] = parts as [string, string, string];
  try {
    const header = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as { alg?: unknown };
    // Pinning the algorithm keeps `alg: none` and HMAC-with-public-key tricks out.
    if (header.alg !== 'RS256') return null;
    const valid = crypto.verify('sha256', Buffer.from(`${head}.${body}`), key.publicKey, Buffer.from(signature, 'base64url'));
    if (!valid) return null;
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown;
    return claims && typeof claims === 'object' && !Array.isArray(claims) ? (claims as JwtClaims) : null;
  } catch {
    return null;
  }
}
