import { randomUUID } from 'node:crypto';
import type { Principal, StoredRecord } from './contracts.ts';
import { Codes, DataverseError, odataError } from './errors.ts';
import { annotationFilter, etagOf, Formatter, type FormatOptions } from './format.ts';
import { parseQueryString } from './odata.ts';
import { describeKey, matchKey, parseEntityPath, resolveKey, splitPath, type EntityPath, type RecordKey } from './paths.ts';
import { parseCollectionQuery, parseExpandPlans, parseSelect, resolveColumn, sortRows } from './query.ts';
import type { Schema } from './schema.ts';
import type { OpContext, Store, Transaction } from './store.ts';
import { isLookupKind, type TableDef } from './tables.ts';
import { findNavigation, parseJsonBody, toStoredValues, convert } from './write.ts';

/**
 * The Web API without HTTP: one request in, one response out. The Express layer and the $batch
 * executor both call `handle`, so a request inside a change set behaves exactly like a direct one.
 */

export interface ApiRequest {
  method: string;
  /** Path below /api/data/v9.2/, without the query string. */
  path: string;
  /** Raw query string including '?', or ''. */
  search: string;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body: string;
  principal: Principal;
  requestId: string;
  correlationId: string;
  tx?: Transaction;
  depth?: number;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  /** JSON body, or raw text with its content type. */
  json?: unknown;
  text?: { body: string; contentType: string };
}

export type RouteHandler = (req: ApiRequest, api: WebApi) => ApiResponse | Promise<ApiResponse> | undefined;

export const MAX_PAGE_SIZE = 5000;

/** `Prefer: return=representation, odata.include-annotations="*"` → name → value. */
export function parsePrefer(header: string | undefined): Map<string, string> {
  const prefs = new Map<string, string>();
  if (!header) return prefs;
  let current = '';
  let quoted = false;
  const flush = () => {
    const part = current.trim();
    current = '';
    if (!part) return;
    const eq = part.indexOf('=');
    prefs.set(eq < 0 ? part : part.slice(0, eq).trim(), eq < 0 ? '' : part.slice(eq + 1).trim());
  };
  for (const c of header) {
    if (c === '"') quoted = !quoted;
    if (c === ',' && !quoted) flush();
    else current += c;
  }
  flush();
  return prefs;
}

export class WebApi {
  readonly format: Formatter;
  /** Extra routes (metadata, actions, WhoAmI) keyed by first path segment. */
  private readonly routes = new Map<string, RouteHandler>();
  private readonly boundActions = new Map<string, (req: ApiRequest, table: TableDef, id: string, api: WebApi) => ApiResponse>();

  constructor(readonly schema: Schema, readonly store: Store, public orgUrl: string) {
    this.format = new Formatter(schema, store);
  }

  get base(): string {
    return `${this.orgUrl}/api/data/v9.2/`;
  }

  route(segment: string, handler: RouteHandler): void {
    this.routes.set(segment, handler);
  }

  boundAction(name: string, handler: (req: ApiRequest, table: TableDef, id: string, api: WebApi) => ApiResponse): void {
    this.boundActions.set(name, handler);
  }

  ctx(req: ApiRequest): OpContext {
    return { principal: req.principal, correlationId: req.correlationId, requestId: req.requestId, depth: req.depth ?? 1, tx: req.tx };
  }

  entityUrl(def: TableDef, id: string): string {
    return `${this.base}${def.entitySetName}(${id})`;
  }

