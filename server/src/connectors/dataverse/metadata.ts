import { ConnectorError } from '../errors.ts';
import type { DataverseCaller } from './client.ts';

/**
 * Table metadata the sync needs, cached per table because mapping reads it for every record: the entity set
 * name (URLs use it, the sync speaks logical names), attribute types, and the option sets the dropdown logic
 * matches on labels. Refreshed explicitly (a user added an option in Dynamics; we created a column).
 */

export interface EntityInfo {
  logicalName: string;
  entitySetName: string;
  primaryIdAttribute: string;
  primaryNameAttribute: string;
  changeTrackingEnabled?: boolean;
}

export interface AttributeInfo {
  logicalName: string;
  schemaName: string;
  /** `AttributeType`: String, Memo, Integer, Money, Boolean, DateTime, Lookup, Customer, Owner, Picklist, State, Status, Virtual … */
  type: string;
  /** `AttributeTypeName.Value`, e.g. MultiSelectPicklistType (multi-selects have type Virtual). */
  typeName?: string;
  isCustom: boolean;
  isValidForCreate?: boolean;
  isValidForUpdate?: boolean;
  requiredLevel?: string;
}

export type OptionSetKind = 'picklist' | 'multiselect' | 'boolean' | 'state' | 'status';

export interface OptionInfo {
  /** The stored integer; booleans are listed as 1 (true) and 0 (false). */
  value: number;
  label: string;
  /** Status options: the state they belong to. */
  state?: number;
}

export interface OptionSetInfo {
  attribute: string;
  kind: OptionSetKind;
  options: OptionInfo[];
}

type Label = { UserLocalizedLabel?: { Label?: string } | null; LocalizedLabels?: Array<{ Label?: string; LanguageCode?: number }> } | null | undefined;
type RawOption = { Value: number; Label?: Label; State?: number };

const labelOf = (l: Label): string => l?.UserLocalizedLabel?.Label ?? l?.LocalizedLabels?.find((x) => x.LanguageCode === 1033)?.Label ?? l?.LocalizedLabels?.[0]?.Label ?? '';

const CASTS: Array<[OptionSetKind, string]> = [
  ['picklist', 'Microsoft.Dynamics.CRM.PicklistAttributeMetadata'],
  ['multiselect', 'Microsoft.Dynamics.CRM.MultiSelectPicklistAttributeMetadata'],
  ['boolean', 'Microsoft.Dynamics.CRM.BooleanAttributeMetadata'],
  ['state', 'Microsoft.Dynamics.CRM.StateAttributeMetadata'],
  ['status', 'Microsoft.Dynamics.CRM.StatusAttributeMetadata'],
];

const entityKey = (logicalName: string) => `LogicalName='${logicalName}'`;

export class MetadataCache {
  private readonly entities = new Map<string, Promise<EntityInfo>>();
  private readonly attributes = new Map<string, Promise<Map<string, AttributeInfo>>>();
  private readonly optionSets = new Map<string, Promise<Map<string, OptionSetInfo>>>();

  constructor(private readonly caller: DataverseCaller) {}

  entity(logicalName: string): Promise<EntityInfo> {
    return memo(this.entities, logicalName, false, async () => {
      const e = await this.caller.call('read table definition', logicalName, (api) => api.retrieveEntity({
        key: entityKey(logicalName), select: ['LogicalName', 'EntitySetName', 'PrimaryIdAttribute', 'PrimaryNameAttribute', 'ChangeTrackingEnabled'],
      }));
      return { logicalName: e.LogicalName, entitySetName: e.EntitySetName, primaryIdAttribute: e.PrimaryIdAttribute, primaryNameAttribute: e.PrimaryNameAttribute, changeTrackingEnabled: e.ChangeTrackingEnabled };
    });
  }

  attributesOf(logicalName: string, refresh = false): Promise<Map<string, AttributeInfo>> {
    return memo(this.attributes, logicalName, refresh, async () => {
      const res = await this.caller.call('read column definitions', logicalName, (api) => api.retrieveAttributes({
        entityKey: entityKey(logicalName),
        select: ['LogicalName', 'SchemaName', 'AttributeType', 'AttributeTypeName', 'IsCustomAttribute', 'IsValidForCreate', 'IsValidForUpdate', 'RequiredLevel'],
      }));
      return new Map(res.value.map((a: Record<string, any>) => [a.LogicalName, {
        logicalName: a.LogicalName, schemaName: a.SchemaName, type: a.AttributeType, typeName: a.AttributeTypeName?.Value,
        isCustom: Boolean(a.IsCustomAttribute), isValidForCreate: a.IsValidForCreate, isValidForUpdate: a.IsValidForUpdate, requiredLevel: a.RequiredLevel?.Value,
      } satisfies AttributeInfo]));
    });
  }

