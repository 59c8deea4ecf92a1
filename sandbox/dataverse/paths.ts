import type { StoredRecord } from './contracts.ts';
import { Codes, DataverseError, odataError } from './errors.ts';
import { tokenize, type Literal } from './odata.ts';
import type { Schema } from './schema.ts';
import { isReference, type Store } from './store.ts';
import type { KeyDef, TableDef } from './tables.ts';

/**
 * Resource paths below /api/data/v9.2/: `contacts`, `contacts(<guid>)`, `contacts(hds_hubspotid='1')`,
 * `contacts(<guid>)/<property or navigation>[/$ref]`, `leads(<guid>)/Microsoft.Dynamics.CRM.QualifyLead`.
 */

export const API_PREFIX = '/api/data/v9.2/';

export type RecordKey = { kind: 'id'; id: string } | { kind: 'alternate'; values: Record<string, Literal> };

export interface EntityPath {
  table: TableDef;
  key?: RecordKey;
  /** Property, navigation property or bound action after the key. */
  member?: string;
  ref?: boolean;
}

const GUID_RE = /^\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?$/;

export const isGuid = (s: string) => GUID_RE.test(s);

/** Splits `name(args)/rest` respecting quotes in the key. */
export function splitPath(path: string): string[] {
  const segments: string[] = [];
  let current = '';
  let quoted = false;
  for (const c of path) {
    if (c === "'") quoted = !quoted;
    if (c === '/' && !quoted) {
      segments.push(current);
      current = '';
    } else current += c;
  }
  segments.push(current);
  return segments.filter((s) => s.length > 0);
}

export function parseKey(text: string): RecordKey {
  const g = GUID_RE.exec(text.trim());
  if (g) return { kind: 'id', id: g[1].toLowerCase() };
  const tokens = tokenize(text);
  const values: Record<string, Literal> = {};
  let i = 0;
  while (tokens[i].kind !== 'eof') {
    const name = tokens[i];
    const eq = tokens[i + 1];
    const value = tokens[i + 2];
    if (name.kind !== 'word' || eq?.kind !== 'equals' || value?.kind !== 'literal') {
      throw odataError(`Bad Request - Error in query syntax. The key '(${text})' is not valid.`);
    }
    values[name.text] = value.value;
    i += 3;
    if (tokens[i].kind === 'comma') i++;
  }
  if (Object.keys(values).length === 0) throw odataError(`Bad Request - Error in query syntax. The key '(${text})' is not valid.`);
  return { kind: 'alternate', values };
}

export function parseEntityPath(schema: Schema, segments: string[]): EntityPath {
  const first = segments[0];
  const open = first.indexOf('(');
  const setName = decodeURIComponent(open < 0 ? first : first.slice(0, open));
  const table = schema.tableBySet(setName);
  if (!table) throw new DataverseError(404, Codes.OData, `Resource not found for the segment '${setName}'.`);
  const path: EntityPath = { table };
  if (open >= 0) {
    if (!first.endsWith(')')) throw odataError(`Bad Request - Error in query syntax.`);
    path.key = parseKey(decodeURIComponent(first.slice(open + 1, -1)));
  }
  if (segments.length > 1) {
    if (!path.key) throw new DataverseError(404, Codes.OData, `Resource not found for the segment '${segments[1]}'.`);
    path.member = decodeURIComponent(segments[1]);
    if (segments[2] === '$ref') path.ref = true;
    else if (segments.length > 2) throw new DataverseError(404, Codes.OData, `Resource not found for the segment '${segments[2]}'.`);
  }
  return path;
}

/** The column values of an alternate key, typed as the store keeps them. */
export function matchKey(table: TableDef, values: Record<string, Literal>): { key: KeyDef; record: StoredRecord } {
  const names = Object.keys(values).sort();
  const key = table.keys.find((k) => [...k.keyAttributes].sort().join(',') === names.join(','));
  if (!key) {
    throw odataError(`The key specified is not valid for entity ${table.logicalName}: no alternate key is defined with the attributes ${names.join(', ')}.`);
  }
  const record: StoredRecord = {};
  for (const [name, lit] of Object.entries(values)) {
    switch (lit.type) {
      case 'string': case 'guid': case 'datetime': record[name] = lit.value; break;
      case 'number': record[name] = lit.value; break;
      case 'boolean': record[name] = lit.value; break;
      default: throw odataError(`Invalid value for key attribute '${name}'.`);
    }
  }
  return { key, record };
}

/** Resolves a key to a record id, or undefined when no record has it. */
export function resolveKey(store: Store, table: TableDef, key: RecordKey): string | undefined {
  if (key.kind === 'id') return store.get(table.logicalName, key.id) ? key.id : undefined;
  const { key: keyDef, record } = matchKey(table, key.values);
  return store.findByKey(table.logicalName, keyDef, record);
}

export function describeKey(key: RecordKey): string {
  if (key.kind === 'id') return key.id;
  return Object.entries(key.values).map(([k, v]) => `${k}:${'value' in v ? v.value : 'null'}`).join(',');
}

/** `/accounts(<guid>)`, `accounts(<guid>)`, an absolute URL, or an alternate key reference. */
export function parseBindTarget(schema: Schema, store: Store, value: string): { table: TableDef; id: string } {
  let path = value.trim();
  const idx = path.indexOf(API_PREFIX);
  if (idx >= 0) path = path.slice(idx + API_PREFIX.length);
  path = path.replace(/^\//, '');
  const segments = splitPath(path);
  if (segments.length !== 1) throw new DataverseError(400, Codes.Payload, `The URL '${value}' in an @odata.bind annotation is not a valid entity reference.`);
  const parsed = parseEntityPath(schema, segments);
  if (!parsed.key) throw new DataverseError(400, Codes.Payload, `The URL '${value}' in an @odata.bind annotation is not a valid entity reference.`);
  const id = resolveKey(store, parsed.table, parsed.key);
  if (!id) {
    throw new DataverseError(404, Codes.NotFound, `Entity '${parsed.table.logicalName}' With Id = ${describeKey(parsed.key)} Does Not Exist`);
  }
  return { table: parsed.table, id };
}

export { isReference };
