import { ConnectorError } from '../errors.ts';
import type { ApiCallObserver, RetryPolicy } from '../http-retry.ts';
import type { RateBudget } from '../rate-budget.ts';
import { executeBatch, type BatchItemResult, type BatchOptions, type DataverseWrite } from './batch.ts';
import { alternateKey, DataverseCaller, stripClientAliases } from './client.ts';
import { MetadataCache, type AttributeInfo, type EntityInfo, type OptionSetInfo } from './metadata.ts';

export type DataverseRecord = Record<string, unknown>;

export interface DataverseConnectorOptions {
  orgUrl: string;
  tokens: { getToken(): Promise<string> };
  budget?: RateBudget;
  observer?: ApiCallObserver;
  retry?: Partial<RetryPolicy>;
}

export interface QueryOptions {
  select?: string[];
  filter?: string;
  orderBy?: string[];
  top?: number;
  /** `odata.maxpagesize` (≤ 5,000). */
  pageSize?: number;
  /** Add `Prefer: odata.include-annotations="*"` (formatted values, lookup targets). Default true. */
  annotations?: boolean;
}

export interface ChangeSet {
  /** Rows created or updated since the previous link (all rows on the initial read), with the selected columns. */
  changed: DataverseRecord[];
  changedIds: string[];
  deletedIds: string[];
  /** Store it; pass it next time. Expires after the org's change-tracking retention (7 days by default) → resync. */
  deltaLink: string;
}

export interface SdkStep {
  id: string;
  name: string;
  enabled: boolean;
  statecode: number;
  statuscode: number;
}

export interface ServiceEndpoint {
  id: string;
  name: string;
  url: string | null;
  authtype?: number;
  contract?: number;
}

const ANNOTATIONS = '*';

/**
 * One Dataverse organization, as the sync needs it: fresh reads, idempotent writes (upsert by the
 * `<prefix>_hubspotid` alternate key), `$batch`, metadata for mapping, change tracking as the safety net,
 * the application user (echo suppression), and the SDK steps / service endpoint our solution registers.
 * Entities are logical names (`contact`); entity set names come from metadata.
 */
export class DataverseConnector {
  readonly orgUrl: string;
  private readonly caller: DataverseCaller;
  readonly metadata: MetadataCache;
  private whoAmIResult?: Promise<{ userId: string; businessUnitId: string; organizationId: string }>;

  constructor(o: DataverseConnectorOptions) {
    this.caller = new DataverseCaller(o);
    this.orgUrl = this.caller.orgUrl;
    this.metadata = new MetadataCache(this.caller);
  }

  private async set(entity: string): Promise<string> {
    return (await this.metadata.entity(entity)).entitySetName;
  }

  // ---- records ----

  /** A record by id (or alternate key), with formatted values and lookup annotations; null when missing. */
  async retrieve(entity: string, id: string | Record<string, string | number>, select?: string[]): Promise<DataverseRecord | null> {
    const key = typeof id === 'string' ? id : alternateKey(id);
    const collection = await this.set(entity);
    try {
      const row = await this.caller.call(`read ${entity}`, `${entity}(${key})`, (api) =>
        api.retrieve({ collection, key, select, includeAnnotations: ANNOTATIONS }));
      return stripClientAliases(row as DataverseRecord);
    } catch (err) {
      if (err instanceof ConnectorError && err.status === 404) return null;
      throw err;
    }
  }

  /** Pages of rows (following `@odata.nextLink` verbatim, as Dataverse requires). */
  async *retrieveMultiple(entity: string, q: QueryOptions = {}): AsyncGenerator<DataverseRecord[]> {
    const collection = await this.set(entity);
    let next: string | undefined;
    do {
      const link = next;
      const res = await this.caller.call(`query ${entity}`, q.filter ? `${entity} where ${q.filter}` : entity, (api) => api.retrieveMultiple({
        collection, select: q.select, filter: q.filter, orderBy: q.orderBy, top: q.top, maxPageSize: q.pageSize,
        includeAnnotations: q.annotations === false ? undefined : ANNOTATIONS,
      }, link));
      yield res.value.map((r: DataverseRecord) => stripClientAliases(r));
      next = res.oDataNextLink;
    } while (next);
  }

