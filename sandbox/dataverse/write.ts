import type { StoredRecord, StoredValue } from './contracts.ts';
import { Codes, DataverseError, payloadError } from './errors.ts';
import { isGuid, parseBindTarget } from './paths.ts';
import type { Schema } from './schema.ts';
import { nowIso, reference, type Store } from './store.ts';
import { isChoiceKind, isLookupKind, navigationName, type AttributeDef, type TableDef } from './tables.ts';

/**
 * Request JSON → typed column values. Rejects what Dataverse rejects: unknown or read-only columns,
 * wrong JSON types, strings over their maximum length, choice values outside the option set,
 * `@odata.bind` to missing records or to a navigation property the table does not have.
 */

export function parseJsonBody(text: string, entitySet: string): Record<string, unknown> {
  if (!text.trim()) throw payloadError(entitySet, 'The request body is empty; an entity payload was expected.');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw payloadError(entitySet, `Invalid JSON. ${(err as Error).message}`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw payloadError(entitySet, `An unexpected '${Array.isArray(body) ? 'StartArray' : 'PrimitiveValue'}' node was found when reading from the JSON reader. A 'StartObject' node was expected.`);
  }
  return body as Record<string, unknown>;
}

export function toStoredValues(
  schema: Schema, store: Store, def: TableDef, body: Record<string, unknown>, mode: 'create' | 'update',
): StoredRecord {
  const out: StoredRecord = {};
  for (const [prop, value] of Object.entries(body)) {
    if (prop.startsWith('@')) continue;
    const at = prop.indexOf('@');
    if (at > 0) {
      const annotation = prop.slice(at + 1);
      if (annotation !== 'odata.bind') continue; // other instance annotations are ignored by the service
      const nav = prop.slice(0, at);
      bind(schema, store, def, nav, value, out);
      continue;
    }
    const attr = schema.attribute(def.logicalName, prop);
    if (!attr) {
      throw new DataverseError(400, Codes.OData, `Invalid property '${prop}' was found in entity 'Microsoft.Dynamics.CRM.${def.logicalName}'.`);
    }
    if (attr.readOnly && !(mode === 'create' && attr.logicalName === def.primaryIdAttribute)) {
      // Dataverse silently ignores values for columns that are not valid for create/update.
      continue;
    }
    if (isLookupKind(attr.kind)) {
      throw payloadError(def.entitySetName, `A 'PrimitiveValue' node with non-null value was found when trying to read the value of the navigation property '${prop}'; however, a 'StartArray' node, a 'StartObject' node, or a 'PrimitiveValue' node with null value was expected. Use '${prop}@odata.bind' to set a lookup.`);
    }
    out[attr.logicalName] = convert(def, attr, value);
  }
  return out;
}

function bind(schema: Schema, store: Store, def: TableDef, nav: string, value: unknown, out: StoredRecord): void {
  const found = findNavigation(def, nav);
  if (!found) {
    throw new DataverseError(400, Codes.OData, `An undeclared property '${nav}' which only has property annotations in the payload but no property value was found in the payload. In OData, only declared navigation properties and declared named streams can be represented as properties without values.`);
  }
  if (value === null) {
    out[found.attr.logicalName] = null;
    return;
  }
  if (typeof value !== 'string') throw payloadError(def.entitySetName, `The value of '${nav}@odata.bind' must be a string URL.`);
  const target = parseBindTarget(schema, store, value);
  if (found.target && target.table.logicalName !== found.target) {
    throw payloadError(def.entitySetName, `The navigation property '${nav}' expects an entity of type 'Microsoft.Dynamics.CRM.${found.target}' but '${value}' refers to '${target.table.logicalName}'.`);
  }
  if (!found.target && !found.attr.targets!.includes(target.table.logicalName)) {
    throw payloadError(def.entitySetName, `'${target.table.logicalName}' is not a valid target of '${nav}'.`);
  }
  out[found.attr.logicalName] = reference(target.table.logicalName, target.id);
}

/** A single-valued navigation property: `parentaccountid`, `parentcustomerid_account`, `ownerid`. */
export function findNavigation(def: TableDef, nav: string): { attr: AttributeDef; target?: string } | undefined {
  for (const attr of def.attributes) {
    if (!isLookupKind(attr.kind) || attr.readOnly && attr.logicalName !== 'createdby' && attr.logicalName !== 'modifiedby') continue;
    if (!attr.polymorphic && attr.logicalName === nav) return { attr, target: attr.targets!.length === 1 ? attr.targets![0] : undefined };
    for (const t of attr.targets ?? []) if (attr.polymorphic && navigationName(attr, t) === nav) return { attr, target: t };
  }
  return undefined;
}

