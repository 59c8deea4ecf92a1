import { Client } from '@hubspot/api-client';
import { ConnectorError, parseExistingId, parseRetryAfter } from '../errors.ts';
import { callWithRetry, retryPolicy, type ApiCallObserver, type AttemptContext, type RetryPolicy } from '../http-retry.ts';
import { budgetKeys, defaultLimitFor, InMemoryRateBudget, type RateBudget } from '../rate-budget.ts';
import type { HubSpotTokenSource } from './tokens.ts';

/**
 * @hubspot/api-client keeps its retry/limiter decorators in a process-wide singleton that every `new Client()`
 * overwrites (reference/hubspot.md §4). So every Client in this process is created with exactly these
 * options — no client retries, no Bottleneck — and limits/retries live in `HubSpotCaller` per portal.
 */
export function clientOptions(basePath?: string, accessToken?: string) {
  return { basePath, accessToken, numberOfApiCallRetries: 0 };
}

type Json = Record<string, unknown>;

/** An ApiException (code, body, headers), a fetch/network error, or anything else → ConnectorError. */
export function toHubSpotError(err: unknown, operation: string, record?: string): ConnectorError {
  if (err instanceof ConnectorError) return err;
  const e = err as { code?: unknown; body?: unknown; headers?: Record<string, string>; message?: string };
  if (typeof e?.code === 'number' && e.code >= 100) {
    let body = e.body as Json | string | undefined;
    if (typeof body === 'string') {
      try { body = JSON.parse(body) as Json; } catch { /* keep the text */ }
    }
    const b = (typeof body === 'object' && body ? body : {}) as Json;
    const message = typeof b.message === 'string' ? b.message : typeof body === 'string' && body ? body : (e.message ?? '').split('\n')[1] ?? '';
    const policyName = typeof b.policyName === 'string' ? b.policyName : undefined;
    return new ConnectorError({
      system: 'hubspot', operation, record, status: e.code, serviceMessage: detailed(message, b),
      code: typeof b.category === 'string' ? b.category : typeof b.errorType === 'string' ? b.errorType : undefined,
      policyName, retryAfterMs: parseRetryAfter(e.headers?.['retry-after']), existingId: e.code === 409 ? parseExistingId(message) : undefined,
      cause: err,
    });
  }
  return new ConnectorError({ system: 'hubspot', operation, record, status: 'network', serviceMessage: e?.message ?? String(err), cause: err });
}

/** HubSpot puts the useful part of validation errors in `errors[].message`; keep it in the user-facing text. */
function detailed(message: string, body: Json): string {
  const details = Array.isArray(body.errors) ? (body.errors as Json[]).map((d) => d?.message).filter((m): m is string => typeof m === 'string' && !message.includes(m)) : [];
  return details.length ? `${message} (${details.join('; ')})` : message;
}

const CATEGORY_STATUS: Record<string, number> = {
  CONFLICT: 409, OBJECT_NOT_FOUND: 404, VALIDATION_ERROR: 400, RATE_LIMITS: 429, RATE_LIMIT: 429, INVALID_AUTHENTICATION: 401,
};

/** One entry of a 207's `errors[]` → ConnectorError (the entry has a category, no HTTP status). */
export function batchItemError(item: { category?: string; message?: string; errors?: Array<{ message?: string }> }, operation: string, record?: string): ConnectorError {
  const message = item.message ?? 'batch input failed';
  const status = CATEGORY_STATUS[item.category ?? ''] ?? 400;
  return new ConnectorError({
    system: 'hubspot', operation, record, status, serviceMessage: detailed(message, item as Json), code: item.category,
    existingId: status === 409 ? parseExistingId(message) : undefined,
  });
}

export interface HubSpotCallerOptions {
  portalId: string | number;
  /** Default `https://api.hubapi.com`; the sandbox's `baseUrl` in tests and UAT. */
  basePath?: string;
  tokens: HubSpotTokenSource;
  budget?: RateBudget;
  observer?: ApiCallObserver;
  retry?: Partial<RetryPolicy>;
}

/** Per-portal call path: token → Client → rate budget → retry loop (with one token refresh on a 401). */
export class HubSpotCaller {
  readonly portalId: string | number;
  private readonly budget: RateBudget;
  private readonly policy: RetryPolicy;
  private cached?: { token: string; client: Client };

  constructor(private readonly o: HubSpotCallerOptions) {
    this.portalId = o.portalId;
    this.budget = o.budget ?? new InMemoryRateBudget(defaultLimitFor);
    this.policy = retryPolicy(o.retry);
  }

  private async client(): Promise<Client> {
    const token = await this.o.tokens.getToken();
    if (this.cached?.token !== token) this.cached = { token, client: new Client(clientOptions(this.o.basePath, token)) };
    return this.cached.client;
  }

  call<T>(operation: string, record: string | undefined, run: (client: Client, ctx: AttemptContext) => Promise<T>, kind: 'default' | 'search' = 'default'): Promise<T> {
    return callWithRetry({
      system: 'hubspot', operation, record, budget: this.budget, policy: this.policy, observer: this.o.observer,
      budgetKey: kind === 'search' ? budgetKeys.hubspotSearch(this.portalId) : budgetKeys.hubspot(this.portalId),
      toError: (err) => toHubSpotError(err, operation, record),
      refreshAuth: async () => { await this.o.tokens.refresh(); },
    }, async (ctx) => run(await this.client(), ctx));
  }
}
