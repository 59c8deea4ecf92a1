import type { AttributeKind } from './contracts.ts';

/**
 * Table schemas as data. Everything else (validation, serialisation, metadata, lookups) reads these
 * definitions, so a custom column added through the metadata API behaves exactly like a built-in one.
 */

export interface OptionDef {
  value: number;
  label: string;
  /** For Status options: the statecode this status belongs to. */
  state?: number;
  /** For State options: the statuscode used when only the state is set. */
  defaultStatus?: number;
}

export type RequiredLevel = 'None' | 'ApplicationRequired' | 'SystemRequired' | 'Recommended';

export interface AttributeDef {
  logicalName: string;
  schemaName: string;
  kind: AttributeKind;
  displayName: string;
  /** Lookup targets (logical names). */
  targets?: string[];
  /** Polymorphic lookups bind through `<name>_<target>` navigation properties (Customer, eventhandler). */
  polymorphic?: boolean;
  options?: OptionDef[];
  /** Global option set name when the choice uses one. */
  globalOptionSet?: string;
  maxLength?: number;
  minValue?: number;
  maxValue?: number;
  /** DateOnly columns are written and read as `YYYY-MM-DD`. */
  dateOnly?: boolean;
  required?: RequiredLevel;
  custom?: boolean;
  /** Set by the platform only (createdon, versionnumber, fullname…). */
  readOnly?: boolean;
  /** Writable but never returned (serviceendpoint.authvalue). */
  writeOnly?: boolean;
  metadataId: string;
}

export interface KeyDef {
  logicalName: string;
  schemaName: string;
  displayName: string;
  keyAttributes: string[];
  metadataId: string;
  /** Active once "built" (instantly here; asynchronously in the real service). */
  entityKeyIndexStatus: 'Active';
}

export type Ownership = 'UserOwned' | 'OrganizationOwned' | 'BusinessOwned' | 'None';

export interface TableDef {
  logicalName: string;
  schemaName: string;
  entitySetName: string;
  primaryIdAttribute: string;
  primaryNameAttribute: string;
  objectTypeCode: number;
  displayName: string;
  displayCollectionName: string;
  ownership: Ownership;
  changeTrackingEnabled: boolean;
  isCustomizable: boolean;
  attributes: AttributeDef[];
  keys: KeyDef[];
  metadataId: string;
}

/** Deterministic metadata ids so repeated starts look the same. */
let idCounter = 0;
export function metaId(): string {
  idCounter += 1;
  return `7000${idCounter.toString(16).padStart(4, '0')}-0000-4000-8000-${idCounter.toString(16).padStart(12, '0')}`;
}

type ColumnSpec = Omit<AttributeDef, 'schemaName' | 'displayName' | 'metadataId'> & {
  schemaName?: string;
  displayName?: string;
};

function schemaNameOf(logical: string): string {
  return logical
    .split('_')
    .map((p) => (p ? p[0].toUpperCase() + p.slice(1) : p))
    .join('_');
}

function titleOf(logical: string): string {
  const s = logical.replace(/^address1_/, 'Address 1: ').replace(/_/g, ' ');
  return s[0].toUpperCase() + s.slice(1);
}

export function column(spec: ColumnSpec): AttributeDef {
  return {
    ...spec,
    schemaName: spec.schemaName ?? schemaNameOf(spec.logicalName),
    displayName: spec.displayName ?? titleOf(spec.logicalName),
    metadataId: metaId(),
  };
}

const str = (logicalName: string, maxLength = 100, extra: Partial<ColumnSpec> = {}) =>
  column({ logicalName, kind: 'String', maxLength, ...extra });
const memo = (logicalName: string) => column({ logicalName, kind: 'Memo', maxLength: 2000 });
const int = (logicalName: string, extra: Partial<ColumnSpec> = {}) =>
  column({ logicalName, kind: 'Integer', minValue: -2147483648, maxValue: 2147483647, ...extra });
