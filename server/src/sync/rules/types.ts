/**
 * Shared vocabulary of the pure sync rules. Nothing here does I/O: callers (the worker) read metadata and
 * records through the connectors and hand plain data to these functions, so every rule is unit-testable.
 */

/** Which way a value travels. */
export type Way = 'toDynamics' | 'toHubSpot';
/** Per-field direction of a mapping row. */
export type Direction = 'both' | Way;

/** HubSpot property `type` values (reference/hubspot.md §3.3). */
export type HubSpotType = 'string' | 'number' | 'date' | 'datetime' | 'enumeration' | 'bool' | 'phone_number';

/** Dataverse `AttributeType` values the rules know (reference/dataverse.md §4.7). */
export type DynamicsType =
  | 'String' | 'Memo' | 'Integer' | 'BigInt' | 'Decimal' | 'Double' | 'Money' | 'Boolean' | 'DateTime'
  | 'Lookup' | 'Customer' | 'Owner' | 'Picklist' | 'MultiSelectPicklist' | 'State' | 'Status' | 'Uniqueidentifier';

export interface HubSpotOption {
  label: string;
  value: string;
  hidden?: boolean;
}

export interface DynamicsOption {
  value: number;
  label: string;
  /** Status options: the statecode this status belongs to (written together with statuscode). */
  state?: number;
}

/** What the rules need from HubSpot property metadata (the cached `GET /crm/v3/properties/{object}`). */
export interface HubSpotPropertyMeta {
  name: string;
  type: HubSpotType;
  /** `checkbox` on an enumeration means multi-select (`;`-separated values). */
  fieldType?: string;
  options?: HubSpotOption[];
}

/** What the rules need from Dataverse attribute metadata (EntityDefinitions/Attributes + option sets). */
export interface DynamicsAttributeMeta {
  logicalName: string;
  type: DynamicsType;
  /** DateTime columns with the DateOnly format are read and written as `YYYY-MM-DD`. */
  dateOnly?: boolean;
  maxLength?: number;
  minValue?: number;
  maxValue?: number;
  /** Choice / Status / State / MultiSelect options; Boolean columns list 0 (false) and 1 (true). */
  options?: DynamicsOption[];
  /** Lookup targets (logical names). */
  targets?: string[];
}

/** A dropdown value with no counterpart on the Dynamics side; shape fixed by the seed document. */
export interface Unmatched {
  property_name: string;
  value: string;
}

/** A user-fixable problem: what, why and how to fix, naming the field. */
export interface RuleError {
  field: string;
  code: string;
  message: string;
}

export const isBlank = (v: unknown): boolean =>
  v === null || v === undefined || (typeof v === 'string' && v.trim() === '') || (Array.isArray(v) && v.length === 0);
