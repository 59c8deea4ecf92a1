import type { AttributeKind } from './contracts.ts';
import { Codes, DataverseError, odataError } from './errors.ts';
import { parseExpand, parseFilter, parseQueryString, splitTopLevel, type FilterNode, type Literal } from './odata.ts';
import { parseKey, splitPath } from './paths.ts';
import type { ApiRequest, ApiResponse, WebApi } from './api.ts';
import { column, metaId, type AttributeDef, type KeyDef, type OptionDef, type TableDef } from './tables.ts';
import { parseJsonBody } from './write.ts';

/**
 * The metadata Web API: EntityDefinitions (+ Attributes, casts, OptionSet, Keys) and
 * GlobalOptionSetDefinitions in the documented shapes, plus creating custom columns and alternate keys.
 * Definitions are built from the same TableDef data the data API validates against.
 */

type Json = Record<string, unknown>;

const TYPE_NAMES: Record<AttributeKind, { type: string; odata: string; typeName: string }> = {
  String: { type: 'String', odata: 'StringAttributeMetadata', typeName: 'StringType' },
  Memo: { type: 'Memo', odata: 'MemoAttributeMetadata', typeName: 'MemoType' },
  Integer: { type: 'Integer', odata: 'IntegerAttributeMetadata', typeName: 'IntegerType' },
  BigInt: { type: 'BigInt', odata: 'BigIntAttributeMetadata', typeName: 'BigIntType' },
  Decimal: { type: 'Decimal', odata: 'DecimalAttributeMetadata', typeName: 'DecimalType' },
  Double: { type: 'Double', odata: 'DoubleAttributeMetadata', typeName: 'DoubleType' },
  Money: { type: 'Money', odata: 'MoneyAttributeMetadata', typeName: 'MoneyType' },
  Boolean: { type: 'Boolean', odata: 'BooleanAttributeMetadata', typeName: 'BooleanType' },
  DateTime: { type: 'DateTime', odata: 'DateTimeAttributeMetadata', typeName: 'DateTimeType' },
  Lookup: { type: 'Lookup', odata: 'LookupAttributeMetadata', typeName: 'LookupType' },
  Customer: { type: 'Customer', odata: 'LookupAttributeMetadata', typeName: 'CustomerType' },
  Owner: { type: 'Owner', odata: 'LookupAttributeMetadata', typeName: 'OwnerType' },
  Picklist: { type: 'Picklist', odata: 'PicklistAttributeMetadata', typeName: 'PicklistType' },
  // Multi-select choices report AttributeType Virtual, as in the real service.
  MultiSelectPicklist: { type: 'Virtual', odata: 'MultiSelectPicklistAttributeMetadata', typeName: 'MultiSelectPicklistType' },
  State: { type: 'State', odata: 'StateAttributeMetadata', typeName: 'StateType' },
  Status: { type: 'Status', odata: 'StatusAttributeMetadata', typeName: 'StatusType' },
  Uniqueidentifier: { type: 'Uniqueidentifier', odata: 'AttributeMetadata', typeName: 'UniqueidentifierType' },
};

const CAST_KINDS: Record<string, AttributeKind[]> = {
  StringAttributeMetadata: ['String'], MemoAttributeMetadata: ['Memo'], IntegerAttributeMetadata: ['Integer'],
  BigIntAttributeMetadata: ['BigInt'], DecimalAttributeMetadata: ['Decimal'], DoubleAttributeMetadata: ['Double'],
  MoneyAttributeMetadata: ['Money'], BooleanAttributeMetadata: ['Boolean'], DateTimeAttributeMetadata: ['DateTime'],
  LookupAttributeMetadata: ['Lookup', 'Customer', 'Owner'], PicklistAttributeMetadata: ['Picklist'],
  MultiSelectPicklistAttributeMetadata: ['MultiSelectPicklist'], StateAttributeMetadata: ['State'], StatusAttributeMetadata: ['Status'],
  EnumAttributeMetadata: ['Picklist', 'MultiSelectPicklist', 'State', 'Status', 'Boolean'],
};

export function label(text: string, id = metaId()): Json {
  const l = { Label: text, LanguageCode: 1033, IsManaged: false, MetadataId: id, HasChanged: null };
  return { LocalizedLabels: [l], UserLocalizedLabel: l };
}

const managed = (value: boolean, name: string) => ({ Value: value, CanBeChanged: true, ManagedPropertyLogicalName: name });