const money = (logicalName: string) => column({ logicalName, kind: 'Money', minValue: -922337203685477, maxValue: 922337203685477 });
const bool = (logicalName: string, yes = 'Yes', no = 'No') =>
  column({ logicalName, kind: 'Boolean', options: [{ value: 0, label: no }, { value: 1, label: yes }] });
const date = (logicalName: string, dateOnly = false) => column({ logicalName, kind: 'DateTime', dateOnly });
const lookup = (logicalName: string, targets: string[], extra: Partial<ColumnSpec> = {}) =>
  column({ logicalName, kind: 'Lookup', targets, ...extra });
const customer = (logicalName: string) =>
  column({ logicalName, kind: 'Customer', targets: ['account', 'contact'], polymorphic: true });
const picklist = (logicalName: string, labels: Array<[number, string]>, extra: Partial<ColumnSpec> = {}) =>
  column({ logicalName, kind: 'Picklist', options: labels.map(([value, label]) => ({ value, label })), ...extra });
const uid = (logicalName: string, extra: Partial<ColumnSpec> = {}) => column({ logicalName, kind: 'Uniqueidentifier', ...extra });

const address = () => [
  str('address1_line1', 250), str('address1_line2', 250), str('address1_city', 80), str('address1_stateorprovince', 50),
  str('address1_postalcode', 20), str('address1_country', 80),
];

/** industrycode choices shared by lead and account (learn reference/entities/account#industrycode). */
const INDUSTRIES: Array<[number, string]> = [
  [1, 'Accounting'], [2, 'Agriculture and Non-petrol Natural Resource Extraction'], [3, 'Broadcasting Printing and Publishing'],
  [4, 'Brokers'], [5, 'Building Supply Retail'], [6, 'Business Services'], [7, 'Consulting'], [8, 'Consumer Services'],
  [9, 'Design, Direction and Creative Management'], [10, 'Distributors, Dispatchers and Processors'],
  [11, "Doctor's Offices and Clinics"], [12, 'Durable Manufacturing'], [13, 'Eating and Drinking Places'],
  [14, 'Entertainment Retail'], [15, 'Equipment Rental and Leasing'], [16, 'Financial'], [17, 'Food and Tobacco Processing'],
  [18, 'Inbound Capital Intensive Processing'], [19, 'Inbound Repair and Services'], [20, 'Insurance'], [21, 'Legal Services'],
  [22, 'Non-Durable Merchandise Retail'], [23, 'Outbound Consumer Service'], [24, 'Petrochemical Extraction and Distribution'],
  [25, 'Service Retail'], [26, 'SIG Affiliations'], [27, 'Social Services'], [28, 'Special Outbound Trade Contractors'],
  [29, 'Specialty Realty'], [30, 'Transportation'], [31, 'Utility Creation and Distribution'], [32, 'Vehicle Retail'],
  [33, 'Wholesale'],
];

interface StateSpec {
  states: Array<{ value: number; label: string; defaultStatus: number }>;
  statuses: Array<{ value: number; label: string; state: number }>;
}

const ACTIVE_INACTIVE: StateSpec = {
  states: [{ value: 0, label: 'Active', defaultStatus: 1 }, { value: 1, label: 'Inactive', defaultStatus: 2 }],
  statuses: [{ value: 1, label: 'Active', state: 0 }, { value: 2, label: 'Inactive', state: 1 }],
};

function stateColumns(spec: StateSpec): AttributeDef[] {
  return [
    column({ logicalName: 'statecode', kind: 'State', displayName: 'Status', options: spec.states.map((s) => ({ value: s.value, label: s.label, defaultStatus: s.defaultStatus })) }),
    column({ logicalName: 'statuscode', kind: 'Status', displayName: 'Status Reason', options: spec.statuses.map((s) => ({ value: s.value, label: s.label, state: s.state })) }),
  ];
}

