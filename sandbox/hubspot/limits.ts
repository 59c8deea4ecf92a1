import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { auth } from './auth.ts';

export interface RateLimitOptions {
  /** Requests per rolling 10 s per (portal, app); HubSpot's marketplace-app limit is 110. */
  tenSecondly?: number;
  /** Search requests per rolling second per (portal, app); HubSpot documents 5. */
  searchPerSecond?: number;
  enabled?: boolean;
}

/** Rolling-window counter: timestamps of accepted requests, pruned from the front (≤ limit entries). */
class Window {
  private readonly hits: number[] = [];
  constructor(private readonly size: number, private readonly intervalMs: number) {}

  /** Records a hit if allowed; returns remaining after it, or -1 when the limit is reached. */
  take(now: number): number {
    const edge = now - this.intervalMs;
    while (this.hits.length && this.hits[0] <= edge) this.hits.shift();
    if (this.hits.length >= this.size) return -1;
    this.hits.push(now);
    return this.size - this.hits.length;
  }
}

export function rateLimitBody(policy: 'TEN_SECONDLY_ROLLING' | 'SECONDLY', groupName: string) {
  return {
    status: 'error',
    message: policy === 'SECONDLY' ? 'You have reached your secondly limit.' : 'You have reached your ten_secondly_rolling limit.',
    errorType: 'RATE_LIMIT',
    correlationId: randomUUID(),
    policyName: policy,
    requestId: randomUUID(),
    groupName,
  };
}

/**
 * HubSpot's per-(portal, app) limits: the ten-secondly rolling limit with its X-HubSpot-RateLimit-* headers on
 * every counted response, and the search limit (search is exempt from the ten-secondly one and its responses carry
 * no rate-limit headers). The 429 bodies carry the policyName the api-client's retry logic keys on.
 */
export class RateLimiter {
  readonly tenSecondly: number;
  readonly searchPerSecond: number;
  enabled: boolean;
  private readonly windows = new Map<string, Window>();
  private readonly searchWindows = new Map<string, Window>();

  constructor(options: RateLimitOptions = {}) {
    this.tenSecondly = options.tenSecondly ?? 110;
    this.searchPerSecond = options.searchPerSecond ?? 5;
    this.enabled = options.enabled ?? true;
  }

  reset(): void {
    this.windows.clear();
    this.searchWindows.clear();
  }

  private window(map: Map<string, Window>, key: string, size: number, ms: number): Window {
    let w = map.get(key);
    if (!w) map.set(key, (w = new Window(size, ms)));
    return w;
  }

  middleware() {
    return (req: Request, res: Response, next: NextFunction): void => {
      const { rateKey } = auth(res);
      if (!this.enabled || rateKey === null) return next();
      const path = req.path;
      const groupName = `publicapi:oauth:${rateKey}`;
      if (req.method === 'POST' && /^\/crm\/v3\/objects\/[^/]+\/search\/?$/.test(path)) {
        const left = this.window(this.searchWindows, rateKey, this.searchPerSecond, 1000).take(Date.now());
        if (left < 0) {
          res.status(429).json(rateLimitBody('SECONDLY', groupName));
          return;
        }
        return next();
      }
      // Batch association endpoints are exempt from the ten-secondly limit (spec x-hubspot-rate-limit-exemptions).
      if (path.startsWith('/crm/v4/associations/')) return next();
      const left = this.window(this.windows, rateKey, this.tenSecondly, 10_000).take(Date.now());
      res.setHeader('X-HubSpot-RateLimit-Max', String(this.tenSecondly));
      res.setHeader('X-HubSpot-RateLimit-Remaining', String(Math.max(0, left)));
      res.setHeader('X-HubSpot-RateLimit-Interval-Milliseconds', '10000');
      if (left < 0) {
        res.status(429).json(rateLimitBody('TEN_SECONDLY_ROLLING', groupName));
        return;
      }
      next();
    };
  }
}
