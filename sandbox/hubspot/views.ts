import { HubSpotError, validationError } from './errors.ts';
import { HUBSPOT_DEFINED } from './association-types.ts';
import { DEFAULT_READ_PROPERTIES } from './defaults.ts';
import type { Portal } from './store.ts';
import { objectTypeOf, SINGULAR, type CrmRecord, type ObjectType } from './types.ts';

/** Request helpers and the JSON views of records, shared by objects, batch and search. */

/** Query values arrive as `a,b`, as repeated keys, or both. */
export function listParam(value: unknown): string[] {
  if (value === undefined || value === null || value === '') return [];
  const parts = Array.isArray(value) ? value : [value];
  return parts.flatMap((p) => String(p).split(',')).map((s) => s.trim()).filter(Boolean);
}

export function objectTypeParam(name: string): ObjectType {
  const type = objectTypeOf(name);
  if (!type) throw new HubSpotError(400, 'VALIDATION_ERROR', `Unable to infer object type from: ${name}`);
  return type;
}

export function intParam(value: unknown, name: string, fallback: number, max?: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw validationError(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return max === undefined ? n : Math.min(n, max);
}

export interface RecordJson {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
  associations?: Record<string, { results: Array<{ id: string; type: string }> }>;
}

/**
 * A record as HubSpot returns it: `names` null = all set values (create/update answers), otherwise those names,
 * null where unset (reads and search). Unknown requested names are ignored, as HubSpot does.
 */
export function recordJson(portal: Portal, type: ObjectType, record: CrmRecord, names: string[] | null): RecordJson {
  const properties: Record<string, string | null> = {};
  if (names === null) {
    for (const [k, v] of record.properties) properties[k] = v;
  } else {
    for (const name of names.length ? names : DEFAULT_READ_PROPERTIES[type]) {
      if (portal.property(type, name)) properties[name] = record.properties.get(name) ?? null;
    }
  }
  const json: RecordJson = {
    id: record.id,
    properties,
    createdAt: new Date(record.createdAt).toISOString(),
    updatedAt: new Date(record.updatedAt).toISOString(),
    archived: record.archived,
  };
  if (record.archivedAt) json.archivedAt = new Date(record.archivedAt).toISOString();
  return json;
}

/** The v3 `?associations=companies` block: one entry per association type, keys only for non-empty lists. */
export function withAssociations(portal: Portal, type: ObjectType, json: RecordJson, toTypes: string[]): RecordJson {
  for (const name of toTypes) {
    const toType = objectTypeOf(name);
    if (!toType) continue;
    const results: Array<{ id: string; type: string }> = [];
    for (const [toId, typeIds] of portal.associations.list(type, json.id, toType)) {
      for (const typeId of typeIds) {
        results.push({ id: toId, type: HUBSPOT_DEFINED.get(typeId)?.v3Name ?? `${SINGULAR[type]}_to_${SINGULAR[toType]}` });
      }
    }
    if (results.length) (json.associations ??= {})[toType] = { results };
  }
  return json;
}
