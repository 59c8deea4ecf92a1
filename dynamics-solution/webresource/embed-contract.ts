/**
 * The sync server's embed API as the HubSpot panel (web resource) uses it. This module IS the contract: the
 * server (server/src/http/routes/embed.ts, server/src/embed/) builds its answers with these types and passes
 * each through `parseEmbedResponse` before sending it, so both ends cannot drift.
 *
 *   GET <serverUrl>/embed/v1/records/<entity>/<id>[?hubspotId=…&email=…]
 *   Authorization: Bearer <embed credential>
 *   Accept: application/json
 *
 * - `<entity>`: lead | contact | account | opportunity; `<id>`: the Dataverse record id, lower case, no braces.
 * - `hubspotId` / `email`: what the panel read from the open record (`<prefix>_hubspotid`, `emailaddress1`).
 *   Hints only: the server answers from its own link table and must never trust them for authorisation;
 *   it may use them to say which HubSpot contact a not-yet-synced record will match.
 * - The embed credential is per tenant and read-only (it can call this route and nothing else). It is not a
 *   secret from Dynamics users: it reaches every browser that opens the form (see config.ts).
 * - The server must answer CORS preflights from the org's origin (`https://<org>.crm*.dynamics.com`) allowing
 *   the `Authorization` header, because the panel runs on the org's origin.
 *
 * Answers: 200 with `EmbedResponse`; 401 (no/invalid credential) or 403 (credential of another tenant, or the
 * record's table is not synced) with `{ error: { code, message } }`; 404 is not used for unknown records
 * (that is `status: 'not_synced'`); 5xx on server failure.
 */

export const EMBED_API_VERSION = 'v1';
export const EMBED_ENTITIES = ['lead', 'contact', 'account', 'opportunity'] as const;
export type EmbedEntity = (typeof EMBED_ENTITIES)[number];

export interface EmbedOwner {
  name: string;
  email: string;
}

export type EngagementType = 'email' | 'call' | 'meeting' | 'note' | 'task' | 'form_submission' | 'page_view';
export const ENGAGEMENT_TYPES: readonly EngagementType[] = ['email', 'call', 'meeting', 'note', 'task', 'form_submission', 'page_view'];

export interface EmbedEngagement {
  type: EngagementType;
  /** Subject, form name, page title… already shortened by the server for display. */
  title: string;
  /** ISO 8601 instant. */
  occurredAt: string;
}

export interface EmbedAnalytics {
  pageViews: number;
  formSubmissions: number;
  emailsOpened: number;
  emailsClicked: number;
  /** ISO 8601 instant, or null when the contact never visited. */
  lastVisit: string | null;
}

export interface EmbedHubSpotRecord {
  /** HubSpot object id (hs_object_id). */
  id: string;
  /** Opens the record in HubSpot (https). */
  url: string;
  /** HubSpot property values as labels, null when empty. */
  lifecyclestage: string | null;
  hs_lead_status: string | null;
  owner?: EmbedOwner;
  /** Newest first, at most 10. */
  recentEngagement: EmbedEngagement[];
  analytics: EmbedAnalytics;
}

export type SyncStatus = 'synced' | 'pending' | 'error' | 'excluded';
export const SYNC_STATUSES: readonly SyncStatus[] = ['synced', 'pending', 'error', 'excluded'];

/** A sync failure a user can fix: what failed, why, and how to fix it (DESIGN.md §2). */
export interface EmbedSyncError {
  what: string;
  why: string;
  fix: string;
}

export interface EmbedSync {
  /** ISO 8601 instant of the last successful sync of this record, null if never. */
  lastSyncedAt: string | null;
  status: SyncStatus;
  errors: EmbedSyncError[];
}

export interface EmbedResponse {
  /** `linked`: the record has a HubSpot counterpart (then `hubspot` is present); `not_synced`: not yet. */
  status: 'linked' | 'not_synced';
  hubspot?: EmbedHubSpotRecord;
  sync: EmbedSync;
}

export interface EmbedErrorBody {
  error: { code: string; message: string };
}

/** Path below the server URL; ids lose braces and case, as the server stores them. */
export function embedRecordPath(entity: EmbedEntity, id: string): string {
  const clean = id.trim().replace(/^\{|\}$/g, '').toLowerCase();
  return `/embed/${EMBED_API_VERSION}/records/${encodeURIComponent(entity)}/${encodeURIComponent(clean)}`;
}