function optionJson(o: OptionDef, kind: AttributeKind): Json {
  const j: Json = {
    Value: o.value, Color: null, IsManaged: !(o.value >= 100000000), ExternalValue: null, ParentValues: [], Tag: null,
    IsHidden: false, MetadataId: null, HasChanged: null, Label: label(o.label), Description: label(''),
  };
  if (kind === 'Status') j.State = o.state;
  if (kind === 'State') { j.DefaultStatus = o.defaultStatus; j.InvariantName = o.label; }
  return j;
}

export function optionSetJson(table: TableDef, attr: AttributeDef): Json | null {
  if (!attr.options) return null;
  const name = attr.globalOptionSet ?? `${table.logicalName}_${attr.logicalName}`;
  const base: Json = {
    MetadataId: attr.metadataId.replace(/^7000/, '7100'), HasChanged: null, IsCustomOptionSet: !!attr.custom,
    IsGlobal: !!attr.globalOptionSet, IsManaged: !attr.custom, Name: name, ExternalTypeName: null,
    OptionSetType: attr.kind === 'MultiSelectPicklist' ? 'Picklist' : attr.kind, DisplayName: label(attr.displayName), Description: label(''),
    IsCustomizable: managed(true, 'iscustomizable'),
  };
  if (attr.kind === 'Boolean') {
    base['@odata.type'] = '#Microsoft.Dynamics.CRM.BooleanOptionSetMetadata';
    base.TrueOption = optionJson(attr.options.find((o) => o.value === 1)!, 'Boolean');
    base.FalseOption = optionJson(attr.options.find((o) => o.value === 0)!, 'Boolean');
  } else {
    base['@odata.type'] = '#Microsoft.Dynamics.CRM.OptionSetMetadata';
    base.Options = attr.options.map((o) => optionJson(o, attr.kind));
  }
  return base;
}

export function attributeJson(table: TableDef, attr: AttributeDef): Json {
  const t = TYPE_NAMES[attr.kind];
  const j: Json = {
    '@odata.type': `#Microsoft.Dynamics.CRM.${t.odata}`,
    MetadataId: attr.metadataId, LogicalName: attr.logicalName, SchemaName: attr.schemaName, EntityLogicalName: table.logicalName,
    AttributeType: t.type, AttributeTypeName: { Value: t.typeName }, DisplayName: label(attr.displayName), Description: label(''),
    IsCustomAttribute: !!attr.custom, IsPrimaryId: attr.logicalName === table.primaryIdAttribute,
    IsPrimaryName: attr.logicalName === table.primaryNameAttribute,
    IsValidForCreate: !attr.readOnly, IsValidForUpdate: !attr.readOnly && attr.logicalName !== table.primaryIdAttribute,
    IsValidForRead: !attr.writeOnly, IsValidForAdvancedFind: managed(!attr.writeOnly, 'canmodifysearchsettings'),
    IsFilterable: true, IsSearchable: true, IsRetrievable: true, IsLogical: false, IsManaged: !attr.custom,
    IsCustomizable: managed(true, 'iscustomizable'), IsAuditEnabled: managed(true, 'canmodifyauditsettings'),
    RequiredLevel: { Value: attr.required ?? (attr.logicalName === table.primaryIdAttribute ? 'SystemRequired' : 'None'), CanBeChanged: true, ManagedPropertyLogicalName: 'canmodifyrequirementlevelsettings' },
    AttributeOf: null, ColumnNumber: table.attributes.indexOf(attr) + 1, IntroducedVersion: attr.custom ? '1.0' : '5.0.0.0',
  };
  if (attr.maxLength !== undefined) { j.MaxLength = attr.maxLength; j.DatabaseLength = attr.maxLength * 2; }
  if (attr.kind === 'String') j.FormatName = { Value: /email/.test(attr.logicalName) ? 'Email' : /url/.test(attr.logicalName) ? 'Url' : /phone/.test(attr.logicalName) ? 'Phone' : 'Text' };
  if (attr.minValue !== undefined) j.MinValue = attr.minValue;
  if (attr.maxValue !== undefined) j.MaxValue = attr.maxValue;
  if (attr.kind === 'Money') { j.Precision = 2; j.PrecisionSource = 2; }
  if (attr.kind === 'DateTime') { j.Format = attr.dateOnly ? 'DateOnly' : 'DateAndTime'; j.DateTimeBehavior = { Value: attr.dateOnly ? 'DateOnly' : 'UserLocal' }; }
  if (attr.targets) j.Targets = attr.targets;
  if (attr.kind === 'Boolean') j.DefaultValue = false;
  if (attr.kind === 'Picklist' || attr.kind === 'MultiSelectPicklist') j.DefaultFormValue = -1;
  return j;
}

