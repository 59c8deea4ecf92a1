import type { DynamicsWebApi } from 'dynamics-web-api';
import { ConnectorError } from '../errors.ts';
import { alternateKey, toDataverseError, type DataverseCaller } from './client.ts';
import type { MetadataCache } from './metadata.ts';

/** One write of a `$batch`. Entities are logical names (`contact`); keys a GUID or alternate-key columns. */
export type DataverseWrite =
  | { op: 'create'; entity: string; data: Record<string, unknown> }
  | { op: 'update'; entity: string; id: string; data: Record<string, unknown> }
  | { op: 'upsert'; entity: string; key: string | Record<string, string | number>; data: Record<string, unknown> }
  | { op: 'delete'; entity: string; id: string };

/** Per-item result, in input order. `id` is the record id when Dataverse reported one (creates, upserts). */
export type BatchItemResult = { ok: true; id?: string } | { ok: false; error: ConnectorError };

export interface BatchOptions {
  /**
   * All writes in one change set: all succeed or none does (e.g. a record and the records that reference it).
   * Otherwise each write stands alone (`odata.continue-on-error`): one bad record does not hold up the others.
   */
  atomic?: boolean;
  /** Writes per `$batch` when not atomic. Microsoft advises small batches (tens) in parallel over 1,000-item ones. */
  chunkSize?: number;
}

/** Dataverse's limit per `$batch`. */
export const DATAVERSE_BATCH_LIMIT = 1000;

const describe = (w: DataverseWrite) =>
  w.op === 'create' ? `new ${w.entity}` : w.op === 'upsert' ? `${w.entity}(${typeof w.key === 'string' ? w.key : alternateKey(w.key)})` : `${w.entity}(${w.id})`;

export async function executeBatch(caller: DataverseCaller, metadata: MetadataCache, writes: DataverseWrite[], o: BatchOptions = {}): Promise<BatchItemResult[]> {
  if (!writes.length) return [];
  const sets = new Map<string, string>();
  for (const w of writes) if (!sets.has(w.entity)) sets.set(w.entity, (await metadata.entity(w.entity)).entitySetName);
  if (o.atomic) {
    if (writes.length > DATAVERSE_BATCH_LIMIT) {
      throw new ConnectorError({ system: 'dataverse', operation: '$batch', status: 400, serviceMessage: `an atomic batch holds at most ${DATAVERSE_BATCH_LIMIT} writes, got ${writes.length}` });
    }
    return runChunk(caller, sets, writes, true);
  }
  const size = Math.min(DATAVERSE_BATCH_LIMIT, Math.max(1, o.chunkSize ?? 100));
  const out: BatchItemResult[] = [];
  for (let i = 0; i < writes.length; i += size) out.push(...(await runChunk(caller, sets, writes.slice(i, i + size), false)));
  return out;
}

async function runChunk(caller: DataverseCaller, sets: Map<string, string>, writes: DataverseWrite[], atomic: boolean): Promise<BatchItemResult[]> {
  const operation = atomic ? '$batch (change set)' : '$batch';
  let results: unknown[];
  try {
    results = await caller.call(operation, `${writes.length} writes`, async (api) => {
      // A fresh instance per attempt: dynamics-web-api keeps "batch mode" as instance state, and other calls
      // on the shared instance must not slip into this batch.
      const batch = api.initializeInstance();
      batch.startBatch();
      for (const w of writes) queue(batch, w, sets.get(w.entity)!, atomic).catch(() => undefined);
      return batch.executeBatch(atomic ? {} : { continueOnError: true });
    });
  } catch (err) {
    const e = toDataverseError(err, operation);
    if (!atomic || e.retryable || e.kind === 'auth') throw e;
    // The change set failed and was rolled back: every write failed with it; name the cause on each.
    return writes.map((w) => ({ ok: false, error: new ConnectorError({
      system: 'dataverse', operation, record: describe(w), status: e.status, code: e.code, kind: e.kind,
      serviceMessage: `change set rolled back: ${e.serviceMessage}`, cause: e,
    }) }));
  }
  return writes.map((w, i) => {
    const r = results[i];
    if (r instanceof Error || (r && typeof r === 'object' && typeof (r as { status?: unknown }).status === 'number' && (r as { status: number }).status >= 400)) {
      return { ok: false, error: toDataverseError(r, `${w.op} in $batch`, describe(w)) };
    }
    return typeof r === 'string' ? { ok: true, id: r } : { ok: true };
  });
}

function queue(api: DynamicsWebApi, w: DataverseWrite, collection: string, inChangeSet: boolean): Promise<unknown> {
  switch (w.op) {
    case 'create':
      return api.create({ collection, data: w.data, inChangeSet });
    case 'update':
      // If-Match: * makes it update-only: a vanished record is an error, not a silent re-create.
      return api.update({ collection, key: w.id, data: w.data, ifmatch: '*', inChangeSet });
    case 'upsert':
      return api.upsert({ collection, key: typeof w.key === 'string' ? w.key : alternateKey(w.key), data: w.data, inChangeSet });
    case 'delete':
      return api.deleteRecord({ collection, key: w.id, inChangeSet });
  }
}
