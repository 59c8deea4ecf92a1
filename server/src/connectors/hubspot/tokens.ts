import { Client } from '@hubspot/api-client';
import { ConnectorError } from '../errors.ts';
import { callWithRetry, retryPolicy, type ApiCallObserver, type RetryPolicy } from '../http-retry.ts';
import { budgetKeys, unlimitedBudget, type RateBudget } from '../rate-budget.ts';
import { clientOptions, toHubSpotError } from './client.ts';

/**
 * OAuth access tokens of one portal. HubSpot says a 401 is not the signal to refresh: track `expires_in`
 * and refresh ahead of expiry (default 5 minutes). The connector still calls `refresh()` once on a 401
 * (a token revoked or expired early), which is why refreshes are single-flight.
 */

export interface HubSpotTokens {
  accessToken: string;
  refreshToken: string;
  /** ms epoch. */
  expiresAt: number;
}

export interface HubSpotTokenSource {
  getToken(): Promise<string>;
  /** Forces a refresh (after a 401); concurrent callers share one request. */
  refresh(): Promise<string>;
}

export interface HubSpotOAuthTokenSourceOptions {
  basePath?: string;
  portalId: string | number;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  /** A current access token and its expiry, if known (e.g. from the store); otherwise the first call refreshes. */
  accessToken?: string;
  expiresAt?: number;
  /** Refresh this long before expiry. */
  refreshBeforeMs?: number;
  /** Persist rotated tokens (encrypted store); awaited before the new token is used. */
  onTokens?: (tokens: HubSpotTokens) => void | Promise<void>;
  budget?: RateBudget;
  observer?: ApiCallObserver;
  retry?: Partial<RetryPolicy>;
  now?: () => number;
}

export function createHubSpotTokenSource(o: HubSpotOAuthTokenSourceOptions): HubSpotTokenSource {
  const now = o.now ?? Date.now;
  const refreshBefore = o.refreshBeforeMs ?? 5 * 60_000;
  let current: HubSpotTokens | undefined = o.accessToken
    ? { accessToken: o.accessToken, refreshToken: o.refreshToken, expiresAt: o.expiresAt ?? 0 }
    : undefined;
  let refreshToken = o.refreshToken;
  let inFlight: Promise<string> | undefined;
  // The OAuth endpoint needs no bearer token; same options as every other Client (decorator singleton).
  const oauthClient = new Client(clientOptions(o.basePath));

  async function doRefresh(): Promise<string> {
    const res = await callWithRetry({
      system: 'hubspot', operation: 'OAuth token refresh', record: `portal ${o.portalId}`,
      budget: o.budget ?? unlimitedBudget, budgetKey: budgetKeys.hubspot(o.portalId),
      policy: retryPolicy(o.retry), observer: o.observer,
      toError: (err) => {
        const e = toHubSpotError(err, 'OAuth token refresh', `portal ${o.portalId}`);
        // A refused refresh token (400 BAD_REFRESH_TOKEN) means the app was uninstalled or revoked.
        return e.status === 400 ? new ConnectorError({ system: 'hubspot', operation: e.operation, record: e.record, status: 400,
          serviceMessage: `${e.serviceMessage} — reinstall the HubSpot app to reconnect`, code: e.code, kind: 'auth', cause: err }) : e;
      },
    }, () => oauthClient.oauth.tokensApi.create('refresh_token', undefined, undefined, o.clientId, o.clientSecret, refreshToken));
    const tokens: HubSpotTokens = {
      accessToken: res.accessToken,
      refreshToken: res.refreshToken || refreshToken,
      expiresAt: now() + Number(res.expiresIn) * 1000,
    };
    await o.onTokens?.(tokens);
    refreshToken = tokens.refreshToken;
    current = tokens;
    return tokens.accessToken;
  }

  const refresh = () => {
    inFlight ??= doRefresh().finally(() => { inFlight = undefined; });
    return inFlight;
  };

  return {
    async getToken() {
      if (inFlight) return inFlight;
      if (current && current.expiresAt - refreshBefore > now()) return current.accessToken;
      return refresh();
    },
    refresh,
  };
}

/** A fixed token (private apps, tests with a user token); refresh() cannot do anything. */
export function staticHubSpotToken(token: string): HubSpotTokenSource {
  return { getToken: async () => token, refresh: async () => token };
}
