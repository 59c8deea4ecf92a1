import { randomUUID } from 'node:crypto';
import type { ChangeFeed, Principal, RecordChange, StoredRecord, StoredReference, StoredValue } from './contracts.ts';
import { Codes, DataverseError, notFound } from './errors.ts';
import type { Schema } from './schema.ts';
import type { KeyDef, TableDef } from './tables.ts';

/**
 * In-memory rows per table, alternate-key indexes, tombstones for change tracking and an undo journal
 * for atomic $batch change sets. Values arrive already validated (see write.ts); the store fills the
 * platform columns (ids, audit, owner, version, state) and publishes committed changes.
 */

export interface OpContext {
  principal: Principal;
  correlationId: string;
  requestId: string;
  depth: number;
  /** Present inside a $batch change set: changes are published (or undone) when it ends. */
  tx?: Transaction;
}

export class Transaction {
  readonly undo: Array<() => void> = [];
  readonly pending: RecordChange[] = [];
}

interface TableState {
  rows: Map<string, StoredRecord>;
  /** key logical name → serialised key values → record id */
  keys: Map<string, Map<string, string>>;
  tombstones: Array<{ id: string; version: number }>;
}

export function reference(logicalName: string, id: string): StoredReference {
  return { id, logicalName };
}

export const isReference = (v: StoredValue | undefined): v is StoredReference =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Dataverse serialises dates without fractional seconds. */
export const nowIso = (d = new Date()) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export class Store implements ChangeFeed {
  private readonly tables = new Map<string, TableState>();
  private readonly listeners = new Set<(change: RecordChange) => void>();
  /** Row version counter shared by all tables, like SQL rowversion; delta tokens are positions in it. */
  private version = 1_000;
  businessUnitId = '';

  constructor(readonly schema: Schema) {}

  private state(table: string): TableState {
    let s = this.tables.get(table);
    if (!s) {
      s = { rows: new Map(), keys: new Map(), tombstones: [] };
      this.tables.set(table, s);
    }
    return s;
  }

  get currentVersion(): number {
    return this.version;
  }

  onChange(listener: (change: RecordChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private publish(change: RecordChange, ctx: OpContext): void {
    if (ctx.tx) ctx.tx.pending.push(change);
    else this.emit([change]);
  }

  private emit(changes: RecordChange[]): void {
    for (const change of changes) {
      for (const l of this.listeners) {
        try {
          l(change);
        } catch {
          // A faulty subscriber must not fail the request that caused the change.
        }
      }
    }
  }

  begin(): Transaction {
    return new Transaction();
  }

  commit(tx: Transaction): void {
    this.emit(tx.pending.splice(0));
  }

  rollback(tx: Transaction): void {
    for (const undo of tx.undo.reverse()) undo();
    tx.undo.length = 0;
    tx.pending.length = 0;
  }

  get(table: string, id: string): StoredRecord | undefined {
    return this.state(table).rows.get(id.toLowerCase());
  }

  mustGet(table: string, id: string): StoredRecord {
    const row = this.get(table, id);
    if (!row) throw notFound(table, id);
    return row;
  }

  rows(table: string): IterableIterator<StoredRecord> {
    return this.state(table).rows.values();
  }

  count(table: string): number {
    return this.state(table).rows.size;
  }

  /** Finds a record by an alternate key (values already typed). */
  findByKey(table: string, key: KeyDef, values: StoredRecord): string | undefined {
    return this.state(table).keys.get(key.logicalName)?.get(keyString(key, values));
  }

  /** Builds the index of a new key over existing rows; fails like Dataverse when rows collide. */
  indexKey(table: string, key: KeyDef): void {
    const s = this.state(table);
    const index = new Map<string, string>();
    for (const row of s.rows.values()) {
      if (!hasKeyValues(key, row)) continue;
      const k = keyString(key, row);
      if (index.has(k)) throw duplicateKey(key, row);
      index.set(k, row[this.def(table).primaryIdAttribute] as string);
    }
    s.keys.set(key.logicalName, index);
  }

  def(table: string): TableDef {
    const def = this.schema.table(table);
    if (!def) throw new DataverseError(404, Codes.OData, `Resource not found for the segment '${table}'.`);
    return def;
  }

  create(table: string, values: StoredRecord, ctx: OpContext): StoredRecord {
    const def = this.def(table);
    const s = this.state(table);
    const pk = def.primaryIdAttribute;
    const id = ((values[pk] as string | undefined) ?? randomUUID()).toLowerCase();
    if (s.rows.has(id)) throw new DataverseError(412, Codes.Duplicate, 'A record with matching key values already exists.');
    const now = nowIso();
    const user = reference('systemuser', ctx.principal.systemUserId);
    const row: StoredRecord = {};
    for (const a of def.attributes) row[a.logicalName] = null;
    Object.assign(row, values);
    row[pk] = id;
    row.createdon = (values.overriddencreatedon as string | null) ?? now;
    row.modifiedon = now;
    row.createdby = user;
    row.modifiedby = user;
    if (def.ownership === 'UserOwned') {
      if (!values.ownerid) row.ownerid = user;
      row.owningbusinessunit = reference('businessunit', this.businessUnitId);
    }
    this.applyState(def, row, values);
    computeColumns(def, row, values);
    row.versionnumber = ++this.version;
    this.checkKeys(def, s, row, undefined);
    s.rows.set(id, row);
    this.indexRow(def, s, row, undefined);
    ctx.tx?.undo.push(() => {
      s.rows.delete(id);
      this.unindexRow(def, s, row);
    });
    const changed: StoredRecord = {};
    for (const [k, v] of Object.entries(row)) if (v !== null) changed[k] = v;
    this.publish(this.change('Create', table, id, changed, undefined, row, ctx), ctx);
    return row;
  }

  update(table: string, id: string, values: StoredRecord, ctx: OpContext): StoredRecord {
    const def = this.def(table);
    const s = this.state(table);
    const key = id.toLowerCase();
    const before = s.rows.get(key);
    if (!before) throw notFound(table, id);
    const row: StoredRecord = { ...before, ...values };
    row[def.primaryIdAttribute] = key;
    row.modifiedon = nowIso();
    row.modifiedby = reference('systemuser', ctx.principal.systemUserId);
    const changed: StoredRecord = { ...values };
    this.applyState(def, row, values, changed);
    computeColumns(def, row, values, changed);
    row.versionnumber = ++this.version;
    this.checkKeys(def, s, row, before);
    this.unindexRow(def, s, before);
    s.rows.set(key, row);
    this.indexRow(def, s, row, before);
    ctx.tx?.undo.push(() => {
      this.unindexRow(def, s, row);
      s.rows.set(key, before);
      this.indexRow(def, s, before, undefined);
    });
    changed[def.primaryIdAttribute] = key;
    changed.modifiedon = row.modifiedon;
    changed.modifiedby = row.modifiedby;
    this.publish(this.change('Update', table, key, changed, before, row, ctx), ctx);
    return row;
  }

  delete(table: string, id: string, ctx: OpContext): void {
    const def = this.def(table);
    const s = this.state(table);
    const key = id.toLowerCase();
    const row = s.rows.get(key);
    if (!row) throw notFound(table, id);
    s.rows.delete(key);
    this.unindexRow(def, s, row);
    const tomb = { id: key, version: ++this.version };
    s.tombstones.push(tomb);
    ctx.tx?.undo.push(() => {
      s.rows.set(key, row);
      this.indexRow(def, s, row, undefined);
      const i = s.tombstones.indexOf(tomb);
      if (i >= 0) s.tombstones.splice(i, 1);
    });
  }

  /** Rows changed and ids deleted after a row version (change tracking). */
  changesSince(table: string, version: number): { rows: StoredRecord[]; deleted: string[] } {
    const s = this.state(table);
    const rows = [...s.rows.values()].filter((r) => (r.versionnumber as number) > version);
    const deleted = s.tombstones.filter((t) => t.version > version && !s.rows.has(t.id)).map((t) => t.id);
    return { rows: rows.sort((a, b) => (a.versionnumber as number) - (b.versionnumber as number)), deleted: [...new Set(deleted)] };
  }

  private change(
    message: 'Create' | 'Update', entity: string, id: string, changed: StoredRecord,
    pre: StoredRecord | undefined, post: StoredRecord, ctx: OpContext,
  ): RecordChange {
    return {
      message, entity, id, changed, pre: pre ? { ...pre } : undefined, post: { ...post }, principal: ctx.principal,
      depth: ctx.depth, correlationId: ctx.correlationId, requestId: ctx.requestId, operationCreatedOn: new Date(),
    };
  }

  /** Keeps statecode and statuscode consistent, the way SetState does. */
  private applyState(def: TableDef, row: StoredRecord, values: StoredRecord, changed?: StoredRecord): void {
    const stateAttr = def.attributes.find((a) => a.kind === 'State');
    const statusAttr = def.attributes.find((a) => a.kind === 'Status');
    if (!stateAttr || !statusAttr) return;
    if (row.statecode === null || row.statecode === undefined) row.statecode = 0;
    const state = row.statecode as number;
    if ('statuscode' in values && values.statuscode !== null) {
      const status = statusAttr.options!.find((o) => o.value === values.statuscode)!;
      if ('statecode' in values && status.state !== values.statecode) {
        throw new DataverseError(400, Codes.InvalidArgument, `${values.statuscode} is not a valid status code for state code ${def.schemaName}State.${stateAttr.options!.find((o) => o.value === values.statecode)?.label ?? values.statecode} on ${def.logicalName} with Id ${row[def.primaryIdAttribute] ?? ''}.`);
      }
      row.statecode = status.state!;
      if (changed && row.statecode !== state) changed.statecode = row.statecode;
    } else if ('statecode' in values || row.statuscode === null || row.statuscode === undefined) {
      row.statuscode = stateAttr.options!.find((o) => o.value === row.statecode)?.defaultStatus ?? 1;
      if (changed) changed.statuscode = row.statuscode;
    }
  }

  private checkKeys(def: TableDef, s: TableState, row: StoredRecord, before: StoredRecord | undefined): void {
    for (const key of def.keys) {
      if (!hasKeyValues(key, row)) continue;
      const existing = s.keys.get(key.logicalName)?.get(keyString(key, row));
      if (existing && existing !== row[def.primaryIdAttribute] && (!before || existing !== before[def.primaryIdAttribute])) {
        throw duplicateKey(key, row);
      }
    }
  }

  private indexRow(def: TableDef, s: TableState, row: StoredRecord, _before: StoredRecord | undefined): void {
    for (const key of def.keys) {
      if (!hasKeyValues(key, row)) continue;
      let index = s.keys.get(key.logicalName);
      if (!index) s.keys.set(key.logicalName, (index = new Map()));
      index.set(keyString(key, row), row[def.primaryIdAttribute] as string);
    }
  }

  private unindexRow(def: TableDef, s: TableState, row: StoredRecord): void {
    for (const key of def.keys) {
      if (!hasKeyValues(key, row)) continue;
      const index = s.keys.get(key.logicalName);
      const k = keyString(key, row);
      if (index?.get(k) === row[def.primaryIdAttribute]) index.delete(k);
    }
  }
}

function hasKeyValues(key: KeyDef, row: StoredRecord): boolean {
  return key.keyAttributes.every((a) => row[a] !== null && row[a] !== undefined);
}

/** Keys compare case-insensitively for strings, as SQL Server's default collation does. */
function keyString(key: KeyDef, row: StoredRecord): string {
  return key.keyAttributes
    .map((a) => {
      const v = row[a];
      if (isReference(v)) return v.id.toLowerCase();
      return typeof v === 'string' ? v.toLowerCase() : JSON.stringify(v);
    })
    .join('\u0000');
}

function duplicateKey(key: KeyDef, row: StoredRecord): DataverseError {
  const values = key.keyAttributes.map((a) => `${a}:${isReference(row[a]) ? (row[a] as StoredReference).id : String(row[a])}`).join(',');
  return new DataverseError(
    412, Codes.DuplicateKey,
    `A record that has the attribute values ${values} already exists. The entity key ${key.schemaName} requires that this set of attributes contains unique values. Select unique values and try again.`,
  );
}

/** fullname is derived from first and last name on lead, contact and systemuser. */
function computeColumns(def: TableDef, row: StoredRecord, values: StoredRecord, changed?: StoredRecord): void {
  if (!def.attributes.some((a) => a.logicalName === 'fullname') || !def.attributes.some((a) => a.logicalName === 'lastname')) return;
  if (!changed || 'firstname' in values || 'lastname' in values) {
    const full = [row.firstname, row.lastname].filter((x) => typeof x === 'string' && x).join(' ');
    row.fullname = full || null;
    if (changed) changed.fullname = row.fullname;
  }
}
