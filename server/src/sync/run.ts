import type { Logger } from 'pino';
import type { Metrics } from '../observability/metrics.ts';
import type { Store } from '../store/index.ts';
import { LinkConflictError, type DynamicsRef, type HubSpotRef, type Link } from '../store/repositories/links.ts';
import type { SyncErrorInput } from '../store/repositories/sync-errors.ts';
import { reportProblem, type RecordOnSide } from './failures.ts';
import type { TenantContext } from './tenant-context.ts';

/**
 * What one job's work shares while it runs: the tenant, the store, and the records already visited (a
 * dependency chain such as opportunity → account → contact → account must not loop).
 */
export class SyncRun {
  readonly visiting = new Set<string>();
  private readonly fresh: { records: RecordOnSide[]; problems: SyncErrorInput[] } = { records: [], problems: [] };

  constructor(
    readonly ctx: TenantContext,
    readonly store: Store,
    readonly metrics: Metrics,
    readonly logger: Logger,
  ) {}

  report(rec: RecordOnSide, code: string, what: string, why: string, howToFix: string): Promise<void> {
    this.metrics.errors.inc({ kind: code });
    return reportProblem(this.store, this.ctx.tenantId, rec, code, what, why, howToFix);
  }

  /**
   * This record was just read again: its stored problems are replaced by `problems` (the mapping's, for fields
   * that did not sync). Kept until `saveRecordProblems`, so a group's records cost one write, not one each.
   */
  freshProblems(rec: RecordOnSide, problems: SyncErrorInput[]): void {
    this.fresh.records.push(rec);
    this.fresh.problems.push(...problems);
  }

  /** Writes what `freshProblems` collected; call it before anything else may report on those records. */
  async saveRecordProblems(): Promise<void> {
    const { records, problems } = this.fresh;
    this.fresh.records = [];
    this.fresh.problems = [];
    const groups = new Map<string, { rec: RecordOnSide; ids: string[] }>();
    for (const r of records) {
      const k = `${r.system}:${r.objectType}`;
      const g = groups.get(k) ?? { rec: r, ids: [] };
      g.ids.push(r.recordId);
      groups.set(k, g);
    }
    for (const { rec, ids } of groups.values()) await this.store.errors.clearMany(this.ctx.tenantId, rec.system, rec.objectType, ids);
    await this.store.errors.recordMany(this.ctx.tenantId, problems);
  }

  wrote(direction: 'toHubSpot' | 'toDynamics', object: string): void {
    this.metrics.writes.inc({ direction, object });
  }

  /** The main switch is off: keep the change and try again later (the job is deferred, not failed). */
  hold(reason: string): HoldError {
    return new HoldError(reason);
  }

  /**
   * Saves a new link. If a concurrent job linked the same pair first, that link is used; if either side is
   * linked to something else, the job fails with a reason a user can act on.
   */
  async linkOrReuse(dynamics: DynamicsRef, hubspot: HubSpotRef): Promise<Link> {
    try {
      return await this.store.links.create(this.ctx.tenantId, dynamics, hubspot);
    } catch (err) {
      if (!(err instanceof LinkConflictError)) throw err;
      const existing = await this.store.links.findByDynamics(this.ctx.tenantId, dynamics);
      if (existing && existing.hubspot.object === hubspot.object && existing.hubspot.id === hubspot.id) return existing;
      throw err;
    }
  }
}

export class HoldError extends Error {
  /** Held changes are looked at again after this long (the main switch may be back on). */
  readonly deferMs = 60_000;
  constructor(reason: string) {
    super(reason);
    this.name = 'HoldError';
  }
}
