import { standardTables, type AttributeDef, type KeyDef, type TableDef } from './tables.ts';

/**
 * The org's live schema: the standard tables plus whatever the metadata API added. Lookups by logical
 * name and by entity set name are maps because every request resolves its table and columns.
 */
export class Schema {
  private readonly byLogical = new Map<string, TableDef>();
  private readonly bySet = new Map<string, TableDef>();
  private readonly attrs = new Map<string, Map<string, AttributeDef>>();

  constructor(tables: TableDef[] = standardTables()) {
    for (const t of tables) this.addTable(t);
  }

  addTable(def: TableDef): void {
    this.byLogical.set(def.logicalName, def);
    this.bySet.set(def.entitySetName, def);
    this.attrs.set(def.logicalName, new Map(def.attributes.map((a) => [a.logicalName, a])));
  }

  tables(): TableDef[] {
    return [...this.byLogical.values()];
  }

  table(logicalName: string): TableDef | undefined {
    return this.byLogical.get(logicalName);
  }

  tableBySet(entitySetName: string): TableDef | undefined {
    return this.bySet.get(entitySetName);
  }

  attribute(table: string, column: string): AttributeDef | undefined {
    return this.attrs.get(table)?.get(column);
  }

  addAttribute(table: string, attr: AttributeDef): void {
    const def = this.byLogical.get(table);
    if (!def) throw new Error(`unknown table ${table}`);
    def.attributes.push(attr);
    this.attrs.get(table)!.set(attr.logicalName, attr);
  }

  addKey(table: string, key: KeyDef): void {
    this.byLogical.get(table)!.keys.push(key);
  }

  /** Drops a column (solution uninstall / rolled-back import); callers clear the rows' values. */
  removeAttribute(table: string, logicalName: string): void {
    const def = this.byLogical.get(table);
    if (!def) return;
    def.attributes = def.attributes.filter((a) => a.logicalName !== logicalName);
    this.attrs.get(table)!.delete(logicalName);
  }

  /** Drops an alternate key; the store's stale index is never consulted without the KeyDef. */
  removeKey(table: string, logicalName: string): void {
    const def = this.byLogical.get(table);
    if (def) def.keys = def.keys.filter((k) => k.logicalName !== logicalName);
  }
}
