/**
 * The one error type both connectors throw. Users read these as sync errors, so the message alone must say
 * which system, which operation, which record, what HTTP status, what the service said, and whether trying
 * again can help. The fields carry the same facts for code (queue retry decisions, metrics, the admin UI).
 */

export type ApiSystem = 'hubspot' | 'dataverse';

/** retryable: 429, 5xx, network/timeouts; auth: 401 (refresh and try once more); permanent: other 4xx. */
export type ErrorKind = 'retryable' | 'auth' | 'permanent';

/** An HTTP status or `'network'` when no response arrived (connection refused/reset, timeout). */
export type CallStatus = number | 'network';

export interface ConnectorErrorDetails {
  system: ApiSystem;
  operation: string;
  /** The record(s) the call was about, e.g. `contacts/123` or `contact(hds_hubspotid='9')`. */
  record?: string;
  status: CallStatus;
  /** The service's own message (HubSpot `message`, Dataverse `error.message`), or the network error text. */
  serviceMessage: string;
  /** HubSpot `category` (CONFLICT, VALIDATION_ERROR, …) or Dataverse hex `error.code`. */
  code?: string;
  /** HubSpot 429 `policyName` (TEN_SECONDLY_ROLLING, SECONDLY, DAILY). */
  policyName?: string;
  /** From `Retry-After` (seconds on the wire), when the service sent one. */
  retryAfterMs?: number;
  /** HubSpot duplicate: the `Existing ID: N` of a 409 conflict. */
  existingId?: string;
  /** Overrides the kind derived from the status (e.g. a DAILY 429 is not worth retrying within the hour). */
  kind?: ErrorKind;
  cause?: unknown;
}

const SYSTEM_NAME: Record<ApiSystem, string> = { hubspot: 'HubSpot', dataverse: 'Dynamics 365 (Dataverse)' };

export function classifyStatus(status: CallStatus): ErrorKind {
  if (status === 'network' || status === 429 || status === 408 || (typeof status === 'number' && status >= 500)) return 'retryable';
  if (status === 401) return 'auth';
  return 'permanent';
}

export class ConnectorError extends Error {
  readonly system: ApiSystem;
  readonly operation: string;
  readonly record?: string;
  readonly status: CallStatus;
  readonly serviceMessage: string;
  readonly code?: string;
  readonly policyName?: string;
  readonly retryAfterMs?: number;
  readonly existingId?: string;
  readonly kind: ErrorKind;

  constructor(d: ConnectorErrorDetails) {
    const kind = d.kind ?? classifyStatus(d.status);
    const where = d.record ? ` ${d.record}` : '';
    const http = d.status === 'network' ? 'no response (network error or timeout)' : `HTTP ${d.status}`;
    const code = d.code ? ` [${d.code}]` : '';
    const advice = kind === 'retryable' ? 'retryable' : kind === 'auth' ? 'authorization failed; reconnect if it persists' : 'not retryable; fix the data or settings';
    super(`${SYSTEM_NAME[d.system]} ${d.operation}${where} failed: ${http}${code}: ${d.serviceMessage || '(no message)'} (${advice})`,
      d.cause === undefined ? undefined : { cause: d.cause });
    this.name = 'ConnectorError';
    this.system = d.system;
    this.operation = d.operation;
    this.record = d.record;
    this.status = d.status;
    this.serviceMessage = d.serviceMessage;
    this.code = d.code;
    this.policyName = d.policyName;
    this.retryAfterMs = d.retryAfterMs;
    this.existingId = d.existingId;
    this.kind = kind;
  }

  get retryable(): boolean {
    return this.kind === 'retryable';
  }
}

/** `Retry-After` is seconds (Dataverse, HubSpot's edge) or an HTTP date; both are accepted. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  if (raw === undefined || raw === null || raw === '') return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(String(raw));
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** HubSpot's duplicate message: "Contact already exists. Existing ID: 123". */
export function parseExistingId(message: string | undefined): string | undefined {
  return message?.match(/Existing ID:\s*(\d+)/)?.[1];
}
