import type { Store } from '../store/index.ts';
import type { IndexedShadowField } from '../store/repositories/shadows.ts';
import { CASE_INSENSITIVE_FIELDS, fieldHash } from './rules/echo.ts';
import type { FieldMappingRow } from './rules/pairs.ts';

/**
 * Shadows: per link and field, the hash of the value both systems agreed on at our last write. HubSpot
 * properties and Dataverse columns share names (`firstname`), so keys carry the side: `hs:x`, `dv:x`.
 *
 * Two checks use them (DESIGN §2, third echo layer):
 * - source side: a source field still equal to the agreed value has not changed there since our write, so it
 *   is not sent (that is what stops our own write coming back, and an old value overwriting a newer one);
 * - target side: a mapped value equal to the agreed value would change nothing, so it is not written.
 */
export type Side = 'hs' | 'dv';
export type ShadowHashes = Map<string, string>;

const hashOf = (field: string, value: unknown) => fieldHash(value, { caseInsensitive: CASE_INSENSITIVE_FIELDS.includes(field) });

export async function loadShadow(store: Store, tenantId: string, linkId: number | undefined): Promise<ShadowHashes> {
  if (linkId === undefined) return new Map();
  const rows = await store.shadows.forLink(tenantId, linkId);
  return new Map([...rows].map(([field, s]) => [field, s.valueHash]));
}

export function sameAsShadow(shadow: ShadowHashes, side: Side, field: string, value: unknown): boolean {
  const last = shadow.get(`${side}:${field}`);
  return last !== undefined && last === hashOf(field, value);
}

/**
 * Which of `values` some link already agreed on for `side:field` (value → link id). The shadows double as a
 * match index: a new Dynamics contact whose e-mail no linked HubSpot contact holds can be upserted by e-mail
 * straight away (HubSpot matches or creates), without reading HubSpot first.
 */
export async function linkedByValue(store: Store, tenantId: string, hubspotObject: string, key: IndexedShadowField, values: string[]): Promise<Map<string, number>> {
  const field = key.split(':')[1];
  const byHash = new Map(values.map((v) => [hashOf(field, v), v]));
  const held = await store.shadows.linksHolding(tenantId, hubspotObject, key, [...byHash.keys()]);
  return new Map([...held].map(([hash, linkId]) => [byHash.get(hash)!, linkId]));
}

/** The written field name for a row on the Dataverse side (`ownerid` is written as a bind). */
export function dynamicsKeysOf(row: FieldMappingRow): string[] {
  return [row.dynamics, `${row.dynamics}@odata.bind`];
}

type Agreed = Array<{ side: Side; field: string; value: unknown }>;

/**
 * After a successful write: the agreed value of each synced row on both sides — the source value as read and
 * the target value as written.
 */
export async function saveShadow(store: Store, tenantId: string, linkId: number, direction: 'to_hubspot' | 'to_dynamics', entries: Agreed): Promise<void> {
  await saveShadows(store, tenantId, direction, [{ linkId, entries }]);
}

/** `saveShadow` for a group of records, in as few statements as the store can. */
export async function saveShadows(store: Store, tenantId: string, direction: 'to_hubspot' | 'to_dynamics', items: Array<{ linkId: number; entries: Agreed }>): Promise<void> {
  const byLink = new Map<number, Record<string, string>>();
  for (const { linkId, entries } of items) {
    const hashes = byLink.get(linkId) ?? {};
    for (const e of entries) hashes[`${e.side}:${e.field}`] = hashOf(e.field, e.value);
    byLink.set(linkId, hashes);
  }
  await store.shadows.recordMany(tenantId, direction, byLink);
}
