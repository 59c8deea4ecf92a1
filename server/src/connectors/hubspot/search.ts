import type { HubSpotCaller } from './client.ts';
import { toRecord } from './records.ts';
import type { HubSpotObjectType, HubSpotRecord } from './types.ts';

/**
 * "Modified since" polling over the search API with a `(lastmodified, hs_object_id)` keyset cursor.
 *
 * Offset paging (`after`) breaks twice here: search refuses to page past 10,000 results, and a bulk update
 * can give thousands of records one timestamp, so "since the last timestamp seen" loops forever or skips
 * (airbyte#43317). HubSpot search allows one sort, so the cursor is walked in two alternating phases that
 * each need only one: (1) the records *at* `since` with `hs_object_id > afterId`, sorted by id; (2) the
 * records *after* `since`, sorted by timestamp — of a full page, only those strictly before its last
 * timestamp are final (later ties may be on the next page), and that last timestamp becomes the new
 * `since` for phase 1. Every query starts afresh (`after` is never used), so no result set grows past a page.
 */

export interface ModifiedCursor {
  /** ms epoch; records modified at or after it are wanted. */
  since: number;
  /** Records at exactly `since` with an id ≤ this were already delivered ('0' = none). */
  afterId: string;
}

export interface ModifiedPage {
  records: HubSpotRecord[];
  /** Persist this once `records` are handled; resuming from it never repeats or skips a record. */
  cursor: ModifiedCursor;
}

export const lastModifiedProperty = (objectType: HubSpotObjectType) => (objectType === 'contacts' ? 'lastmodifieddate' : 'hs_lastmodifieddate');

export interface SearchModifiedOptions {
  properties?: string[];
  /** 1..200 (HubSpot's page maximum). */
  pageSize?: number;
}

export async function* searchModifiedSince(
  caller: HubSpotCaller, objectType: HubSpotObjectType, start: ModifiedCursor | number, options: SearchModifiedOptions = {},
): AsyncGenerator<ModifiedPage> {
  const limit = Math.min(200, Math.max(1, options.pageSize ?? 200));
  const lm = lastModifiedProperty(objectType);
  const properties = [...new Set([...(options.properties ?? []), lm, 'hs_object_id'])];
  let cursor: ModifiedCursor = typeof start === 'number' ? { since: start, afterId: '0' } : { ...start };
  const stamp = (r: HubSpotRecord) => Date.parse(r.properties[lm] ?? '') || 0;
  const search = (filters: Array<{ propertyName: string; operator: string; value: string }>, sortBy: string) =>
    caller.call(`search ${objectType} modified since`, undefined, async (client) => {
      const res = await client.crm.objects.searchApi.doSearch(objectType, {
        filterGroups: [{ filters: filters as never }], sorts: [sortBy], properties, limit, after: '0',
      } as never);
      return res.results.map(toRecord);
    }, 'search');

  for (;;) {
    // Phase 1: the rest of the records at exactly `since`, by id.
    for (;;) {
      const page = await search([
        { propertyName: lm, operator: 'EQ', value: String(cursor.since) },
        { propertyName: 'hs_object_id', operator: 'GT', value: cursor.afterId },
      ], 'hs_object_id');
      if (page.length) {
        cursor = { since: cursor.since, afterId: page[page.length - 1].id };
        yield { records: page, cursor };
      }
      if (page.length < limit) break;
    }
    // Phase 2: records after `since`, by timestamp.
    const page = await search([{ propertyName: lm, operator: 'GT', value: String(cursor.since) }], lm);
    if (!page.length) return;
    if (page.length < limit) {
      // Complete: everything newer than `since` is in this page.
      const last = Math.max(...page.map(stamp));
      const atLast = page.filter((r) => stamp(r) === last).map((r) => BigInt(r.id));
      const maxId = atLast.reduce((a, b) => (b > a ? b : a), 0n);
      yield { records: page, cursor: { since: last, afterId: String(maxId) } };
      return;
    }
    const last = stamp(page[page.length - 1]);
    const final = page.filter((r) => stamp(r) < last);
    cursor = { since: last, afterId: '0' };
    if (final.length) yield { records: final, cursor };
  }
}

/** Records whose property equals a value (match lookups: company domain, company name); at most `limit`. */
export async function searchEquals(
  caller: HubSpotCaller, objectType: HubSpotObjectType, propertyName: string, value: string, properties: string[] = [], limit = 10,
): Promise<HubSpotRecord[]> {
  return caller.call(`search ${objectType} by ${propertyName}`, `${propertyName}=${value}`, async (client) => {
    const res = await client.crm.objects.searchApi.doSearch(objectType, {
      filterGroups: [{ filters: [{ propertyName, operator: 'EQ', value }] as never }],
      properties: [...new Set([...properties, propertyName])], limit, after: '0',
    } as never);
    return res.results.map(toRecord);
  }, 'search');
}
