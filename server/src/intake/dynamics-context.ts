/**
 * Dataverse webhook bodies (RemoteExecutionContext JSON) → the record key the queue carries. Pure.
 *
 * Only the identity of the change is kept (table, id, who, which message): the worker re-reads the record,
 * and the payload may be stripped anyway when it exceeds 256 KB (`x-ms-dynamics-msg-size-exceeded`).
 */
import { WebhookPayloadError } from './hubspot-events.ts';

export type DynamicsEntity = 'lead' | 'contact' | 'account' | 'opportunity';
const ENTITIES = new Set<string>(['lead', 'contact', 'account', 'opportunity']);

export interface DynamicsChange {
  entity: DynamicsEntity;
  id: string;
  message: string;
  /** Dedupe key: Dataverse retries a delivery with the same OperationId/RequestId. */
  eventKey: string;
  initiatingUserId?: string;
  depth: number;
  /** Columns named in the Update Target (empty when unknown). */
  changedColumns: string[];
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface KeyValue { key?: unknown; value?: unknown }

function target(context: Record<string, unknown>): { Attributes?: KeyValue[] } | undefined {
  const params = context.InputParameters;
  if (!Array.isArray(params)) return undefined;
  const entry = (params as KeyValue[]).find((p) => p?.key === 'Target');
  return entry && typeof entry.value === 'object' && entry.value !== null ? (entry.value as { Attributes?: KeyValue[] }) : undefined;
}

/**
 * Dataverse retries a delivery with the same OperationId (RequestId on older versions). Without either, a key of
 * just `:<id>:<message>` would make every later Update of the record look like a redelivery and be dropped; fall
 * back to the correlation id + operation time, which differ per operation.
 */
function eventKey(c: Record<string, unknown>, id: string, message: string): string {
  const op = c.OperationId ?? c.RequestId;
  if (typeof op === 'string' && op) return `${op}:${id}:${message}`;
  return `corr:${String(c.CorrelationId ?? '')}:${String(c.OperationCreatedOn ?? '')}:${String(c.Depth ?? '')}:${id}:${message}`;
}

/** Returns null for tables we do not sync (the step may be registered more widely than we need). */
export function parseDynamicsContext(body: unknown, entityHeader?: string): DynamicsChange | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new WebhookPayloadError('Expected a RemoteExecutionContext JSON object.');
  }
  const c = body as Record<string, unknown>;
  const entity = String(c.PrimaryEntityName ?? entityHeader ?? '').toLowerCase();
  if (!entity) throw new WebhookPayloadError('PrimaryEntityName is missing.');
  if (!ENTITIES.has(entity)) return null;
  const id = String(c.PrimaryEntityId ?? '');
  if (!GUID.test(id)) throw new WebhookPayloadError(`PrimaryEntityId ${JSON.stringify(id)} is not a GUID.`);
  const message = String(c.MessageName ?? '');
  if (!message) throw new WebhookPayloadError('MessageName is missing.');
  const attributes = target(c)?.Attributes;
  return {
    entity: entity as DynamicsEntity,
    id: id.toLowerCase(),
    message,
    eventKey: eventKey(c, id.toLowerCase(), message),
    initiatingUserId: typeof c.InitiatingUserId === 'string' ? c.InitiatingUserId.toLowerCase() : undefined,
    depth: Number(c.Depth) || 1,
    changedColumns: Array.isArray(attributes) ? attributes.map((a) => String(a.key)) : [],
  };
}
