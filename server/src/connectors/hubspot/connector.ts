import { ConnectorError } from '../errors.ts';
import { batchItemError, HubSpotCaller, toHubSpotError, type HubSpotCallerOptions } from './client.ts';
import { OwnerDirectory } from './owners.ts';
import { PropertyCatalog } from './properties.ts';
import { chunks, toRecord } from './records.ts';
import { searchEquals, searchModifiedSince, type ModifiedCursor, type ModifiedPage, type SearchModifiedOptions } from './search.ts';
import type {
  AssociatedObject, BatchOutcome, CreateInput, EnumerationOption, HubSpotObjectType, HubSpotOwner, HubSpotProperty,
  HubSpotRecord, PropertyDefinition, UpdateInput, UpsertInput,
} from './types.ts';

/** HubSpot's batch endpoints take at most 100 inputs. */
export const HUBSPOT_BATCH_LIMIT = 100;

/** The caller's options (portal, base path, tokens, budget keyed `hubspot:<portalId>[:search]`, observer, retry) plus caches. */
export interface HubSpotConnectorOptions extends HubSpotCallerOptions {
  /** Owners directory cache lifetime (default 10 minutes). */
  ownersTtlMs?: number;
}

type RawBatch = { results?: unknown[]; errors?: Array<{ category?: string; message?: string; context?: Record<string, string[]>; errors?: Array<{ message?: string }> }> };

/**
 * One HubSpot portal, as the sync needs it: fresh reads, batch writes with per-input outcomes, modified-since
 * polling, property metadata for the dropdown logic, owners, associations. Every call goes through the portal's
 * rate budget and the shared retry loop (see client.ts for why the api-client's own are off).
 */
export class HubSpotConnector {
  readonly portalId: string | number;
  private readonly caller: HubSpotCaller;
  private readonly propertyCatalog: PropertyCatalog;
  private readonly owners: OwnerDirectory;

  constructor(o: HubSpotConnectorOptions) {
    this.portalId = o.portalId;
    this.caller = new HubSpotCaller(o);
    this.propertyCatalog = new PropertyCatalog(this.caller);
    this.owners = new OwnerDirectory(this.caller, o.ownersTtlMs ?? 10 * 60_000);
  }

  // ---- objects ----

  /** A record by id (or by a unique property with `idProperty`), or null when it does not exist / is archived. */
  async getObject(objectType: HubSpotObjectType, id: string, o: { properties?: string[]; associations?: string[]; idProperty?: string } = {}): Promise<HubSpotRecord | null> {
    try {
      return await this.caller.call(`read ${objectType}`, `${objectType}/${id}`, async (client) =>
        toRecord(await client.crm.objects.basicApi.getById(objectType, id, o.properties, undefined, o.associations, false, o.idProperty)));
    } catch (err) {
      if (err instanceof ConnectorError && err.status === 404) return null;
      throw err;
    }
  }

  /** Many records by id, 100 per call; ids HubSpot does not know are listed in `missing`. */
  async batchRead(objectType: HubSpotObjectType, ids: string[], properties: string[] = [], idProperty?: string): Promise<{ records: HubSpotRecord[]; missing: string[] }> {
    const records: HubSpotRecord[] = [];
    const missing: string[] = [];
    for (const chunk of chunks([...new Set(ids)], HUBSPOT_BATCH_LIMIT)) {
      const res = await this.caller.call(`batch read ${objectType}`, `${chunk.length} ${objectType}`, async (client, ctx) => {
        const r = (await client.crm.objects.batchApi.read(objectType, { inputs: chunk.map((id) => ({ id })), properties, propertiesWithHistory: [], idProperty } as never)) as RawBatch;
        if (r.errors?.length) ctx.status = 207;
        return r;
      });
      records.push(...(res.results ?? []).map((r) => toRecord(r as never)));
      for (const e of res.errors ?? []) missing.push(...(e.context?.ids ?? []));
    }
    return { records, missing };
  }

  async createObject(objectType: HubSpotObjectType, input: CreateInput): Promise<HubSpotRecord> {
    return this.caller.call(`create ${objectType}`, describeProps(objectType, input.properties), async (client, ctx) => {
      ctx.status = 201;
      return toRecord(await client.crm.objects.basicApi.create(objectType, { properties: input.properties, associations: toAssociations(input) } as never));
    });
  }

  async updateObject(objectType: HubSpotObjectType, id: string, properties: Record<string, string>, idProperty?: string): Promise<HubSpotRecord> {
    return this.caller.call(`update ${objectType}`, `${objectType}/${id}`, async (client) =>
      toRecord(await client.crm.objects.basicApi.update(objectType, id, { properties }, idProperty)));
  }

  /** Idempotent write by a unique property (`new` tells whether HubSpot created the record). */
  batchUpsert(objectType: HubSpotObjectType, inputs: UpsertInput[]): Promise<BatchOutcome[]> {
    return this.batchWrite('upsert', objectType, inputs, (i) => `${objectType} ${i.idProperty}=${i.id}`,
      (client, chunk) => client.crm.objects.batchApi.upsert(objectType, { inputs: chunk.map((i, n) => ({ ...i, objectWriteTraceId: String(n) })) }));
  }

