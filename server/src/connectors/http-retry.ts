import { ConnectorError, type ApiSystem, type CallStatus } from './errors.ts';
import type { RateBudget } from './rate-budget.ts';

/**
 * The call loop both connectors share: take the rate budget, run one attempt, classify the failure,
 * wait (Retry-After, HubSpot policyName, or exponential backoff with jitter) and try again, a bounded
 * number of times. The official clients' own retries are off (HubSpot's live in a process-wide singleton,
 * see reference/hubspot.md §4), so this is the only retry layer and the budget sees every attempt.
 */

export type { CallStatus } from './errors.ts';

/** Metrics hook: one call per HTTP attempt (retries included), with the status or `'network'`. */
export type ApiCallObserver = (system: ApiSystem, operation: string, status: CallStatus) => void;

export interface RetryPolicy {
  /** Attempts in total, first one included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Wait after HubSpot's TEN_SECONDLY_ROLLING 429: the rolling window (HubSpot sends no Retry-After). */
  rollingWindowMs: number;
  /** Wait after HubSpot's SECONDLY (search) 429. */
  secondlyWaitMs: number;
  /**
   * A longer Retry-After is not slept through in-process: the error goes to the caller (retryable, with
   * `retryAfterMs`) so the queue can reschedule the job instead of holding a worker.
   */
  maxRetryAfterMs: number;
  /** Per attempt; 0 = none. A timed-out attempt counts as a network error. */
  timeoutMs: number;
  random: () => number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  rollingWindowMs: 10_000,
  secondlyWaitMs: 1_000,
  maxRetryAfterMs: 60_000,
  timeoutMs: 60_000,
  random: Math.random,
};

export function retryPolicy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  return { ...DEFAULT_RETRY_POLICY, ...overrides };
}

/**
 * How long to wait before attempt `attempt + 1`. Service-given waits are honoured and only ever lengthened
 * (up to +20 % jitter, so many workers released together do not hit the window edge at once); otherwise
 * exponential backoff with "equal jitter" (half fixed, half random).
 */
export function retryDelayMs(err: ConnectorError, attempt: number, p: RetryPolicy): number {
  const stretch = (ms: number) => ms + ms * 0.2 * p.random();
  if (err.retryAfterMs !== undefined) return stretch(err.retryAfterMs);
  if (err.policyName === 'TEN_SECONDLY_ROLLING') return stretch(p.rollingWindowMs);
  if (err.policyName === 'SECONDLY') return stretch(p.secondlyWaitMs);
  const exp = Math.min(p.maxDelayMs, p.baseDelayMs * 2 ** (attempt - 1));
  return exp / 2 + (p.random() * exp) / 2;
}

export interface AttemptContext {
  /** 1-based. */
  attempt: number;
  /** Set by the attempt when the success status is not 200 (201, 204, 207), for the observer. */
  status?: number;
}

export interface CallOptions {
  system: ApiSystem;
  operation: string;
  record?: string;
  budget: RateBudget;
  budgetKey: string;
  policy: RetryPolicy;
  observer?: ApiCallObserver;
  /** Turns whatever the client threw into a ConnectorError (status, service message, Retry-After …). */
  toError: (err: unknown) => ConnectorError;
  /** Called once on the first 401; the attempt is then repeated (with a fresh token). */
  refreshAuth?: () => Promise<void>;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function callWithRetry<T>(o: CallOptions, run: (ctx: AttemptContext) => Promise<T>): Promise<T> {
  const sleep = o.sleep ?? defaultSleep;
  let refreshed = false;
  for (let attempt = 1; ; attempt++) {
    await o.budget.take(o.budgetKey);
    const ctx: AttemptContext = { attempt };
    let error: ConnectorError;
    try {
      const value = await withTimeout(run(ctx), o.policy.timeoutMs);
      o.observer?.(o.system, o.operation, ctx.status ?? 200);
      return value;
    } catch (raw) {
      error = raw instanceof TimeoutError
        ? new ConnectorError({ system: o.system, operation: o.operation, record: o.record, status: 'network', serviceMessage: raw.message })
        : raw instanceof ConnectorError ? raw : o.toError(raw);
    }
    o.observer?.(o.system, o.operation, error.status);
    if (error.kind === 'auth' && o.refreshAuth && !refreshed) {
      refreshed = true;
      await o.refreshAuth();
      attempt -= 1; // the re-authenticated repeat is not a failed attempt
      continue;
    }
    if (!error.retryable || attempt >= o.policy.maxAttempts || error.policyName === 'DAILY') throw error;
    const delay = retryDelayMs(error, attempt, o.policy);
    if (delay > o.policy.maxRetryAfterMs) throw error;
    await sleep(delay);
  }
}

class TimeoutError extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  if (!ms) return p;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`no response within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
