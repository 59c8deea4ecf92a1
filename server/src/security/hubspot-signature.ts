import { createHash, createHmac } from 'node:crypto';
import { constantTimeEqual } from './constant-time.ts';

/**
 * HubSpot request signatures (webhooks, `hubspot.fetch`, legacy CRM cards).
 *
 * v3 (current): base64(HMAC-SHA256(clientSecret, method + uri + body + timestamp)), timestamp in ms, 5-minute window.
 * v1/v2 (legacy, still sent alongside v3 and the only signature of app webhook event batches): hex SHA-256.
 *
 * Unlike `@hubspot/api-client`'s `Signature.isValid` this decodes the URI as HubSpot documents, compares in
 * constant time, never throws, and says why a request was rejected.
 */

export const SIGNATURE_MAX_AGE_MS = 5 * 60 * 1000;

/** HubSpot's header names (Node lower-cases incoming header names). */
export const HUBSPOT_HEADERS = {
  v3: 'x-hubspot-signature-v3',
  timestamp: 'x-hubspot-request-timestamp',
  legacy: 'x-hubspot-signature',
  version: 'x-hubspot-signature-version',
} as const;

export type SignatureFailure =
  | 'missing-signature'
  | 'missing-timestamp'
  | 'bad-timestamp'
  | 'stale-timestamp'
  | 'future-timestamp'
  | 'unsupported-version'
  | 'mismatch';

export type SignatureResult =
  | { ok: true; version: 'v1' | 'v2' | 'v3' }
  | { ok: false; reason: SignatureFailure; message: string };

// Exactly the escapes HubSpot's request-validation page lists; anything else (%20, %26, %3D …) stays encoded,
// because decoding more would change the signed string. Hex case is not significant in percent-encoding (RFC 3986 §2.1).
const DECODED: Record<string, string> = {
  '%3A': ':', '%2F': '/', '%3F': '?', '%40': '@', '%21': '!', '%24': '$',
  '%27': "'", '%28': '(', '%29': ')', '%2A': '*', '%2C': ',', '%3B': ';',
};

/** The URI as HubSpot signs it: the full URL that was called, with the listed escapes decoded. */
export function decodeSignatureUri(uri: string): string {
  return uri.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (m) => DECODED[m.toUpperCase()]);
}

export type Body = string | Buffer;

export function signV3(o: { clientSecret: string; method: string; uri: string; body: Body; timestamp: number | string }): string {
  return createHmac('sha256', o.clientSecret)
    .update(`${o.method.toUpperCase()}${decodeSignatureUri(o.uri)}`, 'utf8')
    .update(o.body) // raw bytes as received: re-serialising parsed JSON would change the signed string
    .update(String(o.timestamp), 'utf8')
    .digest('base64');
}

export function signV1(o: { clientSecret: string; body: Body }): string {
  return createHash('sha256').update(o.clientSecret, 'utf8').update(o.body).digest('hex');
}

export function signV2(o: { clientSecret: string; method: string; uri: string; body: Body }): string {
  return createHash('sha256').update(`${o.clientSecret}${o.method.toUpperCase()}${o.uri}`, 'utf8').update(o.body).digest('hex');
}

const fail = (reason: SignatureFailure, message: string): SignatureResult => ({ ok: false, reason, message });

export interface VerifyV3Input {
  clientSecret: string;
  method: string;
  /** Full URL as HubSpot called it: scheme + host + path + query (rebuild it from PUBLIC_URL behind a proxy). */
  uri: string;
  body: Body;
  signature: string | undefined;
  timestamp: string | number | undefined;
  now?: number;
  maxAgeMs?: number;
}

export function verifyV3(i: VerifyV3Input): SignatureResult {
  if (!i.signature) return fail('missing-signature', 'X-HubSpot-Signature-v3 header is missing');
  if (i.timestamp === undefined || i.timestamp === '') return fail('missing-timestamp', 'X-HubSpot-Request-Timestamp header is missing');
  const ts = Number(i.timestamp);
  if (!/^\d{1,16}$/.test(String(i.timestamp)) || !Number.isSafeInteger(ts)) {
    return fail('bad-timestamp', 'X-HubSpot-Request-Timestamp must be milliseconds since the epoch');
  }
  const now = i.now ?? Date.now();
  const maxAge = i.maxAgeMs ?? SIGNATURE_MAX_AGE_MS;
  // The window bounds replays. HubSpot only documents "older than 5 minutes"; we also refuse timestamps more
  // than the same window ahead, since a far-future stamp would otherwise stay replayable for longer.
  if (now - ts > maxAge) return fail('stale-timestamp', `request timestamp is ${Math.round((now - ts) / 1000)} s old (limit ${maxAge / 1000} s)`);
  if (ts - now > maxAge) return fail('future-timestamp', `request timestamp is ${Math.round((ts - now) / 1000)} s in the future (check the server clock)`);
  const expected = signV3({ clientSecret: i.clientSecret, method: i.method, uri: i.uri, body: i.body, timestamp: i.timestamp });
  return constantTimeEqual(expected, i.signature)
    ? { ok: true, version: 'v3' }
    : fail('mismatch', 'X-HubSpot-Signature-v3 does not match (wrong client secret, altered body, or the URL differs from the one HubSpot called)');
}

export function verifyV1(i: { clientSecret: string; body: Body; signature: string | undefined }): SignatureResult {
  if (!i.signature) return fail('missing-signature', 'X-HubSpot-Signature header is missing');
  return constantTimeEqual(signV1(i), i.signature.toLowerCase())
    ? { ok: true, version: 'v1' }
    : fail('mismatch', 'X-HubSpot-Signature (v1) does not match (wrong client secret or altered body)');
}

export function verifyV2(i: { clientSecret: string; method: string; uri: string; body: Body; signature: string | undefined }): SignatureResult {
  if (!i.signature) return fail('missing-signature', 'X-HubSpot-Signature header is missing');
  return constantTimeEqual(signV2(i), i.signature.toLowerCase())
    ? { ok: true, version: 'v2' }
    : fail('mismatch', 'X-HubSpot-Signature (v2) does not match (wrong client secret, altered body, or different URL)');
}

type Headers = Record<string, string | string[] | undefined>;
const header = (h: Headers, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
};

/**
 * Verifies a request from its (lower-cased, Node-style) headers: v3 whenever HubSpot sent it — a request that
 * carries v3 must pass v3, so a stale v3 cannot be rescued by the timeless legacy signature — else the legacy
 * signature named by X-HubSpot-Signature-Version (set `allowLegacy: false` to require v3).
 */
export function verifyHubSpotRequest(i: {
  clientSecret: string;
  method: string;
  uri: string;
  body: Body;
  headers: Headers;
  now?: number;
  allowLegacy?: boolean;
}): SignatureResult {
  const v3 = header(i.headers, HUBSPOT_HEADERS.v3);
  if (v3 || i.allowLegacy === false) {
    return verifyV3({ ...i, signature: v3, timestamp: header(i.headers, HUBSPOT_HEADERS.timestamp) });
  }
  const legacy = header(i.headers, HUBSPOT_HEADERS.legacy);
  const version = (header(i.headers, HUBSPOT_HEADERS.version) ?? 'v1').toLowerCase();
  if (version === 'v1') return verifyV1({ clientSecret: i.clientSecret, body: i.body, signature: legacy });
  if (version === 'v2') return verifyV2({ ...i, signature: legacy });
  return fail('unsupported-version', `X-HubSpot-Signature-Version "${version}" is not supported (expected v1, v2 or a v3 header)`);
}
