import { DYNAMICS_LOOKUP_RULES } from './associations.ts';
import { defaultMappings, type PairId } from './pairs.ts';

/**
 * Dynamics columns whose change must reach HubSpot, for the Update steps' filtering attributes: the
 * Dynamics → HubSpot side of the default field table (owner included), the lookups behind associations, and
 * the state (qualifying a lead or closing a record is a state change). Our own bookkeeping columns are never
 * among them: the server writes those, and an event for them could only be an echo. A column a tenant maps
 * later and missing here still syncs, through the change-tracking poll.
 */
export function watchedColumns(entity: Exclude<PairId, 'systemuser'>): string[] {
  const columns = new Set(['statecode']);
  for (const row of defaultMappings(entity)) {
    if (row.direction !== 'toDynamics' && (row.kind === 'field' || row.kind === 'owner')) columns.add(row.dynamics);
  }
  for (const rule of DYNAMICS_LOOKUP_RULES) if (rule.entity === entity) columns.add(rule.column);
  return [...columns].sort();
}
