/**
 * Service protection (learn api-limits): per user, a sliding window of N requests (6,000 per 5 minutes
 * by default). Over the limit the caller gets 429 with Retry-After = seconds until the oldest request
 * in the window falls out of it, and error 0x80072322.
 */
export interface ServiceProtectionOptions {
  requestsPerWindow?: number;
  windowMs?: number;
  enabled?: boolean;
}

export type LimitCheck = { ok: true; remaining: number } | { ok: false; retryAfterSeconds: number; limit: number; windowMs: number };

export class ServiceProtection {
  requestsPerWindow: number;
  windowMs: number;
  enabled: boolean;
  private readonly windows = new Map<string, number[]>();

  constructor(options: ServiceProtectionOptions = {}, private readonly now: () => number = Date.now) {
    this.requestsPerWindow = options.requestsPerWindow ?? 6000;
    this.windowMs = options.windowMs ?? 300_000;
    this.enabled = options.enabled ?? true;
  }

  configure(options: ServiceProtectionOptions): void {
    if (options.requestsPerWindow !== undefined) this.requestsPerWindow = options.requestsPerWindow;
    if (options.windowMs !== undefined) this.windowMs = options.windowMs;
    if (options.enabled !== undefined) this.enabled = options.enabled;
    this.windows.clear();
  }

  /** Counts one request for the user, or refuses it (refused requests do not count). */
  take(userId: string): LimitCheck {
    if (!this.enabled) return { ok: true, remaining: this.requestsPerWindow };
    const now = this.now();
    let times = this.windows.get(userId);
    if (!times) this.windows.set(userId, (times = []));
    // Timestamps are appended in order, so expired ones are at the front.
    let expired = 0;
    while (expired < times.length && times[expired] <= now - this.windowMs) expired++;
    if (expired) times.splice(0, expired);
    if (times.length >= this.requestsPerWindow) {
      const retryAfterSeconds = Math.max(1, Math.ceil((times[0] + this.windowMs - now) / 1000));
      return { ok: false, retryAfterSeconds, limit: this.requestsPerWindow, windowMs: this.windowMs };
    }
    times.push(now);
    return { ok: true, remaining: this.requestsPerWindow - times.length };
  }
}
