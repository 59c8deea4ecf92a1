import type { PairId } from './pairs.ts';
import type { Way } from './types.ts';

/**
 * Whether a record may be written at all, before any mapping: the tenant's main switch and, in UAT mode, the
 * test markers of the seed (contacts whose email contains "ss.test", companies and deals whose name contains
 * "SyncSmart", either direction; markers configurable, case-insensitive).
 */

export interface UatMarkers {
  contactEmail: string;
  companyName: string;
  dealName: string;
}

export const DEFAULT_UAT_MARKERS: UatMarkers = { contactEmail: 'ss.test', companyName: 'SyncSmart', dealName: 'SyncSmart' };

export interface GateSettings {
  mainSwitch: boolean;
  mode: 'uat' | 'production';
  markers?: Partial<UatMarkers>;
}

/**
 * `sync`: go on. `hold`: keep the event and write nothing (main switch off: replayable later).
 * `skip`: this record is out of scope (UAT marker missing); nothing to keep.
 */
export type GateDecision = { action: 'sync' } | { action: 'hold'; reason: string } | { action: 'skip'; reason: string };

/** The column/property carrying the UAT marker, per pair and source side. */
export const UAT_FIELDS: Record<Exclude<PairId, 'systemuser'>, { marker: keyof UatMarkers; dynamics: string; hubspot: string }> = {
  lead: { marker: 'contactEmail', dynamics: 'emailaddress1', hubspot: 'email' },
  contact: { marker: 'contactEmail', dynamics: 'emailaddress1', hubspot: 'email' },
  account: { marker: 'companyName', dynamics: 'name', hubspot: 'name' },
  opportunity: { marker: 'dealName', dynamics: 'name', hubspot: 'dealname' },
};

/**
 * `record` is the source record of this direction: HubSpot properties when syncing toDynamics, Dataverse
 * attributes when syncing toHubSpot.
 */
export function gate(settings: GateSettings, pair: PairId, way: Way, record: Record<string, unknown>): GateDecision {
  if (!settings.mainSwitch) return { action: 'hold', reason: 'the main switch is off: the change is kept and written when it is turned on' };
  if (settings.mode !== 'uat') return { action: 'sync' };
  // Users/owners are looked up, never written, so UAT does not restrict them.
  if (pair === 'systemuser') return { action: 'sync' };
  const spec = UAT_FIELDS[pair];
  const marker = (settings.markers?.[spec.marker] ?? DEFAULT_UAT_MARKERS[spec.marker]).trim();
  const field = way === 'toDynamics' ? spec.hubspot : spec.dynamics;
  const value = record[field];
  const text = typeof value === 'string' ? value : '';
  if (marker !== '' && text.toLowerCase().includes(marker.toLowerCase())) return { action: 'sync' };
  const side = way === 'toDynamics' ? 'HubSpot property' : 'Dynamics column';
  return {
    action: 'skip',
    reason: `UAT mode: ${side} ${field} ${text ? `('${text}') ` : ''}does not contain '${marker}', so this ${pair} does not sync until the tenant is in production`,
  };
}