  async handle(req: ApiRequest): Promise<ApiResponse> {
    try {
      const segments = splitPath(req.path);
      if (segments.length === 0) return this.serviceDocument();
      const head = segments[0].replace(/\(.*$/s, '');
      const custom = this.routes.get(head);
      if (custom) {
        const res = await custom(req, this);
        if (res) return res;
      }
      const path = parseEntityPath(this.schema, segments);
      return this.entity(req, path, segments);
    } catch (err) {
      return errorResponse(err);
    }
  }

  private serviceDocument(): ApiResponse {
    return {
      status: 200, headers: {},
      json: { '@odata.context': `${this.base}$metadata`, value: this.schema.tables().map((t) => ({ name: t.entitySetName, kind: 'EntitySet', url: t.entitySetName })) },
    };
  }

  private entity(req: ApiRequest, path: EntityPath, segments: string[]): ApiResponse {
    const m = req.method.toUpperCase();
    if (!path.key) {
      if (segments[1] === '$count' && m === 'GET') return this.countAll(path.table);
      if (m === 'GET') return this.retrieveMultiple(req, path.table);
      if (m === 'POST') return this.create(req, path.table);
      throw methodNotAllowed(m);
    }
    if (path.member) return this.member(req, path, m);
    switch (m) {
      case 'GET': return this.retrieve(req, path.table, path.key);
      case 'PATCH': return this.upsert(req, path.table, path.key);
      case 'DELETE': return this.remove(req, path.table, path.key);
      default: throw methodNotAllowed(m);
    }
  }

  private countAll(def: TableDef): ApiResponse {
    return { status: 200, headers: {}, text: { body: String(Math.min(this.store.count(def.logicalName), MAX_PAGE_SIZE)), contentType: 'text/plain' } };
  }

  /** Looks up a record or throws Dataverse's 404. */
  requireId(def: TableDef, key: RecordKey): string {
    const id = resolveKey(this.store, def, key);
    if (!id) {
      if (key.kind === 'id') throw new DataverseError(404, Codes.NotFound, `Entity '${def.logicalName}' With Id = ${key.id} Does Not Exist`);
      throw new DataverseError(404, Codes.NotFound, `A record with the specified key values does not exist in ${def.logicalName} entity (${describeKey(key)}).`);
    }
    return id;
  }

  formatOptions(req: ApiRequest, def: TableDef, params: Map<string, string>): FormatOptions {
    return {
      select: parseSelect(this.schema, def, params.get('$select')),
      annotations: annotationFilter(parsePrefer(req.headers.prefer)),
      expand: parseExpandPlans(this.schema, def, params.get('$expand')),
    };
  }

  private preferenceApplied(prefer: Map<string, string>, applied: string[]): Record<string, string> {
    const list = [...applied];
    if (prefer.has('odata.include-annotations')) list.push(`odata.include-annotations=${prefer.get('odata.include-annotations')}`);
    return list.length ? { 'Preference-Applied': list.join(',') } : {};
  }

  private retrieve(req: ApiRequest, def: TableDef, key: RecordKey): ApiResponse {
    const params = parseQueryString(req.search);
    for (const k of params.keys()) {
      if (k.startsWith('$') && k !== '$select' && k !== '$expand') throw odataError(`The query parameter ${k} is not supported`);
    }
    const opts = this.formatOptions(req, def, params);
    const id = this.requireId(def, key);
    const row = this.store.get(def.logicalName, id)!;
    const inm = req.headers['if-none-match'];
    if (inm && inm !== 'null' && inm === etagOf(row)) return { status: 304, headers: { ETag: etagOf(row) } };
    const json = { '@odata.context': `${this.base}$metadata#${def.entitySetName}/$entity`, ...this.format.record(def, row, opts) };
    const prefer = parsePrefer(req.headers.prefer);
    return { status: 200, headers: { ETag: etagOf(row), ...this.preferenceApplied(prefer, []) }, json };
  }

  private retrieveMultiple(req: ApiRequest, def: TableDef): ApiResponse {
    const params = parseQueryString(req.search);
    const prefer = parsePrefer(req.headers.prefer);
    if (params.has('$deltatoken') || prefer.has('odata.track-changes')) return this.trackChanges(req, def, params, prefer);
    const q = parseCollectionQuery(this.schema, def, params);
    const opts: FormatOptions = { select: q.select, annotations: annotationFilter(prefer), expand: q.expand };
    let rows: StoredRecord[] = [];
    for (const row of this.store.rows(def.logicalName)) if (!q.filter || q.filter(row)) rows.push(row);
    rows = sortRows(def, rows, q.orderBy);
    const total = rows.length;
    if (q.top !== null) rows = rows.slice(0, q.top);
    const applied: string[] = [];
    let pageSize = MAX_PAGE_SIZE;
    const requested = prefer.get('odata.maxpagesize');
    if (requested !== undefined) {
      const n = Number(requested);
      if (!Number.isInteger(n) || n <= 0) throw odataError(`The value '${requested}' of odata.maxpagesize is not valid.`);
      pageSize = Math.min(n, MAX_PAGE_SIZE);
      applied.push(`odata.maxpagesize=${pageSize}`);
    }
    const page = q.skipToken?.page ?? 1;
    const pageRows = rows.slice((page - 1) * pageSize, page * pageSize);
    const more = rows.length > page * pageSize;
    const selectPart = q.select ? `(${q.select.join(',')})` : '';
    const json: Record<string, unknown> = { '@odata.context': `${this.base}$metadata#${def.entitySetName}${selectPart}` };
    if (q.count) json['@odata.count'] = Math.min(total, MAX_PAGE_SIZE);
    json.value = pageRows.map((r) => this.format.record(def, r, opts));
    if (more) {
      // Dataverse's skip token is a paging cookie; page numbers are enough for an in-memory store.
      const cookie = `<cookie pagenumber="${page + 1}" pagingcookie="%253ccookie%2520page%253d%2522${page}%2522%253e%253c%252fcookie%253e" istracking="False" />`;
      const next = new Map(params);
      next.set('$skiptoken', cookie);
      json['@odata.nextLink'] = `${this.base}${def.entitySetName}?${[...next].map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`;
    }
    return { status: 200, headers: this.preferenceApplied(prefer, applied), json };
  }

  private trackChanges(req: ApiRequest, def: TableDef, params: Map<string, string>, prefer: Map<string, string>): ApiResponse {
    for (const option of ['$filter', '$orderby', '$top', '$expand', '$skiptoken']) {
      if (params.has(option)) {
        throw new DataverseError(400, Codes.ChangeTracking, `The ${option} query option is not supported when tracking changes. Change tracking supports only $select (and $count on delta links).`);
      }
    }
    for (const k of params.keys()) {
      if (k.startsWith('$') && !['$select', '$deltatoken', '$count'].includes(k)) throw odataError(`The query parameter ${k} is not supported`);
    }
    if (!def.changeTrackingEnabled) {
      throw new DataverseError(400, Codes.ChangeTracking, `Entity '${def.logicalName}' is not enabled for change tracking.`);
    }
    const select = parseSelect(this.schema, def, params.get('$select'));
    const opts: FormatOptions = { select, annotations: annotationFilter(prefer), expand: [] };
    const selectPart = select ? `(${select.join(',')})` : '';
    const deltaLink = () => {
      const token = `${this.store.currentVersion}!${new Date().toLocaleString('en-US', { timeZone: 'UTC', hour12: false }).replace(',', '')}`;
      const sel = select ? `$select=${select.join(',')}&` : '';
      return `${this.base}${def.entitySetName}?${sel}$deltatoken=${encodeURIComponent(token)}`;
    };
    const json: Record<string, unknown> = {};
    const tokenText = params.get('$deltatoken');
    if (tokenText === undefined) {
      const rows = [...this.store.rows(def.logicalName)];
      json['@odata.context'] = `${this.base}$metadata#${def.entitySetName}${selectPart}`;
      if (params.get('$count') === 'true') json['@odata.count'] = rows.length;
      json.value = rows.map((r) => this.format.record(def, r, opts));
    } else {
      const m = /^(\d+)!/.exec(tokenText);
      if (!m) throw new DataverseError(400, Codes.ChangeTracking, `The delta token '${tokenText}' is not valid or has expired; retrieve the table again with Prefer: odata.track-changes.`);
      const { rows, deleted } = this.store.changesSince(def.logicalName, Number(m[1]));
      json['@odata.context'] = `${this.base}$metadata#${def.entitySetName}${selectPart}/$delta`;
      if (params.get('$count') === 'true') json['@odata.count'] = rows.length + deleted.length;
      json.value = [
        ...rows.map((r) => this.format.record(def, r, opts)),
        ...deleted.map((id) => ({ '@odata.context': `${this.base}$metadata#${def.entitySetName}/$deletedEntity`, id, reason: 'deleted' })),
      ];
    }
    json['@odata.deltaLink'] = deltaLink();
    return { status: 200, headers: this.preferenceApplied(prefer, ['odata.track-changes']), json };
  }

  private create(req: ApiRequest, def: TableDef): ApiResponse {
    const body = parseJsonBody(req.body, def.entitySetName);
    const values = toStoredValues(this.schema, this.store, def, body, 'create');
    const row = this.store.create(def.logicalName, values, this.ctx(req));
    return this.written(req, def, row, true, false);
  }

  /** 204 + OData-EntityId, or the record with `Prefer: return=representation`. */
  private written(req: ApiRequest, def: TableDef, row: StoredRecord, created: boolean, isUpsert: boolean): ApiResponse {
    const id = row[def.primaryIdAttribute] as string;
    const url = this.entityUrl(def, id);
    const prefer = parsePrefer(req.headers.prefer);
    const headers: Record<string, string> = { 'OData-EntityId': url };
    if (created && !isUpsert) headers.Location = url;
    if (prefer.get('return') === 'representation') {
      const params = parseQueryString(req.search);
      const opts = this.formatOptions(req, def, params);
      const json = { '@odata.context': `${this.base}$metadata#${def.entitySetName}/$entity`, ...this.format.record(def, row, opts) };
      return { status: created ? 201 : 200, headers: { ...headers, ETag: etagOf(row), ...this.preferenceApplied(prefer, ['return=representation']) }, json };
    }
    return { status: 204, headers };
  }

  private upsert(req: ApiRequest, def: TableDef, key: RecordKey): ApiResponse {
    const body = parseJsonBody(req.body, def.entitySetName);
    const existing = resolveKey(this.store, def, key);
    const ifMatch = req.headers['if-match'];
    const ifNoneMatch = req.headers['if-none-match'];
    if (ifMatch && !existing) {
      throw new DataverseError(404, Codes.NotFound, key.kind === 'id' ? `Entity '${def.logicalName}' With Id = ${key.id} Does Not Exist` : `A record with the specified key values does not exist in ${def.logicalName} entity (${describeKey(key)}).`);
    }
    if (ifNoneMatch === '*' && existing) throw new DataverseError(412, Codes.Duplicate, 'A record with matching key values already exists.');
    if (existing) {
      const row = this.store.get(def.logicalName, existing)!;
      if (ifMatch && ifMatch !== '*' && ifMatch !== etagOf(row)) {
        throw new DataverseError(412, Codes.Concurrency, "The version of the existing record doesn't match the RowVersion property provided.");
      }
      const values = toStoredValues(this.schema, this.store, def, body, 'update');
      delete values[def.primaryIdAttribute];
      return this.written(req, def, this.store.update(def.logicalName, existing, values, this.ctx(req)), false, true);
    }
    const values = toStoredValues(this.schema, this.store, def, body, 'create');
    if (key.kind === 'id') values[def.primaryIdAttribute] = key.id;
    else {
      // Upsert by alternate key creates the record with the key's values.
      const { record } = matchKey(def, key.values);
      for (const [col, v] of Object.entries(record)) {
        const attr = this.schema.attribute(def.logicalName, col)!;
        values[col] = convert(def, attr, v);
      }
    }
    return this.written(req, def, this.store.create(def.logicalName, values, this.ctx(req)), true, true);
  }

  private remove(req: ApiRequest, def: TableDef, key: RecordKey): ApiResponse {
    const id = this.requireId(def, key);
    const ifMatch = req.headers['if-match'];
    if (ifMatch && ifMatch !== '*' && ifMatch !== etagOf(this.store.get(def.logicalName, id)!)) {
      throw new DataverseError(412, Codes.Concurrency, "The version of the existing record doesn't match the RowVersion property provided.");
    }
    this.store.delete(def.logicalName, id, this.ctx(req));
    return { status: 204, headers: {} };
  }

  /** `contacts(id)/firstname`, `contacts(id)/parentcustomerid_account[/$ref]`, bound actions. */
  private member(req: ApiRequest, path: EntityPath, method: string): ApiResponse {
    const def = path.table;
    const member = path.member!;
    const action = member.startsWith('Microsoft.Dynamics.CRM.') ? member.slice('Microsoft.Dynamics.CRM.'.length) : undefined;
    if (action !== undefined) {
      const handler = this.boundActions.get(action);
      if (!handler || method !== 'POST') throw new DataverseError(404, Codes.OData, `Resource not found for the segment '${member}'.`);
      return handler(req, def, this.requireId(def, path.key!), this);
    }
    const id = this.requireId(def, path.key!);
    const nav = findNavigation(def, member);
    if (nav) {
      if (path.ref && method === 'DELETE') {
        this.store.update(def.logicalName, id, { [nav.attr.logicalName]: null }, this.ctx(req));
        return { status: 204, headers: {} };
      }
      if (path.ref && method === 'PUT') {
        const body = parseJsonBody(req.body, def.entitySetName);
        const values = toStoredValues(this.schema, this.store, def, { [`${member}@odata.bind`]: body['@odata.id'] }, 'update');
        this.store.update(def.logicalName, id, values, this.ctx(req));
        return { status: 204, headers: {} };
      }
      if (!path.ref && method === 'GET') {
        const ref = this.store.get(def.logicalName, id)![nav.attr.logicalName];
        const target = nav.target ?? nav.attr.targets![0];
        const targetDef = this.schema.table(target)!;
        if (!ref || typeof ref !== 'object' || Array.isArray(ref) || ref.logicalName !== target) return { status: 204, headers: {} };
        return this.retrieve(req, targetDef, { kind: 'id', id: ref.id });
      }
      throw methodNotAllowed(method);
    }
    const attr = resolveColumn(this.schema, def, member, false);
    if (isLookupKind(attr.kind)) throw new DataverseError(404, Codes.OData, `Resource not found for the segment '${member}'.`);
    switch (method) {
      case 'GET': {
        const row = this.store.get(def.logicalName, id)!;
        const formatted = this.format.record(def, row, { select: [attr.logicalName], annotations: () => false, expand: [] });
        const value = formatted[attr.logicalName];
        if (value === null) return { status: 204, headers: {} };
        return { status: 200, headers: {}, json: { '@odata.context': `${this.base}$metadata#${def.entitySetName}(${id})/${attr.logicalName}`, value } };
      }
      case 'PUT': {
        const body = parseJsonBody(req.body, def.entitySetName);
        if (!('value' in body)) throw odataError(`A property value was expected in the payload ({"value": …}).`);
        const values = toStoredValues(this.schema, this.store, def, { [attr.logicalName]: body.value }, 'update');
        this.store.update(def.logicalName, id, values, this.ctx(req));
        return { status: 204, headers: {} };
      }
      case 'DELETE':
        this.store.update(def.logicalName, id, { [attr.logicalName]: convert(def, attr, null) }, this.ctx(req));
        return { status: 204, headers: {} };
      default:
        throw methodNotAllowed(method);
    }
  }
}

const methodNotAllowed = (method: string) =>
  new DataverseError(405, Codes.OData, `The HTTP method '${method}' is not allowed for this resource.`);

export function errorResponse(err: unknown): ApiResponse {
  const e = err instanceof DataverseError ? err : new DataverseError(500, Codes.Generic, `An unexpected error occurred: ${(err as Error)?.message ?? String(err)}`);
  return { status: e.status, headers: { ...e.headers }, json: e.body() };
}

export const newRequestIds = () => ({ requestId: randomUUID(), correlationId: randomUUID() });