  /** Option sets of every picklist, multi-select, boolean, state and status column of the table. */
  optionSetsOf(logicalName: string, refresh = false): Promise<Map<string, OptionSetInfo>> {
    return memo(this.optionSets, logicalName, refresh, async () => {
      const out = new Map<string, OptionSetInfo>();
      for (const [kind, castType] of CASTS) {
        const res = await this.caller.call(`read ${kind} option sets`, logicalName, (api) => api.retrieveAttributes({
          entityKey: entityKey(logicalName), castType, select: ['LogicalName'], expand: [{ property: 'OptionSet' }],
        }));
        for (const a of res.value as Array<{ LogicalName: string; OptionSet?: { Options?: RawOption[]; TrueOption?: RawOption; FalseOption?: RawOption } }>) {
          const set = a.OptionSet ?? {};
          const options: OptionInfo[] = kind === 'boolean'
            ? [{ value: 1, label: labelOf(set.TrueOption?.Label) }, { value: 0, label: labelOf(set.FalseOption?.Label) }]
            : (set.Options ?? []).map((o) => (o.State === undefined ? { value: o.Value, label: labelOf(o.Label) } : { value: o.Value, label: labelOf(o.Label), state: o.State }));
          out.set(a.LogicalName, { attribute: a.LogicalName, kind, options });
        }
      }
      return out;
    });
  }

  refresh(logicalName?: string): void {
    for (const m of [this.attributes, this.optionSets]) {
      if (logicalName) m.delete(logicalName);
      else m.clear();
    }
  }

  /**
   * Makes `<prefix>_hubspotid` (string, 100) and an alternate key on it exist, so upserts by HubSpot id are
   * idempotent. The managed solution will ship both; until then (and for tables the solution does not cover)
   * the server creates them. Safe to call on every connect. Dataverse builds key indexes asynchronously:
   * `keyStatus` other than Active means upserts by the key may still fail for a while.
   */
  async ensureHubSpotIdColumn(logicalName: string, prefix = 'hds'): Promise<{ column: string; columnCreated: boolean; keyCreated: boolean; keyStatus?: string }> {
    const column = `${prefix}_hubspotid`.toLowerCase();
    const record = `${logicalName}.${column}`;
    let columnCreated = false;
    if (!(await this.attributesOf(logicalName, true)).has(column)) {
      try {
        await this.caller.call('create HubSpot id column', record, (api) => api.createAttribute({
          entityKey: entityKey(logicalName),
          data: {
            '@odata.type': 'Microsoft.Dynamics.CRM.StringAttributeMetadata', SchemaName: `${prefix}_HubSpotId`, MaxLength: 100,
            FormatName: { Value: 'Text' }, RequiredLevel: { Value: 'None', CanBeChanged: true },
            DisplayName: label('HubSpot ID'), Description: label('Id of the linked HubSpot record (set by the HubSpot sync).'),
          },
        }));
        columnCreated = true;
      } catch (err) {
        // Another server process may have won the race; only a still-missing column is a failure.
        if (!(await this.attributesOf(logicalName, true)).has(column)) throw err;
      }
      this.refresh(logicalName);
    }
    const keys = await this.keysOf(logicalName);
    const existing = keys.find((k) => k.KeyAttributes?.length === 1 && k.KeyAttributes[0].toLowerCase() === column);
    if (existing) return { column, columnCreated, keyCreated: false, keyStatus: existing.EntityKeyIndexStatus };
    try {
      await this.caller.call('create HubSpot id alternate key', record, (api) => api.create({
        collection: 'EntityDefinitions', key: entityKey(logicalName), navigationProperty: 'Keys',
        data: { SchemaName: `${prefix}_hubspotid_key`, DisplayName: label('HubSpot ID'), KeyAttributes: [column] },
      }));
    } catch (err) {
      const again = (await this.keysOf(logicalName)).find((k) => k.KeyAttributes?.[0]?.toLowerCase() === column);
      if (!again) throw err;
      return { column, columnCreated, keyCreated: false, keyStatus: again.EntityKeyIndexStatus };
    }
    const created = (await this.keysOf(logicalName)).find((k) => k.KeyAttributes?.[0]?.toLowerCase() === column);
    if (!created) {
      throw new ConnectorError({ system: 'dataverse', operation: 'create HubSpot id alternate key', record, status: 204, serviceMessage: 'the key was accepted but is not listed afterwards' });
    }
    return { column, columnCreated, keyCreated: true, keyStatus: created.EntityKeyIndexStatus };
  }

  private async keysOf(logicalName: string): Promise<Array<{ SchemaName: string; KeyAttributes?: string[]; EntityKeyIndexStatus?: string }>> {
    const res = await this.caller.call('read alternate keys', logicalName, (api) => api.retrieve({
      collection: 'EntityDefinitions', key: entityKey(logicalName), navigationProperty: 'Keys', select: ['SchemaName', 'KeyAttributes', 'EntityKeyIndexStatus'],
    }));
    return (res?.value ?? []) as Array<{ SchemaName: string; KeyAttributes?: string[]; EntityKeyIndexStatus?: string }>;
  }
}

function label(text: string) {
  return {
    '@odata.type': 'Microsoft.Dynamics.CRM.Label',
    LocalizedLabels: [{ '@odata.type': 'Microsoft.Dynamics.CRM.LocalizedLabel', Label: text, LanguageCode: 1033 }],
  };
}

/** Promise cache: concurrent readers share one request; failures are not cached. */
function memo<T>(map: Map<string, Promise<T>>, key: string, refresh: boolean, load: () => Promise<T>): Promise<T> {
  let hit = map.get(key);
  if (!hit || refresh) {
    const p = load();
    hit = p;
    map.set(key, p);
    p.catch(() => { if (map.get(key) === p) map.delete(key); });
  }
  return hit;
}