export function entityJson(table: TableDef): Json {
  return {
    '@odata.context': undefined,
    MetadataId: table.metadataId, LogicalName: table.logicalName, SchemaName: table.schemaName, EntitySetName: table.entitySetName,
    LogicalCollectionName: table.entitySetName, CollectionSchemaName: `${table.schemaName}s`,
    PrimaryIdAttribute: table.primaryIdAttribute, PrimaryNameAttribute: table.primaryNameAttribute, ObjectTypeCode: table.objectTypeCode,
    ChangeTrackingEnabled: table.changeTrackingEnabled, IsCustomEntity: false, IsActivity: false, IsIntersect: false,
    IsValidForAdvancedFind: true, IsCustomizable: managed(table.isCustomizable, 'iscustomizable'), IsManaged: true,
    OwnershipType: table.ownership === 'None' ? 'None' : table.ownership, DisplayName: label(table.displayName),
    DisplayCollectionName: label(table.displayCollectionName), Description: label(''), HasNotes: true, HasActivities: true,
    IntroducedVersion: '5.0.0.0',
  };
}

export function keyJson(table: TableDef, key: KeyDef): Json {
  return {
    MetadataId: key.metadataId, LogicalName: key.logicalName, SchemaName: key.schemaName, EntityLogicalName: table.logicalName,
    KeyAttributes: key.keyAttributes, DisplayName: label(key.displayName), EntityKeyIndexStatus: key.entityKeyIndexStatus,
    IsManaged: false, IsCustomizable: managed(true, 'iscustomizable'), IntroducedVersion: '1.0',
  };
}

/** $select/$filter/$expand over metadata objects (navigation properties are produced lazily). */
function shape(obj: Json, params: Map<string, string>, navs: Record<string, (opts: Map<string, string>) => unknown>): Json {
  const out: Json = {};
  const select = params.get('$select');
  if (select) {
    for (const key of ['@odata.type', 'MetadataId']) if (key in obj) out[key] = obj[key];
    for (const name of splitTopLevel(select, ',')) if (name in obj) out[name] = obj[name];
  } else {
    for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[k] = v;
  }
  const expand = params.get('$expand');
  if (expand) {
    for (const item of parseExpand(expand)) {
      const nav = navs[item.navigation];
      if (!nav) throw odataError(`Could not find a property named '${item.navigation}' on type 'Microsoft.Dynamics.CRM.${obj['@odata.type'] ? String(obj['@odata.type']).replace('#Microsoft.Dynamics.CRM.', '') : 'EntityMetadata'}'.`);
      out[item.navigation] = nav(new Map(Object.entries(item.options)));
    }
  }
  return out;
}

function lit(l: Literal): unknown {
  return 'value' in l ? l.value : null;
}

/** Evaluates $filter on a metadata object; values compare case-insensitively like the service. */
function matches(obj: Json, node: FilterNode): boolean {
  const norm = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v);
  switch (node.type) {
    case 'and': return matches(obj, node.left) && matches(obj, node.right);
    case 'or': return matches(obj, node.left) || matches(obj, node.right);
    case 'not': return !matches(obj, node.operand);
    case 'bool': return obj[node.property] === true;
    case 'func': {
      const v = obj[node.property];
      const needle = String(lit(node.value)).toLowerCase();
      if (typeof v !== 'string') return false;
      const s = v.toLowerCase();
      return node.name === 'contains' ? s.includes(needle) : node.name === 'startswith' ? s.startsWith(needle) : s.endsWith(needle);
    }
    case 'compare': {
      const val = (o: typeof node.left) => norm(o.type === 'property' ? valueAt(obj, o.name) : lit(o.value));
      const a = val(node.left) as string | number;
      const b = val(node.right) as string | number;
      switch (node.op) {
        case 'eq': return a === b;
        case 'ne': return a !== b;
        case 'gt': return a > b;
        case 'ge': return a >= b;
        case 'lt': return a < b;
        default: return a <= b;
      }
    }
    default:
      throw odataError('This function is not supported in metadata queries.');
  }
}

function valueAt(obj: Json, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('/')) cur = cur && typeof cur === 'object' ? (cur as Json)[part] : undefined;
  return cur;
}

