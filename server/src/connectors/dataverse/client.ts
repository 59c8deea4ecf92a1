import { DynamicsWebApi } from 'dynamics-web-api';
import { ConnectorError, parseRetryAfter } from '../errors.ts';
import { callWithRetry, retryPolicy, type ApiCallObserver, type AttemptContext, type RetryPolicy } from '../http-retry.ts';
import { budgetKeys, defaultLimitFor, InMemoryRateBudget, type RateBudget } from '../rate-budget.ts';

type DwaError = { status?: number; message?: string; code?: string; headers?: Record<string, string | string[]>; innererror?: { message?: string }; error?: { code?: string; message?: string } };

/**
 * dynamics-web-api rejects with an Error carrying the service's `{error:{code,message}}` plus `status` and
 * `headers`; a failed `$batch` without continue-on-error rejects with an array of such errors; a failed item
 * of a continue-on-error `$batch` carries the service's body as is, so its code and message are under `error`;
 * a network failure has no status.
 */
export function toDataverseError(err: unknown, operation: string, record?: string): ConnectorError {
  if (err instanceof ConnectorError) return err;
  const e = (Array.isArray(err) ? (err.find((x) => typeof (x as DwaError)?.status === 'number') ?? err[0]) : err) as DwaError | undefined;
  if (typeof e?.status === 'number' && e.status >= 100) {
    return new ConnectorError({
      system: 'dataverse', operation, record, status: e.status,
      serviceMessage: e.message || e.error?.message || e.innererror?.message || '', code: e.code || e.error?.code || undefined,
      retryAfterMs: parseRetryAfter(e.headers?.['retry-after']), cause: err,
    });
  }
  const message = (e as { message?: string } | undefined)?.message ?? String(err);
  return new ConnectorError({ system: 'dataverse', operation, record, status: 'network', serviceMessage: message, cause: err });
}

export interface DataverseCallerOptions {
  /** Environment URL, e.g. `https://contoso.crm.dynamics.com` (the sandbox's `orgUrl`). */
  orgUrl: string;
  /** From `createDataverseTokenSource` (token.ts): msal client credentials, cached until near expiry. */
  tokens: { getToken(): Promise<string> };
  /** Shared per-tenant budget, key `dataverse:<orgUrl>`. Default: in-memory, 6,000 / 5 min. */
  budget?: RateBudget;
  observer?: ApiCallObserver;
  retry?: Partial<RetryPolicy>;
}

/** Per-org call path: rate budget → retry loop → dynamics-web-api (which has no retries of its own). */
export class DataverseCaller {
  readonly api: DynamicsWebApi;
  readonly orgUrl: string;
  private readonly budget: RateBudget;
  private readonly policy: RetryPolicy;

  constructor(private readonly o: DataverseCallerOptions) {
    this.orgUrl = o.orgUrl.replace(/\/+$/, '');
    this.budget = o.budget ?? new InMemoryRateBudget(defaultLimitFor);
    this.policy = retryPolicy(o.retry);
    this.api = new DynamicsWebApi({
      serverUrl: this.orgUrl,
      onTokenRefresh: () => o.tokens.getToken(),
      // Errors of update/upsert/delete reach us instead of being turned into `false` by the library.
      propagateErrors: true,
      // Our loop races a timer too; this one also frees the socket.
      timeout: this.policy.timeoutMs || undefined,
    });
  }

  call<T>(operation: string, record: string | undefined, run: (api: DynamicsWebApi, ctx: AttemptContext) => Promise<T>): Promise<T> {
    return callWithRetry({
      system: 'dataverse', operation, record, budget: this.budget, budgetKey: budgetKeys.dataverse(this.orgUrl), policy: this.policy,
      observer: this.o.observer, toError: (err) => toDataverseError(err, operation, record),
    }, (ctx) => run(this.api, ctx));
  }
}

/** `key='value'` / `key=5` alternate-key syntax, quotes doubled as OData requires. */
export function alternateKey(key: Record<string, string | number>): string {
  return Object.entries(key).map(([k, v]) => (typeof v === 'number' ? `${k}=${v}` : `${k}='${v.replace(/'/g, "''")}'`)).join(',');
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isGuid = (s: string) => GUID.test(s);

/**
 * dynamics-web-api copies annotations to friendlier aliases (`x_Formatted`, `oDataContext` …). The sync reads
 * the documented annotation names, so the aliases are dropped to keep records as the Web API sent them.
 */
export function stripClientAliases<T extends Record<string, unknown>>(row: T): T {
  for (const key of Object.keys(row)) {
    const at = key.indexOf('@');
    if (at <= 0) continue;
    const base = key.slice(0, at);
    const ann = key.slice(at + 1);
    const alias = ann === 'OData.Community.Display.V1.FormattedValue' ? `${base}_Formatted`
      : ann === 'Microsoft.Dynamics.CRM.associatednavigationproperty' ? `${base}_NavigationProperty`
      : ann === 'Microsoft.Dynamics.CRM.lookuplogicalname' ? `${base}_LogicalName` : undefined;
    if (alias) delete row[alias];
  }
  for (const k of ['oDataContext', 'oDataNextLink', 'oDataDeltaLink', 'oDataCount']) delete row[k];
  return row;
}