export function embedRecordUrl(serverUrl: string, entity: EmbedEntity, id: string, hints: { hubspotId?: string | null; email?: string | null } = {}): string {
  const qs = new URLSearchParams();
  if (hints.hubspotId) qs.set('hubspotId', hints.hubspotId);
  if (hints.email) qs.set('email', hints.email);
  const query = qs.toString();
  return `${serverUrl.replace(/\/+$/, '')}${embedRecordPath(entity, id)}${query ? `?${query}` : ''}`;
}

export const isEmbedEntity = (s: string): s is EmbedEntity => (EMBED_ENTITIES as readonly string[]).includes(s);

export class EmbedContractError extends Error {
  constructor(readonly path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = 'EmbedContractError';
  }
}

// ---- validation: the panel renders only what it has checked, so a server bug shows as a clear message ----

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(o: Obj, key: string, at: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw new EmbedContractError(`${at}.${key}`, 'expected a string');
  return v;
}
function strOrNull(o: Obj, key: string, at: string): string | null {
  const v = o[key];
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string') throw new EmbedContractError(`${at}.${key}`, 'expected a string or null');
  return v;
}
function count(o: Obj, key: string, at: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new EmbedContractError(`${at}.${key}`, 'expected a non-negative integer');
  return v;
}
function obj(v: unknown, at: string): Obj {
  if (!isObj(v)) throw new EmbedContractError(at, 'expected an object');
  return v;
}
function arr(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v)) throw new EmbedContractError(at, 'expected an array');
  return v;
}
function oneOf<T extends string>(o: Obj, key: string, allowed: readonly T[], at: string): T {
  const v = o[key];
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) throw new EmbedContractError(`${at}.${key}`, `expected one of ${allowed.join(', ')}`);
  return v as T;
}

function parseHubSpot(v: unknown): EmbedHubSpotRecord {
  const h = obj(v, 'hubspot');
  const url = str(h, 'url', 'hubspot');
  // The panel links to it: only https links, never javascript: or data: URLs from a compromised answer.
  if (!/^https:\/\//i.test(url)) throw new EmbedContractError('hubspot.url', 'expected an https URL');
  const a = obj(h.analytics, 'hubspot.analytics');
  let owner: EmbedOwner | undefined;
  if (h.owner !== undefined && h.owner !== null) {
    const o = obj(h.owner, 'hubspot.owner');
    owner = { name: str(o, 'name', 'hubspot.owner'), email: str(o, 'email', 'hubspot.owner') };
  }
  return {
    id: str(h, 'id', 'hubspot'), url,
    lifecyclestage: strOrNull(h, 'lifecyclestage', 'hubspot'),
    hs_lead_status: strOrNull(h, 'hs_lead_status', 'hubspot'),
    ...(owner ? { owner } : {}),
    recentEngagement: arr(h.recentEngagement, 'hubspot.recentEngagement').map((e, i) => {
      const at = `hubspot.recentEngagement[${i}]`;
      const x = obj(e, at);
      return { type: oneOf(x, 'type', ENGAGEMENT_TYPES, at), title: str(x, 'title', at), occurredAt: str(x, 'occurredAt', at) };
    }),
    analytics: {
      pageViews: count(a, 'pageViews', 'hubspot.analytics'), formSubmissions: count(a, 'formSubmissions', 'hubspot.analytics'),
      emailsOpened: count(a, 'emailsOpened', 'hubspot.analytics'), emailsClicked: count(a, 'emailsClicked', 'hubspot.analytics'),
      lastVisit: strOrNull(a, 'lastVisit', 'hubspot.analytics'),
    },
  };
}

/** Checks a 200 body against the contract; throws EmbedContractError naming the first bad field. */
export function parseEmbedResponse(body: unknown): EmbedResponse {
  const b = obj(body, 'response');
  const status = oneOf(b, 'status', ['linked', 'not_synced'] as const, 'response');
  const s = obj(b.sync, 'sync');
  const sync: EmbedSync = {
    lastSyncedAt: strOrNull(s, 'lastSyncedAt', 'sync'),
    status: oneOf(s, 'status', SYNC_STATUSES, 'sync'),
    errors: arr(s.errors, 'sync.errors').map((e, i) => {
      const at = `sync.errors[${i}]`;
      const x = obj(e, at);
      return { what: str(x, 'what', at), why: str(x, 'why', at), fix: str(x, 'fix', at) };
    }),
  };
  if (status === 'linked') return { status, hubspot: parseHubSpot(b.hubspot), sync };
  return { status, sync };
}
