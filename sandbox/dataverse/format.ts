import type { StoredRecord, StoredValue } from './contracts.ts';
import type { Schema } from './schema.ts';
import { isReference, type Store } from './store.ts';
import { navigationName, type AttributeDef, type TableDef } from './tables.ts';

/**
 * Stored rows → Web API JSON: lookups as `_x_value`, multi-selects as comma strings, the etag, and the
 * annotations the caller asked for with `Prefer: odata.include-annotations`.
 */

export const FORMATTED = 'OData.Community.Display.V1.FormattedValue';
export const LOOKUP_LOGICAL_NAME = 'Microsoft.Dynamics.CRM.lookuplogicalname';
export const NAVIGATION = 'Microsoft.Dynamics.CRM.associatednavigationproperty';

/** Decides which annotations to include, from `odata.include-annotations="a,b.*"` (or "*"). */
export type AnnotationFilter = (name: string) => boolean;
export const NO_ANNOTATIONS: AnnotationFilter = () => false;

export function annotationFilter(prefer: Map<string, string>): AnnotationFilter {
  const raw = prefer.get('odata.include-annotations');
  if (!raw) return NO_ANNOTATIONS;
  const patterns = raw.replace(/^"|"$/g, '').split(',').map((p) => p.trim()).filter(Boolean);
  return (name) =>
    patterns.some((p) => {
      if (p === '*') return true;
      if (p.startsWith('-')) return false;
      if (p.endsWith('.*')) return name.startsWith(p.slice(0, -1));
      return p === name;
    });
}

export interface ExpandPlan {
  navigation: string;
  attribute: AttributeDef;
  target: string;
  select: string[] | null;
}

export interface FormatOptions {
  /** Logical column names to return; null = all readable columns. */
  select: string[] | null;
  annotations: AnnotationFilter;
  expand: ExpandPlan[];
}

export const etagOf = (row: StoredRecord) => `W/"${row.versionnumber}"`;

export function lookupProperty(attr: AttributeDef): string {
  return `_${attr.logicalName}_value`;
}

export class Formatter {
  constructor(private readonly schema: Schema, private readonly store: Store) {}

  record(def: TableDef, row: StoredRecord, opts: FormatOptions): Record<string, unknown> {
    const out: Record<string, unknown> = { '@odata.etag': etagOf(row) };
    const columns = opts.select
      ? [...new Set([...opts.select, def.primaryIdAttribute])].map((c) => this.schema.attribute(def.logicalName, c)!).filter(Boolean)
      : def.attributes;
    for (const attr of columns) {
      if (attr.writeOnly) continue;
      this.column(def, attr, row[attr.logicalName] ?? null, out, opts.annotations);
    }
    for (const plan of opts.expand) {
      const ref = row[plan.attribute.logicalName];
      const targetDef = this.schema.table(plan.target)!;
      const related = isReference(ref) && ref.logicalName === plan.target ? this.store.get(plan.target, ref.id) : undefined;
      out[plan.navigation] = related
        ? this.record(targetDef, related, { select: plan.select, annotations: opts.annotations, expand: [] })
        : null;
    }
    return out;
  }

  private column(def: TableDef, attr: AttributeDef, value: StoredValue, out: Record<string, unknown>, ann: AnnotationFilter): void {
    if (attr.kind === 'Lookup' || attr.kind === 'Customer' || attr.kind === 'Owner') {
      const name = lookupProperty(attr);
      if (isReference(value)) {
        if (ann(FORMATTED)) {
          const label = this.primaryName(value.logicalName, value.id);
          if (label !== undefined) out[`${name}@${FORMATTED}`] = label;
        }
        if (ann(NAVIGATION)) out[`${name}@${NAVIGATION}`] = navigationName(attr, value.logicalName);
        if (ann(LOOKUP_LOGICAL_NAME)) out[`${name}@${LOOKUP_LOGICAL_NAME}`] = value.logicalName;
        out[name] = value.id;
      } else {
        out[name] = null;
      }
      return;
    }
    const name = attr.logicalName;
    if (value !== null && ann(FORMATTED)) {
      const formatted = formatValue(attr, value);
      if (formatted !== undefined) out[`${name}@${FORMATTED}`] = formatted;
    }
    if (attr.kind === 'MultiSelectPicklist') {
      out[name] = Array.isArray(value) && value.length ? value.join(',') : null;
      return;
    }
    out[name] = value;
    void def;
  }

  primaryName(table: string, id: string): string | undefined {
    const def = this.schema.table(table);
    const row = def && this.store.get(table, id);
    if (!def || !row) return undefined;
    const v = row[def.primaryNameAttribute];
    return typeof v === 'string' ? v : undefined;
  }
}

const numberFormat = new Intl.NumberFormat('en-US');
const moneyFormat = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });

/** The user-locale strings Dataverse returns as FormattedValue (en-US, UTC, for determinism). */
export function formatValue(attr: AttributeDef, value: StoredValue): string | undefined {
  switch (attr.kind) {
    case 'Picklist': case 'State': case 'Status':
      return attr.options?.find((o) => o.value === value)?.label;
    case 'MultiSelectPicklist':
      return Array.isArray(value) ? value.map((v) => attr.options?.find((o) => o.value === v)?.label ?? String(v)).join('; ') : undefined;
    case 'Boolean':
      return attr.options?.find((o) => o.value === (value ? 1 : 0))?.label ?? (value ? 'Yes' : 'No');
    case 'Money':
      return typeof value === 'number' ? moneyFormat.format(value) : undefined;
    case 'Integer': case 'Decimal': case 'Double':
      return typeof value === 'number' ? numberFormat.format(value) : undefined;
    case 'DateTime': {
      if (typeof value !== 'string') return undefined;
      const d = new Date(value.length === 10 ? `${value}T00:00:00Z` : value);
      const date = `${d.getUTCMonth() + 1}/${d.getUTCDate()}/${d.getUTCFullYear()}`;
      if (attr.dateOnly) return date;
      const h = d.getUTCHours();
      return `${date} ${h % 12 === 0 ? 12 : h % 12}:${String(d.getUTCMinutes()).padStart(2, '0')} ${h < 12 ? 'AM' : 'PM'}`;
    }
    default:
      return undefined;
  }
}
