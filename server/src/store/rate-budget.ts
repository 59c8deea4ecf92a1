import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';

/**
 * The calls spent per rate-budget key, in one PostgreSQL table that every server process shares, so all of
 * them together keep a tenant's API limits. It is the connectors' `CallLog` (structurally: the store does not
 * import connectors); wrap it in their `RollingRateBudget` for queueing and waiting.
 *
 * One row per key holds the calls still inside the window as run-length pairs (`slot_at[i]`, `slot_n[i]`),
 * oldest first. Each `spend` is a single upsert: the row lock taken by ON CONFLICT serialises concurrent
 * spenders of one key across processes, and the new value is computed from the locked, latest version of the
 * row, so no count is ever lost and there is no transaction to leave open when a process dies. Times come
 * from the database's clock, so processes on hosts with drifting clocks still agree.
 *
 * Calls are recorded at the end of their tick (1/100 of the window), which bounds a row at about 100 pairs
 * (Dataverse's 6,000 / 5 min would otherwise be 6,000 timestamps rewritten per call) at the price of a slot
 * returning up to one tick late — never early, so the limit still holds in every window.
 */

export interface PostgresCallLogOptions {
  /** How often this process deletes the rows of keys whose window has emptied (keys of removed tenants). */
  sweepEveryMs?: number;
}

const TICKS_PER_WINDOW = 100;

/** Epoch ms of the database clock at the moment it is evaluated (after the row lock, unlike now()). */
const dbNowMs = sql<number>`floor(extract(epoch from clock_timestamp()) * 1000)::bigint`;

export class PostgresCallLog {
  private readonly sweepEveryMs: number;
  private nextSweepAt = 0;

  constructor(
    private readonly db: Kysely<Database>,
    o: PostgresCallLogOptions = {},
  ) {
    this.sweepEveryMs = o.sweepEveryMs ?? 10 * 60_000;
  }

  /** Records `n` calls under `key` if they fit in the window and returns 0; else the ms until they would. */
  async spend(key: string, n: number, { limit, windowMs }: { limit: number; windowMs: number }): Promise<number> {
    if (Date.now() >= this.nextSweepAt) {
      this.nextSweepAt = Date.now() + this.sweepEveryMs;
      await this.sweep();
    }
    const w = sql`${windowMs}::bigint`;
    const tick = sql`${Math.max(1, Math.ceil(windowMs / TICKS_PER_WINDOW))}::bigint`;
    const cost = sql`${n}::int`;
    const tickEnd = (t: string) => sql`(${sql.ref(t)} + ${tick} - 1) / ${tick} * ${tick}`;
    // wait_ms is this statement's verdict (null: recorded), read back through RETURNING.
    const { rows } = await sql<{ wait_ms: number | null }>`
      insert into rate_budget as b (key, slot_at, slot_n, wait_ms, expires_at)
      select ${key}, array[c.r], array[${cost}], null, c.r + ${w}
      from (select ${tickEnd('z.t')} as r from (select ${dbNowMs} as t) z) c
      on conflict (key) do update set (slot_at, slot_n, wait_ms, expires_at) = (
        select
          case when not s.fits or s.ats[s.len] = s.r then s.ats else s.ats || s.r end,
          case when not s.fits then s.ns when s.ats[s.len] = s.r then s.ns[:s.len - 1] || (s.ns[s.len] + ${cost}) else s.ns || ${cost} end,
          case when s.fits then null else s.freed_at + ${w} - s.t end,
          case when s.fits then s.r + ${w} else s.ats[s.len] + ${w} end
        from (
          select c.t, c.r, l.ats, l.ns, cardinality(l.ats) as len, l.used + ${cost} <= ${limit}::int as fits,
            -- the pair whose expiry leaves room for the n calls
            (select min(f.a) from (select u.a, sum(u.x) over (order by u.a) as run from unnest(l.ats, l.ns) u(a, x)) f
              where f.run >= l.used + ${cost} - ${limit}::int) as freed_at
          from (select z.t, ${tickEnd('z.t')} as r from (select ${dbNowMs} as t) z) c,
          lateral (
            select coalesce(array_agg(u.a order by u.a), '{}') as ats, coalesce(array_agg(u.x order by u.a), '{}') as ns,
              coalesce(sum(u.x), 0) as used
            from unnest(b.slot_at, b.slot_n) u(a, x) where u.a > c.t - ${w}
          ) l
        ) s
      )
      returning wait_ms`.execute(this.db);
    return rows[0].wait_ms ?? 0;
  }

  /** Deletes keys with nothing left in their window; a concurrent spend either waits for this or re-inserts. */
  private async sweep(): Promise<void> {
    await sql`delete from rate_budget where expires_at <= ${dbNowMs}`.execute(this.db);
  }
}
