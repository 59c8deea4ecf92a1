import type { Store } from '../store/index.ts';
import type { SyncErrorInput } from '../store/repositories/sync-errors.ts';
import type { SystemName } from '../store/schema.ts';
import type { RuleError, Unmatched } from './rules/types.ts';

/**
 * A failure retrying cannot fix (bad data, a duplicate, a missing column). The runner dead-letters it at once;
 * the record carries a sync error saying what, why and how to fix.
 */
export class SyncFailure extends Error {
  readonly terminal = true;
  constructor(readonly code: string, readonly why: string, readonly howToFix: string) {
    super(`${code}: ${why}`);
    this.name = 'SyncFailure';
  }
}

export interface RecordOnSide {
  system: SystemName;
  objectType: string;
  recordId: string;
}

/** Stores one fixable problem on the source record (repeats count up instead of piling up rows). */
export async function reportProblem(store: Store, tenantId: string, rec: RecordOnSide, code: string, what: string, why: string, howToFix: string): Promise<void> {
  await store.errors.record(tenantId, { ...rec, code, what, why, howToFix });
}

/** Field-level problems from the mapping rules, as sync errors on the source record: the rest of the record still syncs. */
export function mappingProblems(rec: RecordOnSide, target: string, problems: { errors: RuleError[]; unmatched: Unmatched[] }): SyncErrorInput[] {
  const out: SyncErrorInput[] = problems.errors.map((e) => {
    // The rules phrase messages as "<why>; <how to fix>".
    const [why, ...fix] = e.message.split('; ');
    return { ...rec, code: `field_${e.code}:${e.field}`, what: `Field ${e.field} was not written to ${target}`, why, howToFix: fix.join('; ') || 'Correct the value or the field mapping.' };
  });
  if (problems.unmatched.length > 0) {
    out.push({
      ...rec, code: 'dropdown_unmatched',
      what: `Dropdown values without a matching option in ${target} were not sent`,
      why: `Unmatched: ${JSON.stringify(problems.unmatched)}`,
      howToFix: `Add an option whose label equals the value (or the HubSpot label) in ${target}, or change the value; the next change resends it.`,
    });
  }
  return out;
}
