import type { StoredRecord, StoredValue } from './contracts.ts';
import { odataError } from './errors.ts';
import { lookupProperty, type ExpandPlan } from './format.ts';
import { parseExpand, parseFilter, parseOrderBy, splitTopLevel, type FilterNode, type Literal, type Operand } from './odata.ts';
import type { Schema } from './schema.ts';
import { isReference } from './store.ts';
import { isLookupKind, type AttributeDef, type TableDef } from './tables.ts';
import { findNavigation } from './write.ts';

/**
 * Compiles the query options of a collection request against a table's schema: unknown columns are
 * rejected up front (like Dataverse), then the filter runs as a plain predicate over in-memory rows.
 */

export interface CollectionQuery {
  select: string[] | null;
  filter: ((row: StoredRecord) => boolean) | null;
  orderBy: Array<{ attr: AttributeDef; desc: boolean }>;
  top: number | null;
  count: boolean;
  expand: ExpandPlan[];
  skipToken: { page: number } | null;
  raw: Map<string, string>;
}

const SUPPORTED = new Set(['$select', '$filter', '$orderby', '$top', '$count', '$expand', '$skiptoken', '$deltatoken', '$format']);

const noProperty = (def: TableDef, name: string) =>
  odataError(`Could not find a property named '${name}' on type 'Microsoft.Dynamics.CRM.${def.logicalName}'.`);

/** Resolves a column name as used in $select/$filter/$orderby: `name`, or `_x_value` for lookups. */
export function resolveColumn(schema: Schema, def: TableDef, name: string, allowLookupName = false): AttributeDef {
  const m = /^_(.+)_value$/.exec(name);
  if (m) {
    const attr = schema.attribute(def.logicalName, m[1]);
    if (attr && isLookupKind(attr.kind)) return attr;
    throw noProperty(def, name);
  }
  const attr = schema.attribute(def.logicalName, name);
  if (!attr || attr.writeOnly) throw noProperty(def, name);
  if (isLookupKind(attr.kind) && !allowLookupName) throw noProperty(def, name);
  return attr;
}

export function parseSelect(schema: Schema, def: TableDef, text: string | undefined): string[] | null {
  if (text === undefined || text.trim() === '' || text.trim() === '*') return null;
  // $select accepts lookup logical names too; the response still uses `_x_value`.
  return splitTopLevel(text, ',').map((name) => resolveColumn(schema, def, name, true).logicalName);
}

export function parseExpandPlans(schema: Schema, def: TableDef, text: string | undefined): ExpandPlan[] {
  if (!text) return [];
  return parseExpand(text).map((item) => {
    const nav = findNavigation(def, item.navigation) ?? findReadOnlyNavigation(def, item.navigation);
    if (!nav) throw noProperty(def, item.navigation);
    const target = nav.target ?? nav.attr.targets![0];
    const targetDef = schema.table(target);
    if (!targetDef) throw noProperty(def, item.navigation);
    for (const key of Object.keys(item.options)) {
      if (key !== '$select') throw odataError(`The query option '${key}' is not supported inside $expand of a single-valued navigation property.`);
    }
    return { navigation: item.navigation, attribute: nav.attr, target, select: parseSelect(schema, targetDef, item.options.$select) };
  });
}

function findReadOnlyNavigation(def: TableDef, nav: string): { attr: AttributeDef; target?: string } | undefined {
  const attr = def.attributes.find((a) => isLookupKind(a.kind) && !a.polymorphic && a.logicalName === nav);
  return attr ? { attr, target: attr.targets![0] } : undefined;
}

export function parseCollectionQuery(schema: Schema, def: TableDef, params: Map<string, string>): CollectionQuery {
  for (const key of params.keys()) {
    if (key.startsWith('$') && !SUPPORTED.has(key)) throw odataError(`The query parameter ${key} is not supported`);
  }
  const top = params.get('$top');
  if (top !== undefined && !/^\d+$/.test(top)) throw odataError(`Invalid value '${top}' for $top query option found. The $top query option requires a non-negative integer value.`);
  const countRaw = params.get('$count');
  if (countRaw !== undefined && countRaw !== 'true' && countRaw !== 'false') throw odataError(`'${countRaw}' is not a valid count option.`);
  const filterText = params.get('$filter');
  const orderText = params.get('$orderby');
  const skip = params.get('$skiptoken');
  let skipToken: { page: number } | null = null;
  if (skip !== undefined) {
    const m = /pagenumber="(\d+)"/.exec(skip);
    if (!m) throw odataError(`The $skiptoken '${skip}' is not valid.`);
    skipToken = { page: Number(m[1]) };
  }
  return {
    select: parseSelect(schema, def, params.get('$select')),
    filter: filterText !== undefined ? compileFilter(schema, def, parseFilter(filterText)) : null,
    orderBy: orderText ? parseOrderBy(orderText).map((o) => ({ attr: resolveColumn(schema, def, o.property, false), desc: o.desc })) : [],
    top: top !== undefined ? Number(top) : null,
    count: countRaw === 'true',
    expand: parseExpandPlans(schema, def, params.get('$expand')),
    skipToken,
    raw: params,
  };
}

