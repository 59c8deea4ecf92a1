/**
 * Per-tenant call budgets per target API. The connectors call `take(key)` before every HTTP attempt
 * (retries included: the services count those too). Where the spent calls are counted is a `CallLog`: this
 * process's memory (SQLite: one process), or a PostgreSQL table that every process shares (the store's
 * `PostgresCallLog`, wired in main.ts), so several processes together keep one tenant's allowance.
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

/**
 * Time a call may take to reach the service after its slot was taken here (a busy event loop, connection
 * set-up). The service counts arrivals, so a window kept exactly as long as the service's can let the 111th
 * call arrive while the service still counts the 1st: a 429, and for HubSpot a 10-second wait.
 */
const SKEW_MS = 500;

/** The documented limits: HubSpot 110 / 10 s per portal (OAuth apps), search 5 / s, Dataverse 6,000 / 5 min per user. */
export function defaultLimitFor(key: string): BudgetLimit | undefined {
  if (key.startsWith('hubspot:') && key.endsWith(':search')) return { limit: 5, windowMs: 1_000 + SKEW_MS / 5 };
  if (key.startsWith('hubspot:')) return { limit: 110, windowMs: 10_000 + SKEW_MS };
  if (key.startsWith('dataverse:')) return { limit: 6_000, windowMs: 300_000 };
  return undefined;
}

/**
 * The calls spent per key in a sliding window. A log is a token bucket whose tokens return exactly `windowMs`
 * after they were spent rather than trickling back at a constant rate: both HubSpot (TEN_SECONDLY_ROLLING)
 * and Dataverse (5-minute sliding window) count calls in a rolling window, and a classic bucket with a full
 * burst plus refill would allow up to twice the limit inside one window.
 */
export interface CallLog {
  /**
   * Records `n` calls (1 ≤ n ≤ limit) under `key` if they fit in the window now and returns 0; otherwise
   * records nothing and returns the milliseconds until enough earlier calls leave the window.
   */
  spend(key: string, n: number, limit: BudgetLimit): number | Promise<number>;
}

/** One process's log: the spent times per key, oldest first. */
export class MemoryCallLog implements CallLog {
  private readonly spent = new Map<string, number[]>();

  constructor(private readonly now: () => number = Date.now) {}

  spend(key: string, n: number, { limit, windowMs }: BudgetLimit): number {
    const t = this.now();
    const log = (this.spent.get(key) ?? []).filter((at) => at > t - windowMs);
    this.spent.set(key, log);
    if (log.length + n <= limit) {
      for (let i = 0; i < n; i++) log.push(t);
      return 0;
    }
    // The entry whose expiry leaves room for n more.
    return log[log.length + n - limit - 1] + windowMs - t;
  }
}

export interface BudgetStats {
  taken: number;
  /** How many `take` calls had to wait for the window to free up. */
  waited: number;
}

/**
 * A budget over any call log. Takers of one key in this process are served first come, first served, and only
 * the head of that queue asks the log, so waiting takers cost nothing (for a shared log: no database traffic)
 * and the head sleeps exactly as long as the log says rather than polling.
 */
export class RollingRateBudget implements RateBudget {
  private readonly queues = new Map<string, Promise<void>>();
  private readonly perKey = new Map<string, BudgetStats>();
  readonly stats: BudgetStats = { taken: 0, waited: 0 };

  constructor(
    private readonly log: CallLog,
    private readonly limitFor: (key: string) => BudgetLimit | undefined = defaultLimitFor,
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
    // More than the whole window can never fit: such a take spends the whole window instead.
    const n = Math.min(Math.max(1, Math.ceil(cost)), limit.limit);
    let counted = false;
    for (;;) {
      const waitMs = await this.log.spend(key, n, limit);
      if (waitMs <= 0) return;
      if (!counted) {
        counted = true;
        stats.waited += 1;
        this.stats.waited += 1;
      }
      await new Promise((r) => setTimeout(r, Math.max(1, waitMs)));
    }
  }
}

/** The budget of one process (SQLite deployments, connectors built without a budget, tests). */
export class InMemoryRateBudget extends RollingRateBudget {
  constructor(limitFor: (key: string) => BudgetLimit | undefined = defaultLimitFor, now: () => number = Date.now) {
    super(new MemoryCallLog(now), limitFor);
  }
}

/** A budget that never waits (tests of other behaviour, benchmarks with the sandbox limits off). */
export const unlimitedBudget: RateBudget = { take: async () => undefined };
