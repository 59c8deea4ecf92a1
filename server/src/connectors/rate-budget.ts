/**
 * Per-tenant call budgets per target API. The connectors call `take(key)` before every HTTP attempt
 * (retries included: the services count those too). The store layer can provide a PostgreSQL-shared budget
 * with the same interface so several server processes share one tenant's allowance.
 */

export interface RateBudget {
  /** Resolves when `cost` calls may be made under `key` now; waits (does not fail) when the budget is spent. */
  take(key: string, cost?: number): Promise<void>;
}

export interface BudgetLimit {
  /** Calls allowed in any window of `windowMs`. */
  limit: number;
  windowMs: number;
}

/** Budget keys used by the connectors; limits are matched on these shapes. */
export const budgetKeys = {
  hubspot: (portalId: string | number) => `hubspot:${portalId}`,
  hubspotSearch: (portalId: string | number) => `hubspot:${portalId}:search`,
  dataverse: (orgUrl: string) => `dataverse:${orgUrl.replace(/\/+$/, '').toLowerCase()}`,
};

/** The documented limits: HubSpot 110 / 10 s per portal (OAuth apps), search 5 / s, Dataverse 6,000 / 5 min per user. */
export function defaultLimitFor(key: string): BudgetLimit | undefined {
  if (key.startsWith('hubspot:') && key.endsWith(':search')) return { limit: 5, windowMs: 1_000 };
  if (key.startsWith('hubspot:')) return { limit: 110, windowMs: 10_000 };
  if (key.startsWith('dataverse:')) return { limit: 6_000, windowMs: 300_000 };
  return undefined;
}

export interface BudgetStats {
  taken: number;
  /** How many `take` calls had to wait for the window to free up. */
  waited: number;
}

/**
 * In-memory budget for one process. It is a token bucket whose tokens return exactly `windowMs` after they
 * were spent (a sliding-window log) rather than trickling back at a constant rate: both HubSpot
 * (TEN_SECONDLY_ROLLING) and Dataverse (5-minute sliding window) count calls in a rolling window, and a
 * classic bucket with a full burst plus refill would allow up to twice the limit inside one window.
 * Takers of one key are served first come, first served.
 */
export class InMemoryRateBudget implements RateBudget {
  private readonly spent = new Map<string, number[]>();
  private readonly queues = new Map<string, Promise<void>>();
  private readonly perKey = new Map<string, BudgetStats>();
  readonly stats: BudgetStats = { taken: 0, waited: 0 };

  constructor(
    private readonly limitFor: (key: string) => BudgetLimit | undefined = defaultLimitFor,
    private readonly now: () => number = Date.now,
  ) {}

  statsFor(key: string): BudgetStats {
    return { ...(this.perKey.get(key) ?? { taken: 0, waited: 0 }) };
  }

  take(key: string, cost = 1): Promise<void> {
    const previous = this.queues.get(key) ?? Promise.resolve();
    const mine = previous.then(() => this.acquire(key, cost));
    // Keep the chain alive even if a caller abandons its promise; clean up when this key goes idle.
    const tail = mine.catch(() => undefined);
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return mine;
  }

  private async acquire(key: string, cost: number): Promise<void> {
    const limit = this.limitFor(key);
    const stats = this.perKey.get(key) ?? { taken: 0, waited: 0 };
    this.perKey.set(key, stats);
    stats.taken += 1;
    this.stats.taken += 1;
    if (!limit) return;
    const n = Math.min(Math.max(1, cost), limit.limit);
    let counted = false;
    for (;;) {
      const t = this.now();
      const log = (this.spent.get(key) ?? []).filter((at) => at > t - limit.windowMs);
      this.spent.set(key, log);
      if (log.length + n <= limit.limit) {
        for (let i = 0; i < n; i++) log.push(t);
        return;
      }
      if (!counted) {
        counted = true;
        stats.waited += 1;
        this.stats.waited += 1;
      }
      // The oldest entries that must expire before n more fit.
      const until = log[log.length + n - limit.limit - 1] + limit.windowMs;
      await new Promise((r) => setTimeout(r, Math.max(1, until - t)));
    }
  }
}

/** A budget that never waits (tests of other behaviour, benchmarks with the sandbox limits off). */
export const unlimitedBudget: RateBudget = { take: async () => undefined };
