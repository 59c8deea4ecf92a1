import { createHash } from 'node:crypto';

/**
 * Echo suppression, two layers (DESIGN §2):
 * 1. events we caused are recognised at the door (HubSpot `changeSource`/`sourceId`, Dataverse initiating user);
 * 2. every field is compared with the shadow — the hash of what we last wrote to that field — so a change that
 *    only reflects our own write (however it arrived: poll, change tracking, another app's event) is dropped.
 * Only hashes are stored, never the values (no customer data rests in our database).
 */

const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
const PLAIN_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?$/;

export interface HashOptions {
  /** Compare text case-insensitively (emails: HubSpot lower-cases them on write). */
  caseInsensitive?: boolean;
}

/**
 * The normalised form both systems agree on: blanks are null; numbers and plain numeric strings are the same
 * number ("1234.50" = 1234.5, but "007" stays text); ISO dates and date-times become epoch ms (HubSpot returns
 * "2019-10-31" for the "1572480000000" we wrote); booleans and "true"/"false" agree; Money `{ Value }` unwraps;
 * arrays are sorted; object keys are sorted; text is trimmed (HubSpot trims).
 */
export function normaliseForHash(value: unknown, opts: HashOptions = {}): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const s = value.trim();
    if (s === '') return null;
    if (s === 'true' || s === 'false') return s === 'true';
    if (PLAIN_NUMBER.test(s)) return Number(s);
    if (ISO.test(s)) {
      const ms = Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s);
      if (!Number.isNaN(ms)) return ms;
    }
    return opts.caseInsensitive ? s.toLowerCase() : s;
  }
  if (Array.isArray(value)) {
    const items = value.map((v) => normaliseForHash(v, opts)).filter((v) => v !== null);
    if (items.length === 0) return null;
    return items.map((v) => JSON.stringify(canonical(v))).sort().map((s) => JSON.parse(s));
  }
  if (typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === 'Value') return normaliseForHash(o.Value, opts);
    const out: Record<string, unknown> = {};
    for (const k of keys.sort()) {
      if (k.startsWith('@odata.')) continue; // etags and contexts are transport, not data
      out[k] = normaliseForHash(o[k], opts);
    }
    return out;
  }
  return String(value);
}

function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v as object).sort()) out[k] = canonical((v as Record<string, unknown>)[k]);
    return out;
  }
  return v;
}

/** sha256 (hex) of the canonical JSON of the normalised value. */
export function fieldHash(value: unknown, opts: HashOptions = {}): string {
  return createHash('sha256').update(JSON.stringify(canonical(normaliseForHash(value, opts)))).digest('hex');
}

/** Properties/columns compared without case (email addresses). */
export const CASE_INSENSITIVE_FIELDS = ['email', 'emailaddress1', 'emailaddress2', 'emailaddress3', 'internalemailaddress'];

/** Field → hash, to store as the shadow right after a successful write. */
export function shadowOf(fields: Record<string, unknown>, caseInsensitiveFields: readonly string[] = CASE_INSENSITIVE_FIELDS): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) out[k] = fieldHash(v, { caseInsensitive: caseInsensitiveFields.includes(k) });
  return out;
}

/**
 * Removes the fields whose value hashes to what the shadow says we last wrote. Use it on inbound source values
 * (against the shadow of our writes to that system) and on outbound target values (a write that changes nothing
 * is skipped). Returns the remaining fields and the names dropped, for the log.
 */
export function dropEchoes(fields: Record<string, unknown>, shadow: Record<string, string | undefined>, caseInsensitiveFields: readonly string[] = CASE_INSENSITIVE_FIELDS): { fields: Record<string, unknown>; dropped: string[] } {
  const kept: Record<string, unknown> = {};
  const dropped: string[] = [];
  for (const [k, v] of Object.entries(fields)) {
    const last = shadow[k];
    if (last !== undefined && last === fieldHash(v, { caseInsensitive: caseInsensitiveFields.includes(k) })) dropped.push(k);
    else kept[k] = v;
  }
  return { fields: kept, dropped };
}

// ---- first layer: who caused the event --------------------------------------------------------------------

export interface HubSpotEventSource {
  changeSource?: string;
  sourceId?: string | number | null;
}

/** A HubSpot webhook event written by our own app: `changeSource` INTEGRATION and `sourceId` = our app id. */
export function isOwnHubSpotChange(event: HubSpotEventSource, ourAppId: string | number): boolean {
  return event.changeSource === 'INTEGRATION' && event.sourceId !== undefined && event.sourceId !== null && String(event.sourceId) === String(ourAppId);
}

const guid = (s: unknown) => (typeof s === 'string' ? s.trim().replace(/^\{|\}$/g, '').toLowerCase() : '');

/** A Dataverse SDK-step context initiated by our application user (GUIDs compare without case or braces). */
export function isOwnDataverseChange(context: { InitiatingUserId?: string | null }, ourApplicationUserId: string): boolean {
  const id = guid(context.InitiatingUserId);
  return id !== '' && id === guid(ourApplicationUserId);
}