  batchCreate(objectType: HubSpotObjectType, inputs: CreateInput[]): Promise<BatchOutcome[]> {
    return this.batchWrite('create', objectType, inputs, (i) => describeProps(objectType, i.properties),
      (client, chunk) => client.crm.objects.batchApi.create(objectType, {
        inputs: chunk.map((i, n) => ({ properties: i.properties, associations: toAssociations(i), objectWriteTraceId: String(n) })),
      } as never));
  }

  batchUpdate(objectType: HubSpotObjectType, inputs: UpdateInput[]): Promise<BatchOutcome[]> {
    return this.batchWrite('update', objectType, inputs, (i) => `${objectType}/${i.id}`,
      (client, chunk) => client.crm.objects.batchApi.update(objectType, { inputs: chunk.map((i, n) => ({ ...i, objectWriteTraceId: String(n) })) }));
  }

  /**
   * Chunks to 100 and returns one outcome per input, in input order. Each input carries its index as
   * `objectWriteTraceId`, which makes HubSpot report failures per input (207) instead of failing the batch;
   * results carry no trace id, so successes are matched to the remaining inputs in order (HubSpot keeps it).
   * A batch refused as a whole (4xx) becomes that error on every input of the chunk; 429/5xx are retried.
   */
  private async batchWrite<I>(verb: string, objectType: HubSpotObjectType, inputs: I[], describe: (i: I) => string,
    send: (client: import('@hubspot/api-client').Client, chunk: I[]) => Promise<unknown>): Promise<BatchOutcome[]> {
    const operation = `batch ${verb} ${objectType}`;
    const outcomes: BatchOutcome[] = [];
    for (const chunk of chunks(inputs, HUBSPOT_BATCH_LIMIT)) {
      let res: RawBatch;
      try {
        res = await this.caller.call(operation, `${chunk.length} ${objectType}`, async (client, ctx) => {
          const r = (await send(client, chunk)) as RawBatch;
          ctx.status = r.errors?.length ? 207 : verb === 'create' ? 201 : 200;
          return r;
        });
      } catch (err) {
        const e = toHubSpotError(err, operation);
        if (e.retryable || e.kind === 'auth') throw e; // the job as a whole should be retried / reconnected
        for (const input of chunk) outcomes.push({ ok: false, error: new ConnectorError({ ...e, record: describe(input), kind: e.kind, cause: e }) });
        continue;
      }
      const failed = new Map<number, ConnectorError>();
      for (const item of res.errors ?? []) {
        for (const trace of item.context?.objectWriteTraceId ?? []) {
          const n = Number(trace);
          if (Number.isInteger(n) && chunk[n] !== undefined) failed.set(n, batchItemError(item, operation, describe(chunk[n])));
        }
      }
      const results = [...(res.results ?? [])] as Array<{ _new?: boolean; new?: boolean }>;
      chunk.forEach((input, n) => {
        const error = failed.get(n);
        if (error) return outcomes.push({ ok: false, error });
        const raw = results.shift();
        if (!raw) {
          return outcomes.push({ ok: false, error: new ConnectorError({ system: 'hubspot', operation, record: describe(input), status: 207, serviceMessage: 'HubSpot reported neither a result nor an error for this input' }) });
        }
        const record = toRecord(raw as never);
        const isNew = raw._new ?? raw.new;
        outcomes.push(isNew === undefined ? { ok: true, id: record.id, record } : { ok: true, id: record.id, record, isNew });
      });
    }
    return outcomes;
  }

  // ---- search ----

  /** Pages of records modified at/after the cursor; persist each page's cursor after handling it. */
  searchModifiedSince(objectType: HubSpotObjectType, cursor: ModifiedCursor | number, options?: SearchModifiedOptions): AsyncGenerator<ModifiedPage> {
    return searchModifiedSince(this.caller, objectType, cursor, options);
  }

  /** Records whose property equals `value` (exact match, as HubSpot search compares). */
  searchEquals(objectType: HubSpotObjectType, propertyName: string, value: string, properties?: string[], limit?: number): Promise<HubSpotRecord[]> {
    return searchEquals(this.caller, objectType, propertyName, value, properties, limit);
  }

  // ---- properties ----

  getProperties(objectType: HubSpotObjectType, o: { refresh?: boolean } = {}): Promise<Map<string, HubSpotProperty>> {
    return this.propertyCatalog.all(objectType, o.refresh ?? false);
  }

  async getProperty(objectType: HubSpotObjectType, name: string, o: { refresh?: boolean } = {}): Promise<HubSpotProperty | undefined> {
    return (await this.getProperties(objectType, o)).get(name);
  }

  refreshProperties(objectType?: HubSpotObjectType): Promise<void> {
    return this.propertyCatalog.refresh(objectType);
  }