function collection(items: Json[], params: Map<string, string>, navs: (o: Json) => Record<string, (opts: Map<string, string>) => unknown>): Json[] {
  const filter = params.get('$filter');
  const node = filter ? parseFilter(filter) : null;
  return items.filter((i) => !node || matches(i, node)).map((i) => shape(i, params, navs(i)));
}

export function registerMetadata(api: WebApi): void {
  const schema = api.schema;

  const tableFrom = (segment: string): TableDef => {
    const open = segment.indexOf('(');
    const key = parseKey(decodeURIComponent(segment.slice(open + 1, -1)));
    const table = key.kind === 'id'
      ? schema.tables().find((t) => t.metadataId === key.id)
      : schema.table(String(lit(key.values.LogicalName ?? { type: 'null' })));
    if (!table) throw new DataverseError(404, '0x80040217', `Could not find entity with ${key.kind === 'id' ? `MetadataId = ${key.id}` : `LogicalName = ${String(lit(key.values.LogicalName ?? { type: 'null' }))}`}.`);
    return table;
  };

  const attrNavs = (table: TableDef, attr: AttributeDef) => ({
    OptionSet: () => (attr.options ? optionSetJson(table, attr) : null),
    GlobalOptionSet: () => (attr.globalOptionSet ? optionSetJson(table, attr) : null),
  });

  const attributesOf = (table: TableDef, cast: string | undefined, params: Map<string, string>) => {
    let attrs = table.attributes;
    if (cast) {
      const kinds = CAST_KINDS[cast];
      if (!kinds) throw new DataverseError(404, Codes.OData, `Resource not found for the segment 'Microsoft.Dynamics.CRM.${cast}'.`);
      attrs = attrs.filter((a) => kinds.includes(a.kind));
    }
    const byName = new Map(attrs.map((a) => [a.logicalName, a]));
    return collection(attrs.map((a) => attributeJson(table, a)), params, (o) => attrNavs(table, byName.get(o.LogicalName as string)!));
  };

  const entityNavs = (table: TableDef) => ({
    Attributes: (opts: Map<string, string>) => attributesOf(table, undefined, opts),
    Keys: (opts: Map<string, string>) => collection(table.keys.map((k) => keyJson(table, k)), opts, () => ({})),
  });

  api.route('EntityDefinitions', (req: ApiRequest): ApiResponse => {
    const segments = splitPath(req.path);
    const params = parseQueryString(req.search);
    const ctx = `${api.base}$metadata#EntityDefinitions`;
    if (segments.length === 1 && !segments[0].includes('(')) {
      if (req.method !== 'GET') throw new DataverseError(405, Codes.OData, 'Creating tables is not supported by this sandbox.');
      const value = collection(schema.tables().map(entityJson), params, (o) => entityNavs(schema.table(o.LogicalName as string)!));
      return { status: 200, headers: {}, json: { '@odata.context': ctx, value } };
    }
    const table = tableFrom(segments[0]);
    if (segments.length === 1) {
      return { status: 200, headers: {}, json: { '@odata.context': `${ctx}/$entity`, ...shape(entityJson(table), params, entityNavs(table)) } };
    }
    const sub = segments[1];
    if (sub === 'Attributes' || sub.startsWith('Attributes(')) {
      const cast = segments.slice(2).find((s) => s.startsWith('Microsoft.Dynamics.CRM.'))?.slice('Microsoft.Dynamics.CRM.'.length);
      if (sub === 'Attributes') {
        if (req.method === 'POST') return createAttribute(api, table, req);
        return { status: 200, headers: {}, json: { '@odata.context': `${ctx}('${table.logicalName}')/Attributes`, value: attributesOf(table, cast, params) } };
      }
      const key = parseKey(decodeURIComponent(sub.slice(sub.indexOf('(') + 1, -1)));
      const attr = key.kind === 'id'
        ? table.attributes.find((a) => a.metadataId === key.id)
        : schema.attribute(table.logicalName, String(lit(key.values.LogicalName ?? { type: 'null' })));
      if (!attr) throw new DataverseError(404, '0x80040217', `Could not find attribute ${describe(key)} on entity ${table.logicalName}.`);
      if (cast && !(CAST_KINDS[cast] ?? []).includes(attr.kind)) {
        throw odataError(`The attribute '${attr.logicalName}' is not of type 'Microsoft.Dynamics.CRM.${cast}'.`);
      }
      return { status: 200, headers: {}, json: { '@odata.context': `${ctx}('${table.logicalName}')/Attributes/$entity`, ...shape(attributeJson(table, attr), params, attrNavs(table, attr)) } };
    }
    if (sub === 'Keys' || sub.startsWith('Keys(')) {
      if (sub === 'Keys') {
        if (req.method === 'POST') return createKey(api, table, req);
        return { status: 200, headers: {}, json: { '@odata.context': `${ctx}('${table.logicalName}')/Keys`, value: collection(table.keys.map((k) => keyJson(table, k)), params, () => ({})) } };
      }
      const key = parseKey(decodeURIComponent(sub.slice(sub.indexOf('(') + 1, -1)));
      const found = table.keys.find((k) => (key.kind === 'id' ? k.metadataId === key.id : k.logicalName === String(lit(key.values.LogicalName ?? { type: 'null' }))));
      if (!found) throw new DataverseError(404, '0x80040217', `Could not find key ${describe(key)} on entity ${table.logicalName}.`);
      return { status: 200, headers: {}, json: { '@odata.context': `${ctx}('${table.logicalName}')/Keys/$entity`, ...shape(keyJson(table, found), params, {}) } };
    }
    throw new DataverseError(404, Codes.OData, `Resource not found for the segment '${sub}'.`);
  });

  api.route('GlobalOptionSetDefinitions', (req: ApiRequest): ApiResponse => {
    const segments = splitPath(req.path);
    const params = parseQueryString(req.search);
    const sets = new Map<string, Json>();
    for (const t of schema.tables()) for (const a of t.attributes) if (a.globalOptionSet && !sets.has(a.globalOptionSet)) sets.set(a.globalOptionSet, optionSetJson(t, a)!);
    const ctx = `${api.base}$metadata#GlobalOptionSetDefinitions`;
    if (!segments[0].includes('(')) {
      return { status: 200, headers: {}, json: { '@odata.context': ctx, value: collection([...sets.values()], params, () => ({})) } };
    }
    const key = parseKey(decodeURIComponent(segments[0].slice(segments[0].indexOf('(') + 1, -1)));
    const found = [...sets.values()].find((s) => (key.kind === 'id' ? s.MetadataId === key.id : s.Name === lit(key.values.Name ?? { type: 'null' })));
    if (!found) throw new DataverseError(404, '0x80040217', `Could not find optionset ${describe(key)}.`);
    return { status: 200, headers: {}, json: { '@odata.context': `${ctx}/$entity`, ...shape(found, params, {}) } };
  });
}