export interface TableSpec {
  logicalName: string;
  /** Primary id column when it is not `<logicalName>id` (systemform: formid). */
  primaryId?: string;
  entitySetName: string;
  primaryName: string;
  objectTypeCode: number;
  displayName: string;
  displayCollectionName: string;
  ownership: Ownership;
  changeTracking?: boolean;
  states?: StateSpec;
  columns: AttributeDef[];
}

/** Adds the columns every table of that ownership has: id, audit columns, owner, version, state. */
export function table(spec: TableSpec): TableDef {
  const id = spec.primaryId ?? `${spec.logicalName}id`;
  const attrs: AttributeDef[] = [
    uid(id, { readOnly: false, displayName: spec.displayName }),
    date('createdon'), date('modifiedon'), date('overriddencreatedon'),
    lookup('createdby', ['systemuser'], { readOnly: true }),
    lookup('modifiedby', ['systemuser'], { readOnly: true }),
    column({ logicalName: 'versionnumber', kind: 'BigInt', readOnly: true }),
  ];
  attrs[1].readOnly = true;
  attrs[2].readOnly = true;
  if (spec.ownership === 'UserOwned') {
    attrs.push(column({ logicalName: 'ownerid', kind: 'Owner', targets: ['systemuser', 'team'] }));
    attrs.push(lookup('owningbusinessunit', ['businessunit'], { readOnly: true }));
  }
  if (spec.states) attrs.push(...stateColumns(spec.states));
  attrs.push(...spec.columns);
  return {
    logicalName: spec.logicalName,
    schemaName: schemaNameOf(spec.logicalName),
    entitySetName: spec.entitySetName,
    primaryIdAttribute: id,
    primaryNameAttribute: spec.primaryName,
    objectTypeCode: spec.objectTypeCode,
    displayName: spec.displayName,
    displayCollectionName: spec.displayCollectionName,
    ownership: spec.ownership,
    changeTrackingEnabled: spec.changeTracking ?? false,
    isCustomizable: true,
    attributes: attrs,
    keys: [],
    metadataId: metaId(),
  };
}

