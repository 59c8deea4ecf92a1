/**
 * What the runner does with a failed job: retry later (when), or dead-letter now. Pure, so the policy is
 * tested without a database or clock.
 *
 * The worker's contract: it throws a `ConnectorError` (with `retryable` / `retryAfterMs`), or an error with
 * `terminal: true` for failures retrying cannot fix (bad settings, a deleted tenant); anything else is treated
 * as retryable, because an unknown failure (a bug fixed by a deploy, a database blip) may well pass next time
 * and the attempt limit still bounds it.
 */

export interface RetryDecision {
  terminal: boolean;
  /** Delay before the next attempt (only when not terminal). */
  delayMs: number;
  /** One line for the job's last_error and the dead-letter list (no stack traces: users read it). */
  message: string;
}

export interface BackoffOptions {
  /** First retry delay; doubles per attempt. */
  baseMs?: number;
  capMs?: number;
  /** 0..1, injected in tests. */
  random?: () => number;
}

/**
 * Exponential backoff with ±20 % jitter (so jobs that failed together — an outage — do not all return in the
 * same second), capped. `attempt` is 1 after the first failure.
 */
export function backoffMs(attempt: number, o: BackoffOptions = {}): number {
  const base = o.baseMs ?? 30_000;
  const cap = o.capMs ?? 3_600_000;
  const exp = Math.min(cap, base * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp * (0.8 + 0.4 * (o.random ?? Math.random)()));
}

interface FailureShape {
  message?: unknown;
  terminal?: unknown;
  retryable?: unknown;
  retryAfterMs?: unknown;
  kind?: unknown;
}

export function decideRetry(err: unknown, attempt: number, o: BackoffOptions = {}): RetryDecision {
  const e = (typeof err === 'object' && err !== null ? err : {}) as FailureShape;
  const message = (typeof e.message === 'string' && e.message ? e.message : String(err)).split('\n')[0].slice(0, 2000);
  // ConnectorError exposes `retryable` as a getter: false means a 4xx the data or settings must fix. An `auth`
  // failure is not retryable by that flag, but a refreshed/reconnected credential can fix it, so it is retried
  // (the attempt limit then dead-letters it if nobody reconnects).
  const terminal = e.terminal === true || (e.retryable === false && e.kind !== 'auth');
  if (terminal) return { terminal: true, delayMs: 0, message };
  const backoff = backoffMs(attempt, o);
  const retryAfter = typeof e.retryAfterMs === 'number' && Number.isFinite(e.retryAfterMs) && e.retryAfterMs >= 0 ? e.retryAfterMs : undefined;
  // The service said when to come back (Retry-After): wait at least that long, plus a little jitter so a
  // tenant's throttled jobs do not return in one burst and trip the limit again. Our own backoff is not added
  // on top: Retry-After is the authoritative answer, and a 2 s hint should not become a 30 s wait.
  const delayMs = retryAfter !== undefined ? Math.round(retryAfter * (1 + 0.2 * (o.random ?? Math.random)())) : backoff;
  return { terminal: false, delayMs, message };
}
