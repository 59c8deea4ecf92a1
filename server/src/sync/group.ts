import type { SyncRun } from './run.ts';

/** What became of one record of a group: its counterpart in the other system (none when out of scope), or why it failed. */
export type Outcome<T> = { ok: true; linked?: T } | { ok: false; error: unknown };

/**
 * The bookkeeping of one group of records (one object, one source system) in a run: which ids the run has not
 * visited yet — a dependency chain such as opportunity → account → contact → account must not loop — and each
 * record's outcome. A record that failed at one step keeps that error; the group's later steps skip it.
 */
export class GroupOutcomes<T> {
  /** The ids to work on: the group's, once each, less those this run already visited. */
  readonly fresh: string[];
  private readonly outcomes = new Map<string, Outcome<T>>();

  constructor(private readonly run: SyncRun, private readonly source: string, private readonly ids: string[]) {
    this.fresh = [...new Set(ids)].filter((id) => !run.visiting.has(this.key(id)));
    for (const id of this.fresh) run.visiting.add(this.key(id));
  }

  private key(id: string): string {
    return `${this.source}:${id}`;
  }

  /** Lets the record be visited again in this run (it is about to be synced on its own). */
  unvisit(id: string): void {
    this.run.visiting.delete(this.key(id));
  }

  /** Whether the record already has its outcome (done without a write, or failed). */
  settled(id: string): boolean {
    return this.outcomes.has(id);
  }

  succeed(id: string, linked?: T): void {
    this.outcomes.set(id, { ok: true, linked });
  }

  fail(id: string, error: unknown): void {
    this.outcomes.set(id, { ok: false, error });
  }

  /** Runs one record's step; an error becomes that record's outcome instead of stopping the group. */
  async attempt(id: string, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      this.fail(id, error);
    }
  }

  /** One outcome per id the group was given, in order; records with nothing to do are fine. */
  results(): Outcome<T>[] {
    return this.ids.map((id) => this.outcomes.get(id) ?? { ok: true });
  }
}