  async retrieveAll(entity: string, q: QueryOptions = {}): Promise<DataverseRecord[]> {
    const out: DataverseRecord[] = [];
    for await (const page of this.retrieveMultiple(entity, q)) out.push(...page);
    return out;
  }

  /**
   * Many records by id, read like `retrieve` (all columns, annotations) but one query per 100 ids, so a group
   * of queued jobs costs one call of the org's budget instead of one each. The map is keyed by lower-case id;
   * ids that do not exist are absent.
   */
  async retrieveByIds(entity: string, ids: string[]): Promise<Map<string, DataverseRecord>> {
    const { primaryIdAttribute } = await this.metadata.entity(entity);
    const out = new Map<string, DataverseRecord>();
    const unique = [...new Set(ids.map((i) => i.toLowerCase()))];
    for (let i = 0; i < unique.length; i += 100) {
      const values = unique.slice(i, i + 100).map((id) => `'${id.replace(/'/g, "''")}'`).join(',');
      const rows = await this.retrieveAll(entity, { filter: `Microsoft.Dynamics.CRM.In(PropertyName='${primaryIdAttribute}',PropertyValues=[${values}])` });
      for (const r of rows) out.set(String(r[primaryIdAttribute]).toLowerCase(), r);
    }
    return out;
  }

  /** Creates a record; returns its id. Not idempotent: prefer `upsertByKey` for synced records. */
  async create(entity: string, data: DataverseRecord): Promise<string> {
    const collection = await this.set(entity);
    return this.caller.call(`create ${entity}`, `new ${entity}`, async (api, ctx) => {
      ctx.status = 204;
      return (await api.create({ collection, data })) as string;
    });
  }

  /** Updates an existing record only (`If-Match: *`): a deleted record is a 404 error, never re-created. */
  async update(entity: string, id: string, data: DataverseRecord): Promise<void> {
    const collection = await this.set(entity);
    await this.caller.call(`update ${entity}`, `${entity}(${id})`, async (api, ctx) => {
      ctx.status = 204;
      await api.update({ collection, key: id, data, ifmatch: '*' });
    });
  }

  /**
   * Idempotent write by alternate key, e.g. `upsertByKey('contact', { hds_hubspotid: '123' }, data)` →
   * `PATCH /contacts(hds_hubspotid='123')`: creates the record the first time, updates it afterwards.
   */
  async upsertByKey(entity: string, key: Record<string, string | number>, data: DataverseRecord): Promise<{ id?: string }> {
    const collection = await this.set(entity);
    const k = alternateKey(key);
    const id = await this.caller.call(`upsert ${entity}`, `${entity}(${k})`, async (api, ctx) => {
      ctx.status = 204;
      return api.upsert({ collection, key: k, data });
    });
    return typeof id === 'string' ? { id } : {};
  }

  async delete(entity: string, id: string): Promise<void> {
    const collection = await this.set(entity);
    await this.caller.call(`delete ${entity}`, `${entity}(${id})`, async (api, ctx) => {
      ctx.status = 204;
      await api.deleteRecord({ collection, key: id });
    });
  }

  /** Writes in `$batch`es; one result per write, in order (see BatchOptions for atomic vs continue-on-error). */
  executeBatch(writes: DataverseWrite[], options?: BatchOptions): Promise<BatchItemResult[]> {
    return executeBatch(this.caller, this.metadata, writes, options);
  }

  // ---- metadata ----

  getEntity(entity: string): Promise<EntityInfo> {
    return this.metadata.entity(entity);
  }

  getAttributes(entity: string, o: { refresh?: boolean } = {}): Promise<Map<string, AttributeInfo>> {
    return this.metadata.attributesOf(entity, o.refresh);
  }

  getOptionSets(entity: string, o: { refresh?: boolean } = {}): Promise<Map<string, OptionSetInfo>> {
    return this.metadata.optionSetsOf(entity, o.refresh);
  }

  refreshMetadata(entity?: string): void {
    this.metadata.refresh(entity);
  }

  ensureHubSpotIdColumn(entity: string, prefix = 'hds') {
    return this.metadata.ensureHubSpotIdColumn(entity, prefix);
  }

  // ---- change tracking ----

