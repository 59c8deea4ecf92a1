/**
 * HubSpot app webhook deliveries → the record keys the queue carries. Pure: no I/O.
 *
 * A delivery is a JSON array of events. We keep only what identifies a change (portal, object type, id,
 * who made it); the worker re-reads the record, so property values in the event are never trusted.
 */

export type HubSpotObject = 'contacts' | 'companies' | 'deals';

export interface HubSpotChange {
  portalId: number;
  object: HubSpotObject;
  objectId: string;
  /** Stable id for dropping re-deliveries of the same event. */
  eventKey: string;
  occurredAt: number;
  kind: 'creation' | 'propertyChange' | 'deletion' | 'associationChange';
  changeSource?: string;
  sourceId?: string;
  /** For associationChange: the other side, which also needs its links re-checked. */
  related?: { object: HubSpotObject; objectId: string };
}

export class WebhookPayloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookPayloadError';
  }
}

const OBJECTS: Record<string, HubSpotObject> = { contact: 'contacts', company: 'companies', deal: 'deals' };
const TYPE_IDS: Record<string, HubSpotObject> = { '0-1': 'contacts', '0-2': 'companies', '0-3': 'deals' };
const KINDS = new Set(['creation', 'propertyChange', 'deletion', 'associationChange']);

/** `CONTACT_TO_COMPANY` → the object on the far side. */
function associationTarget(associationType: unknown): HubSpotObject | undefined {
  if (typeof associationType !== 'string') return undefined;
  const to = associationType.split('_TO_')[1]?.toLowerCase();
  return to ? OBJECTS[to] : undefined;
}

/**
 * Parses a delivery. Events for objects we do not sync (tickets, products, …) are skipped, not errors;
 * a body that is not an array of events is an error the sender must fix.
 */
export function parseHubSpotEvents(body: unknown): HubSpotChange[] {
  if (!Array.isArray(body)) throw new WebhookPayloadError('Expected a JSON array of HubSpot webhook events.');
  const changes: HubSpotChange[] = [];
  body.forEach((raw, index) => {
    if (typeof raw !== 'object' || raw === null) throw new WebhookPayloadError(`Event ${index} is not an object.`);
    const e = raw as Record<string, unknown>;
    const [prefix, kind] = String(e.subscriptionType ?? '').split('.');
    if (!KINDS.has(kind)) return;
    const object = prefix === 'object' ? TYPE_IDS[String(e.objectTypeId)] : OBJECTS[prefix];
    if (!object) return;
    const portalId = Number(e.portalId);
    const objectId = e.objectId ?? e.fromObjectId;
    if (!Number.isSafeInteger(portalId) || portalId <= 0) throw new WebhookPayloadError(`Event ${index} has no valid portalId.`);
    if (objectId === undefined || objectId === null || !/^\d+$/.test(String(objectId))) {
      throw new WebhookPayloadError(`Event ${index} has no valid objectId.`);
    }
    const change: HubSpotChange = {
      portalId,
      object,
      objectId: String(objectId),
      eventKey: `${portalId}:${String(e.eventId ?? '')}:${String(e.subscriptionId ?? '')}:${String(e.occurredAt ?? '')}`,
      occurredAt: Number(e.occurredAt) || Date.now(),
      kind: kind as HubSpotChange['kind'],
      changeSource: typeof e.changeSource === 'string' ? e.changeSource : undefined,
      // Usually a string ("userId:1", an app id), but accept a number too: a dropped sourceId would let our own
      // app's writes through the first echo layer.
      sourceId: typeof e.sourceId === 'string' || typeof e.sourceId === 'number' ? String(e.sourceId) : undefined,
    };
    if (kind === 'associationChange') {
      const target = associationTarget(e.associationType);
      if (target && e.toObjectId !== undefined && e.toObjectId !== null && /^\d+$/.test(String(e.toObjectId))) change.related = { object: target, objectId: String(e.toObjectId) };
    }
    changes.push(change);
  });
  return changes;
}