function describe(key: ReturnType<typeof parseKey>): string {
  return key.kind === 'id' ? key.id : Object.entries(key.values).map(([k, v]) => `${k}=${String(lit(v))}`).join(',');
}

function labelText(value: unknown, fallback: string): string {
  const l = value as { LocalizedLabels?: Array<{ Label?: string }>; UserLocalizedLabel?: { Label?: string } } | undefined;
  return l?.UserLocalizedLabel?.Label ?? l?.LocalizedLabels?.[0]?.Label ?? fallback;
}

const CREATE_KINDS: Record<string, AttributeKind> = {
  StringAttributeMetadata: 'String', MemoAttributeMetadata: 'Memo', IntegerAttributeMetadata: 'Integer', DecimalAttributeMetadata: 'Decimal',
  DoubleAttributeMetadata: 'Double', MoneyAttributeMetadata: 'Money', BooleanAttributeMetadata: 'Boolean', DateTimeAttributeMetadata: 'DateTime',
  PicklistAttributeMetadata: 'Picklist', MultiSelectPicklistAttributeMetadata: 'MultiSelectPicklist',
};

function createAttribute(api: WebApi, table: TableDef, req: ApiRequest): ApiResponse {
  const body = parseJsonBody(req.body, 'EntityDefinitions');
  const type = String(body['@odata.type'] ?? '').replace(/^#?Microsoft\.Dynamics\.CRM\./, '');
  const kind = CREATE_KINDS[type];
  if (!kind) throw new DataverseError(400, Codes.InvalidArgument, `Creating attributes of type '${type || '(missing @odata.type)'}' is not supported; use one of ${Object.keys(CREATE_KINDS).join(', ')}.`);
  const schemaName = body.SchemaName;
  if (typeof schemaName !== 'string' || !/^[A-Za-z][A-Za-z0-9]*_[A-Za-z0-9_]+$/.test(schemaName)) {
    throw new DataverseError(400, Codes.InvalidArgument, `SchemaName '${String(schemaName)}' is not valid: custom attributes need a publisher prefix, e.g. 'hds_HubSpotId'.`);
  }
  const logicalName = schemaName.toLowerCase();
  if (api.schema.attribute(table.logicalName, logicalName)) {
    throw new DataverseError(400, Codes.MetadataDuplicate, `An attribute with the specified name ${logicalName} already exists on entity ${table.logicalName}.`);
  }
  let options: OptionDef[] | undefined;
  if (kind === 'Picklist' || kind === 'MultiSelectPicklist') {
    const set = body.OptionSet as { Options?: Array<{ Value?: number; Label?: unknown }> } | undefined;
    if (!set?.Options?.length) throw new DataverseError(400, Codes.InvalidArgument, 'A choice column needs OptionSet.Options.');
    options = set.Options.map((o, i) => ({ value: o.Value ?? 100000000 + i, label: labelText(o.Label, String(o.Value ?? i)) }));
  }
  if (kind === 'Boolean') {
    const set = body.OptionSet as { TrueOption?: { Label?: unknown }; FalseOption?: { Label?: unknown } } | undefined;
    options = [{ value: 0, label: labelText(set?.FalseOption?.Label, 'No') }, { value: 1, label: labelText(set?.TrueOption?.Label, 'Yes') }];
  }
  const maxLength = typeof body.MaxLength === 'number' ? body.MaxLength : kind === 'String' ? 100 : kind === 'Memo' ? 2000 : undefined;
  const attr = column({
    logicalName, schemaName, kind, custom: true, options, maxLength,
    displayName: labelText(body.DisplayName, schemaName),
    required: ((body.RequiredLevel as { Value?: string } | undefined)?.Value as AttributeDef['required']) ?? 'None',
    minValue: typeof body.MinValue === 'number' ? body.MinValue : undefined,
    maxValue: typeof body.MaxValue === 'number' ? body.MaxValue : undefined,
    dateOnly: kind === 'DateTime' && (body.Format === 'DateOnly' || (body.DateTimeBehavior as { Value?: string } | undefined)?.Value === 'DateOnly'),
  });
  api.schema.addAttribute(table.logicalName, attr);
  // Existing rows get the new column as null, so reads list it like any other column.
  for (const row of api.store.rows(table.logicalName)) row[logicalName] = null;
  return { status: 204, headers: { 'OData-EntityId': `${api.base}EntityDefinitions(${table.metadataId})/Attributes(${attr.metadataId})` } };
}

const KEY_KINDS: AttributeKind[] = ['String', 'Integer', 'Decimal', 'DateTime', 'Lookup', 'Picklist', 'Uniqueidentifier'];

function createKey(api: WebApi, table: TableDef, req: ApiRequest): ApiResponse {
  const body = parseJsonBody(req.body, 'EntityDefinitions');
  const schemaName = body.SchemaName;
  const attrs = body.KeyAttributes;
  if (typeof schemaName !== 'string' || !schemaName) throw new DataverseError(400, Codes.InvalidArgument, 'SchemaName is required for an entity key.');
  if (!Array.isArray(attrs) || attrs.length === 0 || attrs.some((a) => typeof a !== 'string')) {
    throw new DataverseError(400, Codes.InvalidArgument, 'KeyAttributes must be a non-empty array of attribute logical names.');
  }
  for (const name of attrs as string[]) {
    const attr = api.schema.attribute(table.logicalName, name);
    if (!attr) throw new DataverseError(400, Codes.InvalidArgument, `Attribute '${name}' does not exist on entity '${table.logicalName}'.`);
    if (!KEY_KINDS.includes(attr.kind)) throw new DataverseError(400, Codes.InvalidArgument, `Attribute '${name}' of type ${attr.kind} cannot be part of an entity key.`);
  }
  const logicalName = schemaName.toLowerCase();
  if (table.keys.some((k) => k.logicalName === logicalName)) throw new DataverseError(400, Codes.MetadataDuplicate, `An entity key with the name ${logicalName} already exists.`);
  const key: KeyDef = {
    logicalName, schemaName, displayName: labelText(body.DisplayName, schemaName), keyAttributes: attrs as string[],
    metadataId: metaId(), entityKeyIndexStatus: 'Active',
  };
  // Build the index first: rows that already collide make key creation fail, as the index job would.
  api.store.indexKey(table.logicalName, key);
  api.schema.addKey(table.logicalName, key);
  return { status: 204, headers: { 'OData-EntityId': `${api.base}EntityDefinitions(${table.metadataId})/Keys(${key.metadataId})` } };
}