  /**
   * Without `deltaLink`: the initial tracked read (every row) and the first delta link. With it: rows changed
   * and ids deleted since, and the next link. `$filter/$orderby/$top` are not allowed with change tracking.
   */
  async trackChanges(entity: string, o: { select?: string[]; deltaLink?: string } = {}): Promise<ChangeSet> {
    const info = await this.metadata.entity(entity);
    const select = o.select ? [...new Set([info.primaryIdAttribute, ...o.select])] : [info.primaryIdAttribute];
    const out: ChangeSet = { changed: [], changedIds: [], deletedIds: [], deltaLink: '' };
    let link = o.deltaLink;
    let first = !o.deltaLink;
    for (;;) {
      const current = link;
      const res = await this.caller.call(first ? `start change tracking of ${entity}` : `read changes of ${entity}`, entity, (api) =>
        api.retrieveMultiple({ collection: info.entitySetName, select, trackChanges: true }, current));
      first = false;
      for (const row of res.value as DataverseRecord[]) {
        if (row.reason === 'deleted' && typeof row.id === 'string') {
          out.deletedIds.push(row.id);
          continue;
        }
        out.changed.push(stripClientAliases(row));
        out.changedIds.push(String(row[info.primaryIdAttribute]));
      }
      if (res.oDataNextLink) {
        link = res.oDataNextLink;
        continue;
      }
      if (!res.oDataDeltaLink) {
        throw new ConnectorError({ system: 'dataverse', operation: `read changes of ${entity}`, status: 200, serviceMessage: 'no delta link returned; is change tracking enabled for this table?' });
      }
      out.deltaLink = res.oDataDeltaLink;
      return out;
    }
  }

  // ---- identity ----

  /** The application user the server runs as; Dataverse events it initiated are our own echoes. */
  async whoAmI(): Promise<{ userId: string; businessUnitId: string; organizationId: string }> {
    this.whoAmIResult ??= this.caller.call('WhoAmI', undefined, async (api) => {
      const r = await api.callFunction<{ UserId: string; BusinessUnitId: string; OrganizationId: string }>({ functionName: 'WhoAmI' });
      return { userId: r.UserId, businessUnitId: r.BusinessUnitId, organizationId: r.OrganizationId };
    });
    this.whoAmIResult.catch(() => { this.whoAmIResult = undefined; });
    return this.whoAmIResult;
  }

  // ---- SDK steps and service endpoints (sandbox → production procedure) ----

  async listSteps(filter?: string): Promise<SdkStep[]> {
    const rows = await this.retrieveAll('sdkmessageprocessingstep', { select: ['name', 'statecode', 'statuscode'], filter, annotations: false });
    return rows.map(toStep);
  }

  async getStep(id: string): Promise<SdkStep | null> {
    const row = await this.retrieve('sdkmessageprocessingstep', id, ['name', 'statecode', 'statuscode']);
    return row ? toStep(row) : null;
  }

  /** Enabled = state 0 / status 1, disabled = state 1 / status 2 (sdkmessageprocessingstep). */
  setStepEnabled(id: string, enabled: boolean): Promise<void> {
    return this.update('sdkmessageprocessingstep', id, enabled ? { statecode: 0, statuscode: 1 } : { statecode: 1, statuscode: 2 });
  }

  async getServiceEndpoint(id: string): Promise<ServiceEndpoint | null> {
    const row = await this.retrieve('serviceendpoint', id, ['name', 'url', 'authtype', 'contract']);
    if (!row) return null;
    return { id: String(row.serviceendpointid), name: String(row.name ?? ''), url: (row.url as string | null) ?? null, authtype: row.authtype as number | undefined, contract: row.contract as number | undefined };
  }

  /** Points the webhook at another server or rotates its key. `authvalue` is write-only in Dataverse. */
  updateServiceEndpoint(id: string, patch: { url?: string; authvalue?: string }): Promise<void> {
    const data: DataverseRecord = {};
    if (patch.url !== undefined) data.url = patch.url;
    if (patch.authvalue !== undefined) data.authvalue = patch.authvalue;
    return this.update('serviceendpoint', id, data);
  }
}

function toStep(r: DataverseRecord): SdkStep {
  const statecode = Number(r.statecode);
  return { id: String(r.sdkmessageprocessingstepid), name: String(r.name ?? ''), enabled: statecode === 0, statecode, statuscode: Number(r.statuscode) };
}