/** The tables of a fresh org with Dynamics 365 Sales installed. */
export function standardTables(): TableDef[] {
  return [
    table({
      logicalName: 'lead', entitySetName: 'leads', primaryName: 'fullname', objectTypeCode: 4, displayName: 'Lead',
      displayCollectionName: 'Leads', ownership: 'UserOwned', changeTracking: true,
      states: {
        states: [
          { value: 0, label: 'Open', defaultStatus: 1 }, { value: 1, label: 'Qualified', defaultStatus: 3 },
          { value: 2, label: 'Disqualified', defaultStatus: 4 },
        ],
        statuses: [
          { value: 1, label: 'New', state: 0 }, { value: 2, label: 'Contacted', state: 0 }, { value: 3, label: 'Qualified', state: 1 },
          { value: 4, label: 'Lost', state: 2 }, { value: 5, label: 'Cannot Contact', state: 2 },
          { value: 6, label: 'No Longer Interested', state: 2 }, { value: 7, label: 'Canceled', state: 2 },
        ],
      },
      columns: [
        str('subject', 300, { displayName: 'Topic', required: 'ApplicationRequired' }),
        str('firstname', 50), str('lastname', 50, { required: 'ApplicationRequired' }), str('fullname', 160, { readOnly: true }),
        str('companyname', 100), str('emailaddress1', 100, { displayName: 'Email' }), str('jobtitle', 100),
        str('telephone1', 50, { displayName: 'Business Phone' }), str('mobilephone', 50), str('websiteurl', 200),
        picklist('leadsourcecode', [
          [1, 'Advertisement'], [2, 'Employee Referral'], [3, 'External Referral'], [4, 'Partner'], [5, 'Public Relations'],
          [6, 'Seminar'], [7, 'Trade Show'], [8, 'Web'], [9, 'Word of Mouth'], [10, 'Other'],
        ], { displayName: 'Lead Source' }),
        picklist('industrycode', INDUSTRIES, { displayName: 'Industry' }),
        picklist('leadqualitycode', [[1, 'Hot'], [2, 'Warm'], [3, 'Cold']], { displayName: 'Rating' }),
        ...address(), memo('description'), int('numberofemployees', { minValue: 0, maxValue: 1000000 }), money('revenue'),
        bool('donotemail', 'Do Not Allow', 'Allow'),
        lookup('parentaccountid', ['account']), lookup('parentcontactid', ['contact']),
        customer('customerid'),
        lookup('qualifyingopportunityid', ['opportunity']),
      ],
    }),
    table({
      logicalName: 'contact', entitySetName: 'contacts', primaryName: 'fullname', objectTypeCode: 2, displayName: 'Contact',
      displayCollectionName: 'Contacts', ownership: 'UserOwned', changeTracking: true, states: ACTIVE_INACTIVE,
      columns: [
        str('firstname', 50), str('lastname', 50, { required: 'ApplicationRequired' }), str('fullname', 160, { readOnly: true }),
        str('emailaddress1', 100, { displayName: 'Email' }), str('emailaddress2', 100), str('jobtitle', 100),
        str('telephone1', 50, { displayName: 'Business Phone' }), str('mobilephone', 50), ...address(), memo('description'),
        customer('parentcustomerid'), lookup('originatingleadid', ['lead']),
        bool('donotemail', 'Do Not Allow', 'Allow'), date('birthdate', true),
        picklist('preferredcontactmethodcode', [[1, 'Any'], [2, 'Email'], [3, 'Phone'], [4, 'Fax'], [5, 'Mail']], { displayName: 'Preferred Method of Contact' }),
        picklist('gendercode', [[1, 'Male'], [2, 'Female']], { displayName: 'Gender' }),
        // A multi-select choice so integrations can exercise array-valued choices (custom, like most real ones).
        column({
          logicalName: 'hds_interests', schemaName: 'hds_Interests', displayName: 'Interests', kind: 'MultiSelectPicklist', custom: true,
          options: [{ value: 100000000, label: 'Software' }, { value: 100000001, label: 'Hardware' }, { value: 100000002, label: 'Services' }, { value: 100000003, label: 'Training' }],
        }),
      ],
    }),
    table({
      logicalName: 'account', entitySetName: 'accounts', primaryName: 'name', objectTypeCode: 1, displayName: 'Account',
      displayCollectionName: 'Accounts', ownership: 'UserOwned', changeTracking: true, states: ACTIVE_INACTIVE,
      columns: [
        str('name', 160, { displayName: 'Account Name', required: 'ApplicationRequired' }), str('accountnumber', 20),
        str('websiteurl', 200, { displayName: 'Website' }), str('telephone1', 50, { displayName: 'Main Phone' }),
        str('emailaddress1', 100, { displayName: 'Email' }), picklist('industrycode', INDUSTRIES, { displayName: 'Industry' }),
        int('numberofemployees', { minValue: 0, maxValue: 1000000000 }), money('revenue'),
        lookup('primarycontactid', ['contact']), lookup('parentaccountid', ['account']), lookup('originatingleadid', ['lead']),
        ...address(), memo('description'),
        picklist('customertypecode', [[1, 'Competitor'], [2, 'Consultant'], [3, 'Customer'], [4, 'Investor'], [5, 'Partner'], [6, 'Influencer'], [7, 'Press'], [8, 'Prospect'], [9, 'Reseller'], [10, 'Supplier'], [11, 'Vendor'], [12, 'Other']], { displayName: 'Relationship Type' }),
      ],
    }),
    table({
      logicalName: 'opportunity', entitySetName: 'opportunities', primaryName: 'name', objectTypeCode: 3, displayName: 'Opportunity',
      displayCollectionName: 'Opportunities', ownership: 'UserOwned', changeTracking: true,
      states: {
        states: [{ value: 0, label: 'Open', defaultStatus: 1 }, { value: 1, label: 'Won', defaultStatus: 3 }, { value: 2, label: 'Lost', defaultStatus: 4 }],
        statuses: [
          { value: 1, label: 'In Progress', state: 0 }, { value: 2, label: 'On Hold', state: 0 }, { value: 3, label: 'Won', state: 1 },
          { value: 4, label: 'Canceled', state: 2 }, { value: 5, label: 'Out-Sold', state: 2 },
        ],
      },
      columns: [
        str('name', 300, { displayName: 'Topic', required: 'ApplicationRequired' }), customer('customerid'),
        lookup('parentaccountid', ['account']), lookup('parentcontactid', ['contact']), lookup('originatingleadid', ['lead']),
        money('estimatedvalue'), date('estimatedclosedate', true), money('actualvalue'), date('actualclosedate', true),
        picklist('salesstage', [[0, 'Qualify'], [1, 'Develop'], [2, 'Propose'], [3, 'Close']], { displayName: 'Sales Stage' }),
        str('stepname', 200, { displayName: 'Pipeline Phase' }), int('closeprobability', { minValue: 0, maxValue: 100 }),
        picklist('opportunityratingcode', [[1, 'Hot'], [2, 'Warm'], [3, 'Cold']], { displayName: 'Rating' }),
        memo('description'),
      ],
    }),
    table({
      logicalName: 'systemuser', entitySetName: 'systemusers', primaryName: 'fullname', objectTypeCode: 8, displayName: 'User',
      displayCollectionName: 'Users', ownership: 'BusinessOwned', changeTracking: true,
      columns: [
        str('fullname', 200, { readOnly: true }), str('firstname', 64), str('lastname', 64), str('internalemailaddress', 100, { displayName: 'Primary Email' }),
        str('domainname', 1024, { displayName: 'User Name' }), bool('isdisabled', 'Disabled', 'Enabled'), uid('applicationid'),
        uid('azureactivedirectoryobjectid'), lookup('businessunitid', ['businessunit']), str('title', 128),
        picklist('accessmode', [[0, 'Read-Write'], [1, 'Administrative'], [2, 'Read'], [3, 'Support User'], [4, 'Non-interactive'], [5, 'Delegated Admin']], { displayName: 'Access Mode' }),
      ],
    }),
    table({
      logicalName: 'businessunit', entitySetName: 'businessunits', primaryName: 'name', objectTypeCode: 10, displayName: 'Business Unit',
      displayCollectionName: 'Business Units', ownership: 'BusinessOwned',
      columns: [str('name', 160), lookup('parentbusinessunitid', ['businessunit'])],
    }),
    table({
      logicalName: 'organization', entitySetName: 'organizations', primaryName: 'name', objectTypeCode: 1019, displayName: 'Organization',
      displayCollectionName: 'Organizations', ownership: 'None',
      columns: [str('name', 160), int('languagecode'), int('expirechangetrackingindays'), lookup('basecurrencyid', ['transactioncurrency'])],
    }),
    table({
      logicalName: 'sdkmessage', entitySetName: 'sdkmessages', primaryName: 'name', objectTypeCode: 4606, displayName: 'Sdk Message',
      displayCollectionName: 'Sdk Messages', ownership: 'None',
      columns: [str('name', 256), str('categoryname', 25), bool('isprivate'), bool('workflowsdkstepenabled')],
    }),
    table({
      logicalName: 'sdkmessagefilter', entitySetName: 'sdkmessagefilters', primaryName: 'name', objectTypeCode: 4607, displayName: 'Sdk Message Filter',
      displayCollectionName: 'Sdk Message Filters', ownership: 'None',
      columns: [
        str('name', 256), lookup('sdkmessageid', ['sdkmessage']), str('primaryobjecttypecode', 100, { displayName: 'Primary Object Type Code' }),
        str('secondaryobjecttypecode', 100), bool('iscustomprocessingstepallowed'),
      ],
    }),
    table({
      logicalName: 'serviceendpoint', entitySetName: 'serviceendpoints', primaryName: 'name', objectTypeCode: 4618, displayName: 'Service Endpoint',
      displayCollectionName: 'Service Endpoints', ownership: 'OrganizationOwned',
      columns: [
        str('name', 256, { required: 'SystemRequired' }), memo('description'), str('url', 2000),
        picklist('contract', [[1, 'OneWay'], [2, 'Queue'], [3, 'Rest'], [4, 'TwoWay'], [5, 'Topic'], [6, 'Queue (Persistent)'], [7, 'Event Hub'], [8, 'Webhook'], [9, 'Event Grid'], [10, 'Managed Data Lake']], { required: 'SystemRequired' }),
        picklist('connectionmode', [[1, 'Normal'], [2, 'Federated']], { required: 'SystemRequired' }),
        picklist('authtype', [[1, 'ACS'], [2, 'SAS Key'], [3, 'SAS Token'], [4, 'Webhook Key'], [5, 'Http Header'], [6, 'Http Query String'], [7, 'Connection String'], [8, 'Access Key']]),
        str('authvalue', 2048, { writeOnly: true }),
        picklist('messageformat', [[1, 'Binary XML'], [2, 'Json'], [3, 'Text XML']]),
        picklist('userclaim', [[1, 'None'], [2, 'UserId'], [3, 'UserInfo']], { required: 'SystemRequired' }),
        picklist('namespaceformat', [[1, 'Namespace Name'], [2, 'Namespace Address']]),
        picklist('messagecharset', [[0, 'Default'], [1, 'UTF8']]),
        str('path', 160), str('solutionnamespace', 160), str('namespaceaddress', 255), str('saskeyname', 256),
      ],
    }),
    table({
      logicalName: 'sdkmessageprocessingstep', entitySetName: 'sdkmessageprocessingsteps', primaryName: 'name', objectTypeCode: 4608,
      displayName: 'Sdk Message Processing Step', displayCollectionName: 'Sdk Message Processing Steps', ownership: 'UserOwned',
      states: {
        states: [{ value: 0, label: 'Enabled', defaultStatus: 1 }, { value: 1, label: 'Disabled', defaultStatus: 2 }],
        statuses: [{ value: 1, label: 'Enabled', state: 0 }, { value: 2, label: 'Disabled', state: 1 }],
      },
      columns: [
        str('name', 256), memo('description'), lookup('sdkmessageid', ['sdkmessage']), lookup('sdkmessagefilterid', ['sdkmessagefilter']),
        column({ logicalName: 'eventhandler', kind: 'Lookup', targets: ['serviceendpoint'], polymorphic: true }),
        picklist('stage', [[10, 'Initial Pre-operation (For internal use only)'], [20, 'Pre-operation'], [40, 'Post-operation']]),
        picklist('mode', [[0, 'Synchronous'], [1, 'Asynchronous']]),
        int('rank'), str('filteringattributes', 100000), bool('asyncautodelete'),
        picklist('supporteddeployment', [[0, 'Server Only'], [1, 'Microsoft Dynamics 365 Client for Outlook Only'], [2, 'Both']]),
        picklist('invocationsource', [[-1, 'Internal'], [0, 'Parent'], [1, 'Child']]),
        memo('configuration'),
      ],
    }),
  ];
}

/** Navigation property used to bind / expand a lookup for a given target table. */
export function navigationName(attr: AttributeDef, target: string): string {
  return attr.polymorphic ? `${attr.logicalName}_${target}` : attr.logicalName;
}

export const isLookupKind = (kind: AttributeKind) => kind === 'Lookup' || kind === 'Customer' || kind === 'Owner';
export const isChoiceKind = (kind: AttributeKind) =>
  kind === 'Picklist' || kind === 'State' || kind === 'Status' || kind === 'MultiSelectPicklist';
