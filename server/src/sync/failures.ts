import type { Store } from '../store/index.ts';
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

/** Field-level problems from the mapping rules: the rest of the record still syncs. */
export async function reportMappingProblems(
  store: Store,
  tenantId: string,
  rec: RecordOnSide,
  target: string,
  problems: { errors: RuleError[]; unmatched: Unmatched[] },
): Promise<void> {
  for (const e of problems.errors) {
    // The rules phrase messages as "<why>; <how to fix>".
    const [why, ...fix] = e.message.split('; ');
    await reportProblem(store, tenantId, rec, `field_${e.code}:${e.field}`, `Field ${e.field} was not written to ${target}`, why, fix.join('; ') || 'Correct the value or the field mapping.');
  }
  if (problems.unmatched.length > 0) {
    await reportProblem(
      store, tenantId, rec, 'dropdown_unmatched',
      `Dropdown values without a matching option in ${target} were not sent`,
      `Unmatched: ${JSON.stringify(problems.unmatched)}`,
      `Add an option whose label equals the value (or the HubSpot label) in ${target}, or change the value; the next change resends it.`,
    );
  }
}