type Comparable = string | number | boolean | null | number[];

function valueOf(attr: AttributeDef, v: StoredValue | undefined): Comparable {
  if (v === undefined || v === null) return null;
  if (isReference(v)) return v.id;
  if (attr.kind === 'DateTime' && typeof v === 'string') return Date.parse(v.length === 10 ? `${v}T00:00:00Z` : v);
  if (typeof v === 'string') return v.toLowerCase();
  return v as Comparable;
}

const EDM: Record<string, string> = {
  string: 'Edm.String', number: 'Edm.Int32', boolean: 'Edm.Boolean', guid: 'Edm.Guid', datetime: 'Edm.DateTimeOffset', null: 'null',
};

function literalFor(def: TableDef, attr: AttributeDef, lit: Literal, op: string): Comparable {
  if (lit.type === 'null') return null;
  const mismatch = () =>
    odataError(`A binary operator with incompatible types was detected. Found operand types '${edmOf(attr)}' and '${EDM[lit.type] ?? lit.type}' for operator kind '${op}'.`);
  switch (attr.kind) {
    case 'String': case 'Memo':
      if (lit.type !== 'string') throw mismatch();
      return lit.value.toLowerCase();
    case 'Integer': case 'BigInt': case 'Decimal': case 'Double': case 'Money': case 'Picklist': case 'State': case 'Status':
      if (lit.type !== 'number') throw mismatch();
      return lit.value;
    case 'Boolean':
      if (lit.type !== 'boolean') throw mismatch();
      return lit.value;
    case 'DateTime':
      if (lit.type !== 'datetime') throw mismatch();
      return Date.parse(lit.dateOnly ? `${lit.value}T00:00:00Z` : lit.value);
    case 'Uniqueidentifier': case 'Lookup': case 'Customer': case 'Owner':
      if (lit.type !== 'guid') throw mismatch();
      return lit.value;
    case 'MultiSelectPicklist':
      throw odataError(`Use Microsoft.Dynamics.CRM.ContainValues to filter the multi-select column '${attr.logicalName}' of ${def.logicalName}.`);
    default:
      throw mismatch();
  }
}

function edmOf(attr: AttributeDef): string {
  switch (attr.kind) {
    case 'String': case 'Memo': return 'Edm.String';
    case 'Integer': case 'Picklist': case 'State': case 'Status': return 'Edm.Int32';
    case 'BigInt': return 'Edm.Int64';
    case 'Decimal': case 'Money': return 'Edm.Decimal';
    case 'Double': return 'Edm.Double';
    case 'Boolean': return 'Edm.Boolean';
    case 'DateTime': return 'Edm.DateTimeOffset';
    default: return 'Edm.Guid';
  }
}

function compare(a: Comparable, b: Comparable, op: string): boolean {
  if (op === 'eq') return a === b;
  if (op === 'ne') return a !== b;
  if (a === null || b === null) return false;
  switch (op) {
    case 'gt': return a > b;
    case 'ge': return a >= b;
    case 'lt': return a < b;
    default: return a <= b;
  }
}

