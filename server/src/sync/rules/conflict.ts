import type { Direction, Way } from './types.ts';

/**
 * Per-field conflict rule (DESIGN §2): a one-way field flows only its way; a two-way field takes the newest
 * change. "Newest" is only asked when both sides really changed: if the target still holds what we last wrote
 * there (its hash equals the shadow), the source change is the only change and wins whatever the clocks say,
 * so our own later write to another field of the target record cannot block it.
 */

export type Instant = number | string | Date | null | undefined;

export interface FieldConflictInput {
  field: string;
  direction: Direction;
  way: Way;
  /** When the source value changed (per property if known, else the record's modification time). */
  sourceModifiedAt?: Instant;
  /** When the target value changed (same). */
  targetModifiedAt?: Instant;
  /** True when the target's current value hashes to our shadow: nobody but us changed it since. */
  targetUnchangedSinceOurWrite?: boolean;
}

export interface ConflictDecision {
  field: string;
  apply: boolean;
  reason: string;
}

const WAY_TEXT: Record<Way, string> = { toDynamics: 'HubSpot → Dynamics', toHubSpot: 'Dynamics → HubSpot' };

function ms(t: Instant): number | null {
  if (t === null || t === undefined || t === '') return null;
  if (t instanceof Date) return Number.isNaN(t.getTime()) ? null : t.getTime();
  if (typeof t === 'number') return Number.isFinite(t) ? t : null;
  const n = /^\d+$/.test(t) ? Number(t) : Date.parse(t);
  return Number.isNaN(n) ? null : n;
}
const iso = (n: number) => new Date(n).toISOString();

export function decideField(input: FieldConflictInput): ConflictDecision {
  const { field, direction, way } = input;
  if (direction !== 'both' && direction !== way) {
    return { field, apply: false, reason: `${field} syncs ${WAY_TEXT[direction]} only` };
  }
  if (direction !== 'both') return { field, apply: true, reason: `${field} syncs ${WAY_TEXT[way]} only` };
  if (input.targetUnchangedSinceOurWrite) {
    return { field, apply: true, reason: `${field}: only the source changed since our last write` };
  }
  const s = ms(input.sourceModifiedAt);
  const t = ms(input.targetModifiedAt);
  if (t === null) return { field, apply: true, reason: `${field}: target change time unknown, source wins` };
  if (s === null) return { field, apply: true, reason: `${field}: source change time unknown, source wins (the event is the newest news)` };
  // Ties go to the source: the event being processed is the one that happened.
  if (s >= t) return { field, apply: true, reason: `${field}: source changed at ${iso(s)}, not before the target (${iso(t)}); newest wins` };
  return { field, apply: false, reason: `${field}: target changed at ${iso(t)}, after the source (${iso(s)}); newest wins, target kept` };
}

/** Applies decideField to every field and returns the fields to write plus every decision for the log. */
export function resolveConflicts(
  fields: Record<string, unknown>,
  describe: (field: string) => Omit<FieldConflictInput, 'field'>,
): { fields: Record<string, unknown>; decisions: ConflictDecision[] } {
  const kept: Record<string, unknown> = {};
  const decisions: ConflictDecision[] = [];
  for (const [k, v] of Object.entries(fields)) {
    const d = decideField({ field: k, ...describe(k) });
    decisions.push(d);
    if (d.apply) kept[k] = v;
  }
  return { fields: kept, decisions };
}
