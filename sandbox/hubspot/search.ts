import express from 'express';
import { auth } from './auth.ts';
import { validationError } from './errors.ts';
import { QUERY_PROPERTIES } from './defaults.ts';
import type { Portal } from './store.ts';
import type { CrmRecord, ObjectType, PropertyDefinition } from './types.ts';
import { parseInstant } from './values.ts';
import { objectTypeParam, recordJson } from './views.ts';

/**
 * CRM search: filterGroups (OR of ANDs), sorts, free-text `query`, offset paging. Search scans the records of
 * one type (as a search index would answer), everything else in the sandbox is keyed lookups.
 */

export const MAX_GROUPS = 5;
export const MAX_FILTERS_PER_GROUP = 6;
export const MAX_FILTERS = 18;
export const MAX_LIMIT = 200;
export const MAX_RESULTS = 10_000;

const OPERATORS = new Set([
  'EQ', 'NEQ', 'LT', 'LTE', 'GT', 'GTE', 'BETWEEN', 'IN', 'NOT_IN', 'HAS_PROPERTY', 'NOT_HAS_PROPERTY', 'CONTAINS_TOKEN',
  'NOT_CONTAINS_TOKEN',
]);

interface Filter {
  propertyName: string;
  operator: string;
  value?: unknown;
  highValue?: unknown;
  values?: unknown[];
}

interface Sort {
  propertyName: string;
  descending: boolean;
}

type Comparable = number | string;

/** Typed comparison key: numbers and dates compare numerically (dates as ms epoch or ISO), strings case-insensitively. */
function keyOf(def: PropertyDefinition | undefined, raw: string): Comparable | null {
  if (def && (def.type === 'number')) {
    const n = Number(raw);
    return Number.isFinite(n) ? n : null;
  }
  if (def && (def.type === 'date' || def.type === 'datetime')) return parseInstant(raw);
  return raw.toLowerCase();
}

const tokens = (s: string) => s.toLowerCase().split(/[^\p{L}\p{N}*]+/u).filter(Boolean);

/** CONTAINS_TOKEN: the value's words include the needle's words in order; `*` is a wildcard within a word. */
function containsToken(value: string, needle: string): boolean {
  const hay = tokens(value);
  const want = tokens(needle);
  if (!want.length) return false;
  const match = (word: string, pattern: string) =>
    pattern.includes('*') ? new RegExp(`^${pattern.split('*').map(escape).join('.*')}$`).test(word) : word === pattern;
  for (let i = 0; i + want.length <= hay.length; i++) {
    if (want.every((w, j) => match(hay[i + j], w))) return true;
  }
  return needle.includes('*') && match(value.toLowerCase(), needle.toLowerCase());
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function compile(portal: Portal, type: ObjectType, f: Filter): (r: CrmRecord) => boolean {
  const def = portal.property(type, f.propertyName);
  const op = f.operator;
  const key = (v: unknown): Comparable | null => keyOf(def, String(v));
  const needValue = () => {
    if (f.value === undefined || f.value === null) throw validationError(`Filter on ${f.propertyName} with operator ${op} requires a value`);
    return key(f.value);
  };
  const get = (r: CrmRecord) => r.properties.get(f.propertyName);
  const cmp = (r: CrmRecord, test: (a: Comparable, b: Comparable) => boolean, target: Comparable | null) => {
    const raw = get(r);
    if (raw === undefined || target === null) return false;
    const a = keyOf(def, raw);
    return a !== null && typeof a === typeof target && test(a, target);
  };
  const multi = def?.fieldType === 'checkbox';
  const equals = (r: CrmRecord, target: Comparable | null) => {
    const raw = get(r);
    if (raw === undefined || target === null) return false;
    if (multi) return raw.split(';').some((item) => keyOf(def, item) === target);
    return keyOf(def, raw) === target;
  };
  switch (op) {
    case 'EQ': { const t = needValue(); return (r) => equals(r, t); }
    case 'NEQ': { const t = needValue(); return (r) => !equals(r, t); }
    case 'LT': { const t = needValue(); return (r) => cmp(r, (a, b) => a < b, t); }
    case 'LTE': { const t = needValue(); return (r) => cmp(r, (a, b) => a <= b, t); }
    case 'GT': { const t = needValue(); return (r) => cmp(r, (a, b) => a > b, t); }
    case 'GTE': { const t = needValue(); return (r) => cmp(r, (a, b) => a >= b, t); }
    case 'BETWEEN': {
      const lo = needValue();
      if (f.highValue === undefined || f.highValue === null) throw validationError(`BETWEEN on ${f.propertyName} requires highValue`);
      const hi = key(f.highValue);
      return (r) => cmp(r, (a, b) => a >= b, lo) && cmp(r, (a, b) => a <= b, hi);
    }
    case 'IN':
    case 'NOT_IN': {
      if (!Array.isArray(f.values)) throw validationError(`${op} on ${f.propertyName} requires values`);
      const set = f.values.map(key);
      return op === 'IN' ? (r) => set.some((t) => equals(r, t)) : (r) => !set.some((t) => equals(r, t));
    }
    case 'HAS_PROPERTY': return (r) => get(r) !== undefined;
    case 'NOT_HAS_PROPERTY': return (r) => get(r) === undefined;
    case 'CONTAINS_TOKEN':
    case 'NOT_CONTAINS_TOKEN': {
      if (f.value === undefined || f.value === null) throw validationError(`${op} on ${f.propertyName} requires a value`);
      const needle = String(f.value);
      const has = (r: CrmRecord) => { const v = get(r); return v !== undefined && containsToken(v, needle); };
      return op === 'CONTAINS_TOKEN' ? has : (r) => !has(r);
    }
    default:
      throw validationError(`Unknown operator ${op}`);
  }
}

function parseSorts(raw: unknown): Sort[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw validationError('sorts must be an array');
  // The api-client types sorts as strings ("createdate", "-createdate"); the REST docs use objects.
  return raw.map((s) => {
    if (typeof s === 'string') return s.startsWith('-') ? { propertyName: s.slice(1), descending: true } : { propertyName: s, descending: false };
    const o = s as { propertyName?: string; direction?: string };
    if (!o?.propertyName) throw validationError('sorts[].propertyName is required');
    return { propertyName: o.propertyName, descending: o.direction === 'DESCENDING' };
  });
}

function parseFilterGroups(raw: unknown): Filter[][] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw validationError('filterGroups must be an array');
  if (raw.length > MAX_GROUPS) {
    throw validationError(`Too many filter groups: ${raw.length}. The maximum number of filter groups is ${MAX_GROUPS}.`);
  }
  let total = 0;
  const groups = raw.map((g: { filters?: unknown }) => {
    const filters = Array.isArray(g?.filters) ? (g.filters as Filter[]) : [];
    if (filters.length > MAX_FILTERS_PER_GROUP) {
      throw validationError(`Too many filters in a group: ${filters.length}. The maximum number of filters per group is ${MAX_FILTERS_PER_GROUP}.`);
    }
    total += filters.length;
    for (const f of filters) {
      if (!f || typeof f.propertyName !== 'string') throw validationError('filters[].propertyName is required');
      if (!OPERATORS.has(f.operator)) throw validationError(`Invalid operator ${JSON.stringify(f.operator)} for property ${f.propertyName}`);
    }
    return filters;
  });
  if (total > MAX_FILTERS) throw validationError(`Too many filters: ${total}. The maximum number of filters is ${MAX_FILTERS}.`);
  return groups;
}