const EDM: Partial<Record<AttributeDef['kind'], string>> = {
  String: 'Edm.String', Memo: 'Edm.String', Integer: 'Edm.Int32', BigInt: 'Edm.Int64', Decimal: 'Edm.Decimal', Double: 'Edm.Double',
  Money: 'Edm.Decimal', Boolean: 'Edm.Boolean', DateTime: 'Edm.DateTimeOffset', Picklist: 'Edm.Int32', State: 'Edm.Int32',
  Status: 'Edm.Int32', MultiSelectPicklist: 'Edm.String', Uniqueidentifier: 'Edm.Guid',
};

export function convert(def: TableDef, attr: AttributeDef, value: unknown): StoredValue {
  if (value === null) {
    if (attr.kind === 'State' || attr.kind === 'Status') throw invalidValue(def, attr, value);
    return null;
  }
  const wrongType = () =>
    payloadError(def.entitySetName, `Cannot convert the literal '${typeof value === 'object' ? JSON.stringify(value) : String(value)}' to the expected type '${EDM[attr.kind] ?? 'Edm.String'}'.`);
  switch (attr.kind) {
    case 'String': case 'Memo': {
      if (typeof value !== 'string') throw wrongType();
      if (attr.maxLength !== undefined && value.length > attr.maxLength) {
        throw new DataverseError(400, '0x80044331', `A validation error occurred. The length of the '${attr.logicalName}' attribute of the '${def.logicalName}' entity exceeded the maximum allowed length of '${attr.maxLength}'.`);
      }
      return value;
    }
    case 'Integer': case 'BigInt': {
      if (typeof value !== 'number' || !Number.isInteger(value)) throw wrongType();
      checkRange(def, attr, value);
      return value;
    }
    case 'Decimal': case 'Double': case 'Money': {
      if (typeof value !== 'number' || !Number.isFinite(value)) throw wrongType();
      checkRange(def, attr, value);
      return value;
    }
    case 'Boolean':
      if (typeof value !== 'boolean') throw wrongType();
      return value;
    case 'DateTime': {
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw wrongType();
      if (attr.dateOnly) return /^\d{4}-\d{2}-\d{2}$/.test(value) ? value : new Date(value).toISOString().slice(0, 10);
      return nowIso(new Date(value));
    }
    case 'Uniqueidentifier':
      if (typeof value !== 'string' || !isGuid(value)) throw wrongType();
      return value.replace(/[{}]/g, '').toLowerCase();
    case 'Picklist': case 'State': case 'Status': {
      if (typeof value !== 'number' || !Number.isInteger(value)) throw wrongType();
      if (!attr.options?.some((o) => o.value === value)) throw invalidValue(def, attr, value);
      return value;
    }
    case 'MultiSelectPicklist': {
      // The Web API reads and writes multi-select choices as a comma-separated string of values.
      if (typeof value !== 'string') throw wrongType();
      if (value.trim() === '') return null;
      const values = value.split(',').map((v) => Number(v.trim()));
      for (const v of values) if (!Number.isInteger(v) || !attr.options?.some((o) => o.value === v)) throw invalidValue(def, attr, v);
      return [...new Set(values)];
    }
    default:
      throw wrongType();
  }
}

function checkRange(def: TableDef, attr: AttributeDef, value: number): void {
  if ((attr.minValue !== undefined && value < attr.minValue) || (attr.maxValue !== undefined && value > attr.maxValue)) {
    throw new DataverseError(400, '0x80044331', `A validation error occurred. The value ${value} of '${attr.logicalName}' on record of type '${def.logicalName}' is outside the valid range. Accepted Values: ${attr.minValue} to ${attr.maxValue}.`);
  }
}

function invalidValue(def: TableDef, attr: AttributeDef, value: unknown): DataverseError {
  const accepted = attr.options?.map((o) => o.value).join(',') ?? '';
  return new DataverseError(400, '0x8004431a', `A validation error occurred. The value ${String(value)} of '${attr.logicalName}' on record of type '${def.logicalName}' is outside the valid range. Accepted Values: ${accepted}`);
}

export { isChoiceKind };
