import type { Logger } from 'pino';
import type { DataverseConnector } from '../connectors/dataverse/connector.ts';
import type { HubSpotConnector } from '../connectors/hubspot/connector.ts';
import type { Store } from '../store/index.ts';
import type { JobQueue } from '../queue/job-queue.ts';
import { pollHubSpot, type HubSpotPollResult } from './hubspot-poller.ts';
import { trackDataverseChanges, type TrackResult } from './dataverse-tracker.ts';

/** The part of `TenantContexts` (sync/tenant-context.ts) the polls need: the tenant's two connectors. */
export interface ConnectorSource {
  get(tenantId: string): Promise<{ hubspot: Pick<HubSpotConnector, 'searchModifiedSince'>; dynamics: Pick<DataverseConnector, 'trackChanges'> }>;
}

export interface PollResult {
  tenantId: string;
  startedAt: number;
  finishedAt: number;
  hubspot?: HubSpotPollResult;
  dataverse?: TrackResult;
  /** One message per side that failed (the other side still ran). */
  errors: string[];
}

export interface SchedulerOptions {
  store: Store;
  contexts: ConnectorSource;
  queue: JobQueue;
  logger: Logger;
  /** Used when a tenant has no `pollIntervalMinutes` setting (default 5). */
  defaultIntervalMinutes?: number;
  /** How often due tenants are looked for (default 5 s); the per-tenant interval decides when each runs. */
  tickMs?: number;
  overlapMs?: number;
  now?: () => number;
}

/**
 * Runs each tenant's safety-net polls (HubSpot search by last-modified, Dataverse change tracking) every
 * `pollIntervalMinutes`, read from the tenant's settings at each tick so an admin change applies without a
 * restart. A tenant is polled at start-up first (catching up on what happened while the server was down).
 *
 * With several processes each runs its own schedule; duplicate polls only coalesce into the same jobs.
 */
export class Scheduler {
  private readonly lastRun = new Map<string, number>();
  private readonly running = new Map<string, Promise<PollResult>>();
  private readonly results = new Map<string, PollResult>();
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private stopped = true;
  private readonly now: () => number;

  constructor(private readonly o: SchedulerOptions) {
    this.now = o.now ?? Date.now;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const loop = async () => {
      if (this.stopped) return;
      this.ticking = this.tick();
      await this.ticking;
      if (!this.stopped) this.timer = setTimeout(loop, this.o.tickMs ?? 5_000);
    };
    void loop();
  }

  /** Stops scheduling and waits for polls in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.ticking;
    await Promise.allSettled([...this.running.values()]);
  }

  /** Polls one tenant now (admin API, tests); waits for a poll already in progress, then runs a fresh one. */
  async pollNow(tenantId: string): Promise<PollResult> {
    const current = this.running.get(tenantId);
    if (current) await current.catch(() => undefined);
    return this.run(tenantId);
  }

  /** The last finished poll of a tenant (for the admin API). */
  lastResult(tenantId: string): PollResult | undefined {
    return this.results.get(tenantId);
  }

  private async tick(): Promise<void> {
    let tenants;
    try {
      tenants = await this.o.store.tenants.list();
    } catch (err) {
      this.o.logger.error({ err }, 'scheduler could not list tenants');
      return;
    }
    const now = this.now();
    for (const t of tenants) {
      if (this.stopped) return;
      const s = t.settings as { pollIntervalMinutes?: unknown; dynamics?: unknown; hubspot?: unknown };
      // Not connected to both systems yet: nothing could be synced, so there is nothing to poll for.
      if (!s.dynamics || !s.hubspot) continue;
      const minutes = typeof s.pollIntervalMinutes === 'number' && s.pollIntervalMinutes >= 1 ? s.pollIntervalMinutes : (this.o.defaultIntervalMinutes ?? 5);
      const last = this.lastRun.get(t.id);
      if (this.running.has(t.id) || (last !== undefined && now - last < minutes * 60_000)) continue;
      // Not awaited: one slow tenant must not hold up the others' polls.
      this.run(t.id).catch(() => undefined);
    }
  }

  private run(tenantId: string): Promise<PollResult> {
    const p = this.poll(tenantId).finally(() => {
      if (this.running.get(tenantId) === p) this.running.delete(tenantId);
    });
    this.running.set(tenantId, p);
    return p;
  }

  private async poll(tenantId: string): Promise<PollResult> {
    const startedAt = this.now();
    this.lastRun.set(tenantId, startedAt);
    const result: PollResult = { tenantId, startedAt, finishedAt: startedAt, errors: [] };
    const log = this.o.logger.child({ tenantId });
    let ctx;
    try {
      ctx = await this.o.contexts.get(tenantId);
    } catch (err) {
      result.errors.push((err as Error).message);
      log.warn({ err }, 'poll skipped: tenant context unavailable');
    }
    if (ctx) {
      const base = { store: this.o.store, queue: this.o.queue, tenantId };
      try {
        result.hubspot = await pollHubSpot({ ...base, hubspot: ctx.hubspot, overlapMs: this.o.overlapMs, now: this.now });
      } catch (err) {
        result.errors.push(`HubSpot poll: ${(err as Error).message}`);
        log.warn({ err }, 'HubSpot poll failed');
      }
      try {
        result.dataverse = await trackDataverseChanges({ ...base, dynamics: ctx.dynamics, logger: log });
      } catch (err) {
        result.errors.push(`Dataverse change tracking: ${(err as Error).message}`);
        log.warn({ err }, 'Dataverse change tracking failed');
      }
    }
    result.finishedAt = this.now();
    this.results.set(tenantId, result);
    log.debug({ result }, 'poll finished');
    return result;
  }
}