export function searchRouter(): express.Router {
  const r = express.Router();
  r.post('/crm/v3/objects/:objectType/search', (req, res) => {
    const { portal } = auth(res);
    const type = objectTypeParam(String(req.params.objectType));
    const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;
    const limit = body.limit === undefined ? 10 : Number(body.limit);
    if (!Number.isInteger(limit) || limit < 0 || limit > MAX_LIMIT) {
      throw validationError(`limit must be between 0 and ${MAX_LIMIT}, got ${JSON.stringify(body.limit)}`);
    }
    const after = body.after === undefined || body.after === null || body.after === '' ? 0 : Number(body.after);
    if (!Number.isInteger(after) || after < 0) throw validationError(`after must be a non-negative integer offset, got ${JSON.stringify(body.after)}`);
    if (after + limit > MAX_RESULTS) {
      throw validationError(`Paging beyond ${MAX_RESULTS} results is not supported (after=${after}, limit=${limit}). Narrow the search with filters.`);
    }
    const query = typeof body.query === 'string' ? body.query.trim() : '';
    if (query.length > 3000) throw validationError('query must be at most 3000 characters');
    const groups = parseFilterGroups(body.filterGroups).map((g) => g.map((f) => compile(portal, type, f)));
    const sorts = parseSorts(body.sorts);
    const names = Array.isArray(body.properties) ? body.properties.map(String) : [];

    const queryProps = QUERY_PROPERTIES[type];
    const matchesQuery = (rec: CrmRecord) =>
      queryProps.some((p) => {
        const v = rec.properties.get(p);
        return v !== undefined && (v.toLowerCase().includes(query.toLowerCase()) || containsToken(v, query));
      });

    const matched: CrmRecord[] = [];
    for (const rec of portal.records[type].values()) {
      if (groups.length && !groups.some((g) => g.every((test) => test(rec)))) continue;
      if (query && !matchesQuery(rec)) continue;
      matched.push(rec);
    }
    const defs = sorts.map((s) => portal.property(type, s.propertyName));
    matched.sort((a, b) => {
      for (let i = 0; i < sorts.length; i++) {
        const av = a.properties.get(sorts[i].propertyName);
        const bv = b.properties.get(sorts[i].propertyName);
        if (av === bv) continue;
        // Records without the property sort last either way.
        if (av === undefined) return 1;
        if (bv === undefined) return -1;
        const ak = keyOf(defs[i], av) ?? av;
        const bk = keyOf(defs[i], bv) ?? bv;
        if (ak === bk) continue;
        const c = ak < bk ? -1 : 1;
        return sorts[i].descending ? -c : c;
      }
      return Number(a.id) - Number(b.id);
    });
    const page = matched.slice(after, after + limit).map((rec) => recordJson(portal, type, rec, names));
    const next = after + limit;
    const body2: Record<string, unknown> = { total: matched.length, results: page };
    if (next < matched.length && limit > 0) body2.paging = { next: { after: String(next), link: '' } };
    res.json(body2);
  });
  return r;
}