  addEnumerationOption(objectType: HubSpotObjectType, property: string, label: string, value = label): Promise<EnumerationOption> {
    return this.propertyCatalog.addOption(objectType, property, label, value);
  }

  ensureProperties(objectType: HubSpotObjectType, group: { name: string; label: string }, defs: PropertyDefinition[]): Promise<{ groupCreated: boolean; created: string[] }> {
    return this.propertyCatalog.ensure(objectType, group, defs);
  }

  // ---- owners ----

  listOwners(o: { refresh?: boolean } = {}): Promise<HubSpotOwner[]> {
    return this.owners.all(o.refresh ?? false);
  }

  findOwnerByEmail(email: string): Promise<HubSpotOwner | undefined> {
    return this.owners.byEmail(email);
  }

  findOwnerById(id: string): Promise<HubSpotOwner | undefined> {
    return this.owners.byId(id);
  }

  // ---- associations ----

  /** All associations of one record to one object type (v4, every page). */
  async getAssociations(fromType: HubSpotObjectType, id: string, toType: HubSpotObjectType): Promise<AssociatedObject[]> {
    const out: AssociatedObject[] = [];
    let after: string | undefined;
    do {
      const page = await this.caller.call(`read associations ${fromType}→${toType}`, `${fromType}/${id}`, (client) =>
        client.crm.associations.v4.basicApi.getPage(fromType, id, toType, after, 500));
      for (const r of page.results) {
        out.push({ toObjectId: String(r.toObjectId), types: r.associationTypes.map((t) => ({ category: String(t.category), typeId: t.typeId, label: t.label ?? null })) });
      }
      after = page.paging?.next?.after;
    } while (after);
    return out;
  }

  /**
   * The associations of many records to one object type, 100 records per call (v4 batch read). Records with
   * none are absent from the map. Only each record's first page (500) is read: more than 500 associated
   * companies or contacts on one record is beyond what a lookup column can hold anyway.
   */
  async batchGetAssociations(fromType: HubSpotObjectType, toType: HubSpotObjectType, ids: string[]): Promise<Map<string, AssociatedObject[]>> {
    const out = new Map<string, AssociatedObject[]>();
    const operation = `batch read associations ${fromType}→${toType}`;
    for (const chunk of chunks([...new Set(ids)], HUBSPOT_BATCH_LIMIT)) {
      const res = await this.caller.call(operation, `${chunk.length} ${fromType}`, async (client, ctx) => {
        const r = (await client.crm.associations.v4.batchApi.getPage(fromType, toType, { inputs: chunk.map((id) => ({ id })) } as never)) as RawBatch;
        // "No associations found" comes back as per-input errors; that is an empty list, not a failure.
        if (r.errors?.length) ctx.status = 207;
        return r;
      });
      for (const raw of (res.results ?? []) as Array<{ _from?: { id: string }; from?: { id: string }; to: Array<{ toObjectId: number | string; associationTypes: Array<{ category: string; typeId: number; label?: string | null }> }> }>) {
        const from = String((raw._from ?? raw.from)?.id);
        out.set(from, raw.to.map((t) => ({ toObjectId: String(t.toObjectId), types: t.associationTypes.map((a) => ({ category: String(a.category), typeId: a.typeId, label: a.label ?? null })) })));
      }
    }
    return out;
  }

  /** HubSpot's default (unlabelled, primary where applicable) association for each pair, 100 per call. */
  async associateDefault(fromType: HubSpotObjectType, toType: HubSpotObjectType, pairs: Array<{ fromId: string; toId: string }>): Promise<{ errors: ConnectorError[] }> {
    const errors: ConnectorError[] = [];
    const operation = `associate ${fromType}→${toType}`;
    for (const chunk of chunks(pairs, HUBSPOT_BATCH_LIMIT)) {
      const res = await this.caller.call(operation, `${chunk.length} pairs`, async (client, ctx) => {
        const r = (await client.crm.associations.v4.batchApi.createDefault(fromType, toType, {
          inputs: chunk.map((p) => ({ _from: { id: p.fromId }, to: { id: p.toId } })),
        })) as RawBatch;
        if (r.errors?.length) ctx.status = 207;
        return r;
      });
      for (const e of res.errors ?? []) errors.push(batchItemError(e, operation, JSON.stringify(e.context ?? {})));
    }
    return { errors };
  }
}

function toAssociations(input: CreateInput) {
  return (input.associations ?? []).map((a) => ({
    to: { id: a.toId }, types: [{ associationCategory: a.associationCategory ?? 'HUBSPOT_DEFINED', associationTypeId: a.associationTypeId }],
  }));
}

/** How a not-yet-created record is named in errors: by its most identifying property. */
function describeProps(objectType: string, p: Record<string, string>): string {
  for (const key of ['email', 'domain', 'name', 'dealname', 'dynamics_id']) if (p[key]) return `${objectType} ${key}=${p[key]}`;
  return `new ${objectType}`;
}