export function compileFilter(schema: Schema, def: TableDef, node: FilterNode): (row: StoredRecord) => boolean {
  switch (node.type) {
    case 'and': {
      const l = compileFilter(schema, def, node.left);
      const r = compileFilter(schema, def, node.right);
      return (row) => l(row) && r(row);
    }
    case 'or': {
      const l = compileFilter(schema, def, node.left);
      const r = compileFilter(schema, def, node.right);
      return (row) => l(row) || r(row);
    }
    case 'not': {
      const inner = compileFilter(schema, def, node.operand);
      return (row) => !inner(row);
    }
    case 'bool': {
      const attr = resolveColumn(schema, def, node.property);
      if (attr.kind !== 'Boolean') throw odataError(`The $filter expression must evaluate to a single boolean value ('${node.property}').`);
      return (row) => row[attr.logicalName] === true;
    }
    case 'func': {
      const attr = resolveColumn(schema, def, node.property);
      if (attr.kind !== 'String' && attr.kind !== 'Memo') {
        throw odataError(`No function signature for the function with name '${node.name}' matches the specified arguments ('${node.property}' is ${edmOf(attr)}).`);
      }
      const needle = (node.value as { value: string }).value.toLowerCase();
      const test =
        node.name === 'contains' ? (s: string) => s.includes(needle)
        : node.name === 'startswith' ? (s: string) => s.startsWith(needle)
        : (s: string) => s.endsWith(needle);
      return (row) => {
        const v = row[attr.logicalName];
        return typeof v === 'string' && test(v.toLowerCase());
      };
    }
    case 'crmfunc':
      return compileCrmFunction(schema, def, node);
    case 'compare': {
      const opName = { eq: 'Equal', ne: 'NotEqual', gt: 'GreaterThan', ge: 'GreaterThanOrEqual', lt: 'LessThan', le: 'LessThanOrEqual' }[node.op];
      const side = (o: Operand, other: Operand): ((row: StoredRecord) => Comparable) => {
        if (o.type === 'property') {
          const attr = resolveColumn(schema, def, o.name);
          if (attr.kind === 'MultiSelectPicklist') literalFor(def, attr, { type: 'number', value: 0, raw: '0' }, opName);
          return (row) => valueOf(attr, row[attr.logicalName]);
        }
        if (other.type === 'property') {
          const value = literalFor(def, resolveColumn(schema, def, other.name), o.value, opName);
          return () => value;
        }
        const lit = o.value;
        const value = lit.type === 'null' || lit.type === 'list' ? null : typeof lit.value === 'string' ? lit.value.toLowerCase() : lit.value;
        return () => value;
      };
      const left = side(node.left, node.right);
      const right = side(node.right, node.left);
      const op = node.op;
      return (row) => compare(left(row), right(row), op);
    }
  }
}

function compileCrmFunction(schema: Schema, def: TableDef, node: Extract<FilterNode, { type: 'crmfunc' }>): (row: StoredRecord) => boolean {
  const attr = resolveColumn(schema, def, node.property);
  switch (node.name) {
    case 'Null': return (row) => row[attr.logicalName] === null || row[attr.logicalName] === undefined;
    case 'NotNull': return (row) => row[attr.logicalName] !== null && row[attr.logicalName] !== undefined;
    case 'In': case 'NotIn': {
      const values = new Set(node.values.map((v) => literalFor(def, attr, coerce(attr, v), 'In')));
      const negate = node.name === 'NotIn';
      return (row) => values.has(valueOf(attr, row[attr.logicalName]) as string | number) !== negate;
    }
    case 'ContainValues': case 'DoesNotContainValues': {
      if (attr.kind !== 'MultiSelectPicklist') throw odataError(`${node.name} can only be used with multi-select choice columns.`);
      const values = node.values.map((v) => Number('value' in v ? v.value : NaN));
      const negate = node.name === 'DoesNotContainValues';
      return (row) => {
        const v = row[attr.logicalName];
        const has = Array.isArray(v) && values.some((x) => v.includes(x));
        return has !== negate;
      };
    }
    default:
      throw odataError(`The function Microsoft.Dynamics.CRM.${node.name} is not supported by this sandbox.`);
  }
}

/** CRM query functions take every value as a string literal ('1'); convert to the column's type. */
function coerce(attr: AttributeDef, lit: Literal): Literal {
  if (lit.type !== 'string') return lit;
  switch (attr.kind) {
    case 'Integer': case 'BigInt': case 'Decimal': case 'Double': case 'Money': case 'Picklist': case 'State': case 'Status':
      return { type: 'number', value: Number(lit.value), raw: lit.value };
    case 'Uniqueidentifier': case 'Lookup': case 'Customer': case 'Owner':
      return { type: 'guid', value: lit.value.toLowerCase() };
    case 'Boolean':
      return { type: 'boolean', value: lit.value === 'true' || lit.value === '1' };
    case 'DateTime':
      return { type: 'datetime', value: lit.value, dateOnly: lit.value.length === 10 };
    default:
      return lit;
  }
}

/** Sorts in place: the requested order, then the primary key so pages are stable. */
export function sortRows(def: TableDef, rows: StoredRecord[], orderBy: CollectionQuery['orderBy']): StoredRecord[] {
  if (orderBy.length === 0) return rows;
  return rows.sort((a, b) => {
    for (const { attr, desc } of orderBy) {
      const x = valueOf(attr, a[attr.logicalName]);
      const y = valueOf(attr, b[attr.logicalName]);
      if (x === y) continue;
      // Nulls sort first ascending, as in SQL Server.
      const c = x === null ? -1 : y === null ? 1 : x < y ? -1 : 1;
      return desc ? -c : c;
    }
    return 0;
  });
}

export { lookupProperty };
