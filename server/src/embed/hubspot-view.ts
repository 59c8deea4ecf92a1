import type { EmbedHubSpotRecord, EmbedOwner } from '../../../dynamics-solution/webresource/embed-contract.ts';
import type { HubSpotConnector } from '../connectors/hubspot/connector.ts';
import type { HubSpotProperty } from '../connectors/hubspot/types.ts';
import { ACTIVITY_OBJECTS, activityEntry, analyticsOf, ANALYTICS_PROPERTIES, newestFirst, websiteEntries } from './activity.ts';

/**
 * The HubSpot half of the tab, read live: the record with its calculated properties and the ids of its
 * activities (one read), the newest activities of each kind (one batch read per kind that has any), labels
 * from the cached property metadata and the owner from the cached owners directory.
 */

export type HubSpotReader = Pick<HubSpotConnector, 'portalId' | 'getObject' | 'batchRead' | 'getProperties' | 'findOwnerById' | 'listOwners'>;

/** Object type ids in HubSpot's record URLs. */
const OBJECT_TYPE_IDS: Record<string, string> = { contacts: '0-1', companies: '0-2', deals: '0-3' };

/**
 * Activity ids grow over time, so the highest ids of each kind are the newest: reading those bounds the
 * cost of a contact with years of history to one batch call per kind.
 */
const ACTIVITIES_READ_PER_KIND = 25;

/** `https://app.hubspot.com/contacts/<portal>/record/<type id>/<id>`; HubSpot redirects EU portals itself. */
export function hubspotRecordUrl(portalId: string | number, object: string, id: string): string {
  return `https://app.hubspot.com/contacts/${encodeURIComponent(String(portalId))}/record/${OBJECT_TYPE_IDS[object] ?? object}/${encodeURIComponent(id)}`;
}

/** The option label of an enumeration value (labels are what people recognise); the value when unknown. */
function label(props: Map<string, HubSpotProperty>, name: string, value: string | null | undefined): string | null {
  if (!value) return null;
  return props.get(name)?.options.find((o) => o.value === value)?.label ?? value;
}

async function ownerOf(hubspot: HubSpotReader, ownerId: string | null | undefined): Promise<EmbedOwner | undefined> {
  if (!ownerId) return undefined;
  // The directory is cached; an owner added since then is worth one fresh read.
  const owner = (await hubspot.findOwnerById(ownerId)) ?? (await hubspot.listOwners({ refresh: true })).find((o) => o.id === ownerId);
  if (!owner) return undefined;
  const name = [owner.firstName, owner.lastName].filter(Boolean).join(' ').trim();
  return { name: name || owner.email || `Owner ${owner.id}`, email: owner.email ?? '' };
}

/** Null when the HubSpot record no longer exists (deleted or merged away). */
export async function readHubSpotRecord(hubspot: HubSpotReader, object: string, id: string): Promise<EmbedHubSpotRecord | null> {
  const record = await hubspot.getObject(object, id, {
    properties: ['lifecyclestage', 'hs_lead_status', 'hubspot_owner_id', ...ANALYTICS_PROPERTIES],
    associations: Object.keys(ACTIVITY_OBJECTS),
  });
  if (!record) return null;
  const p = record.properties;
  const [metadata, owner, activities] = await Promise.all([
    hubspot.getProperties(object),
    ownerOf(hubspot, p.hubspot_owner_id),
    Promise.all(Object.entries(ACTIVITY_OBJECTS).map(async ([kind, spec]) => {
      const ids = (record.associations?.[kind] ?? []).sort((a, b) => Number(b) - Number(a)).slice(0, ACTIVITIES_READ_PER_KIND);
      if (!ids.length) return [];
      const { records } = await hubspot.batchRead(kind, ids, ['hs_timestamp', spec.title]);
      return records.map((r) => activityEntry(kind, r.properties));
    })),
  ]);
  return {
    id: record.id,
    url: hubspotRecordUrl(hubspot.portalId, object, record.id),
    lifecyclestage: label(metadata, 'lifecyclestage', p.lifecyclestage),
    hs_lead_status: label(metadata, 'hs_lead_status', p.hs_lead_status),
    ...(owner ? { owner } : {}),
    recentEngagement: newestFirst([...activities.flat().filter((e) => e !== null), ...websiteEntries(p)]),
    analytics: analyticsOf(p),
  };
}
