import type { HubSpotRecord } from './types.ts';

type ClientObject = {
  id: string;
  properties?: Record<string, string | null>;
  createdAt?: Date | string;
  updatedAt?: Date | string;
  archived?: boolean;
  associations?: Record<string, { results?: Array<{ id: string }> }>;
};

const iso = (d: Date | string | undefined) => (d === undefined ? undefined : d instanceof Date ? d.toISOString() : String(d));

/** The api-client's model objects (Dates, nested association collections) → plain HubSpotRecord. */
export function toRecord(o: ClientObject): HubSpotRecord {
  const rec: HubSpotRecord = { id: String(o.id), properties: { ...(o.properties ?? {}) }, createdAt: iso(o.createdAt), updatedAt: iso(o.updatedAt), archived: o.archived };
  if (o.associations) {
    rec.associations = {};
    for (const [type, coll] of Object.entries(o.associations)) rec.associations[type] = [...new Set((coll?.results ?? []).map((r) => String(r.id)))];
  }
  return rec;
}

export function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
