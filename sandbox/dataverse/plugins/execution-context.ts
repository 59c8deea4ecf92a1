/**
 * Builds the RemoteExecutionContext a webhook step receives, field for field as Dataverse sends it
 * (reference §3; shape checked against real payloads kept in public deserialiser tests).
 */
import type { OrgInfo, RecordChange, StoredRecord, StoredReference, StoredValue, WebhookStep } from '../contracts.ts';
import { contractType, pairs, wcfDate, type KeyValue } from './wcf-json.ts';

/** Id and name of the platform's core-operation extension as real parent contexts show it. */
const CORE_OPERATION_EXTENSION = { id: 'a5c1e1f6-6b3a-4f8e-9f2d-3c2e1d0b9a81', name: 'ObjectModel Implementation' };

/** The stage of the core operation that a post-operation async step's ParentContext describes. */
const MAIN_OPERATION_STAGE = 30;

const isReference = (v: StoredValue): v is StoredReference =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && typeof (v as StoredReference).logicalName === 'string';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T|$)/;

function entityReference(ref: StoredReference) {
  return { __type: contractType('EntityReference'), Id: ref.id, KeyAttributes: [], LogicalName: ref.logicalName, Name: null, RowVersion: null };
}

function optionSetValue(value: number) {
  return { __type: contractType('OptionSetValue'), Value: value };
}

/** One attribute value in SDK form: typed wrappers where the SDK has a class, plain JSON otherwise. */
export function sdkValue(org: OrgInfo, entity: string, column: string, value: StoredValue): unknown {
  if (value === null) return null;
  const kind = org.attributeKind(entity, column);
  switch (kind) {
    case 'Picklist':
    case 'State':
    case 'Status':
      if (typeof value === 'number') return optionSetValue(value);
      break;
    case 'MultiSelectPicklist':
      if (Array.isArray(value)) return value.map(optionSetValue);
      break;
    case 'Money':
      if (typeof value === 'number') return { __type: contractType('Money'), Value: value };
      break;
    case 'DateTime':
      if (typeof value === 'string') return wcfDate(value);
      break;
  }
  if (isReference(value)) return entityReference(value);
  // Columns the org metadata does not describe: ISO timestamps are still dates to the SDK.
  if (kind === undefined && typeof value === 'string' && ISO_DATE.test(value) && Number.isFinite(Date.parse(value))) return wcfDate(value);
  return value;
}

/** `2023-10-17T09:00:00+00:00`: the SDK formats dates in the user's zone; the sandbox's users all live in UTC. */
function formattedDate(iso: string): string | undefined {
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00') : undefined;
}

/** FormattedValues: display labels of choices and yes/no columns, and dates, as the SDK adds them for a Target. */
export function formattedValue(org: OrgInfo, entity: string, column: string, value: StoredValue): string | undefined {
  if (value === null) return undefined;
  switch (org.attributeKind(entity, column)) {
    case 'Picklist':
    case 'State':
    case 'Status':
      return typeof value === 'number' ? org.optionLabel(entity, column, value) : undefined;
    case 'MultiSelectPicklist': {
      if (!Array.isArray(value)) return undefined;
      const labels = value.map((v) => org.optionLabel(entity, column, v));
      return labels.every((l) => l !== undefined) ? labels.join('; ') : undefined;
    }
    case 'Boolean':
      return typeof value === 'boolean' ? org.optionLabel(entity, column, value ? 1 : 0) : undefined;
    case 'DateTime':
      return typeof value === 'string' ? formattedDate(value) : undefined;
    default:
      return undefined;
  }
}

/** An `Entity` in DataContract form; member order is the serializer's (alphabetical, `__type` first). */
export function sdkEntity(org: OrgInfo, entity: string, id: string, record: StoredRecord) {
  const columns = Object.entries(record);
  const formatted: Array<[string, string]> = [];
  for (const [column, value] of columns) {
    const label = formattedValue(org, entity, column, value);
    if (label !== undefined) formatted.push([column, label]);
  }
  return {
    __type: contractType('Entity'),
    Attributes: pairs(columns.map(([column, value]) => [column, sdkValue(org, entity, column, value)] as [string, unknown])),
    EntityState: null,
    FormattedValues: pairs(formatted),
    Id: id,
    KeyAttributes: [],
    LogicalName: entity,
    RelatedEntities: [],
    RowVersion: null,
  };
}

export interface ContextIds {
  /** asyncoperation id for an async step (OperationId); the request id otherwise. */
  operationId: string;
}

/**
 * The unique org name Dataverse puts in OrganizationName (`org1a2b3c4d`, `unq…`); the sandbox has only the
 * domain, whose first label plays that part.
 */
const uniqueOrgName = (org: OrgInfo) => org.organizationName.split('.')[0] ?? org.organizationName;

function userFields(change: RecordChange) {
  return {
    InitiatingUserAzureActiveDirectoryObjectId: change.principal.azureObjectId,
    InitiatingUserId: change.principal.systemUserId,
  };
}

const sharedVariables = (): KeyValue[] => pairs<unknown>([['IsAutoTransact', true], ['DefaultsAddedFlag', true]]);

/** The core operation's context (stage 30, synchronous, in the transaction) that an async step's context points to. */
function parentContext(change: RecordChange, org: OrgInfo) {
  return {
    BusinessUnitId: org.businessUnitId,
    CorrelationId: change.correlationId,
    Depth: change.depth,
    InitiatingUserAgent: '',
    ...userFields(change),
    InputParameters: [
      { key: 'Target', value: sdkEntity(org, change.entity, change.id, change.changed) },
      { key: 'SuppressDuplicateDetection', value: false },
    ],
    IsExecutingOffline: false,
    IsInTransaction: true,
    IsOfflinePlayback: false,
    IsolationMode: 1,
    MessageName: change.message,
    Mode: 0,
    OperationCreatedOn: wcfDate(change.operationCreatedOn),
    OperationId: change.requestId,
    OrganizationId: org.organizationId,
    OrganizationName: uniqueOrgName(org),
    OutputParameters: [],
    OwningExtension: { Id: CORE_OPERATION_EXTENSION.id, KeyAttributes: [], LogicalName: 'sdkmessageprocessingstep', Name: CORE_OPERATION_EXTENSION.name, RowVersion: null },
    ParentContext: null,
    PostEntityImages: [],
    PreEntityImages: [],
    PrimaryEntityId: change.id,
    PrimaryEntityName: change.entity,
    RequestId: change.requestId,
    SecondaryEntityName: 'none',
    SharedVariables: sharedVariables(),
    Stage: MAIN_OPERATION_STAGE,
    UserAzureActiveDirectoryObjectId: change.principal.azureObjectId,
    UserId: change.principal.systemUserId,
  };
}

export type RemoteExecutionContext = ReturnType<typeof buildRemoteExecutionContext>;

/**
 * Create's Target is the whole new record (defaults included) and its OutputParameters carry `id`; Update's
 * Target holds only the columns the request set plus modifiedon/modifiedby and the key. Images are not
 * registered through this sandbox, so both image collections stay empty.
 */
export function buildRemoteExecutionContext(change: RecordChange, step: WebhookStep, org: OrgInfo, ids: ContextIds) {
  const target = change.message === 'Create' ? change.post : change.changed;
  const isAsync = step.mode === 1;
  return {
    BusinessUnitId: org.businessUnitId,
    CorrelationId: change.correlationId,
    Depth: change.depth,
    InitiatingUserAgent: '',
    ...userFields(change),
    InputParameters: [{ key: 'Target', value: sdkEntity(org, change.entity, change.id, target) }],
    IsExecutingOffline: false,
    // An async step runs after the transaction has committed; a sync one (were it honoured) inside it.
    IsInTransaction: !isAsync,
    IsOfflinePlayback: false,
    IsolationMode: 1,
    MessageName: change.message,
    Mode: step.mode,
    OperationCreatedOn: wcfDate(change.operationCreatedOn),
    OperationId: ids.operationId,
    OrganizationId: org.organizationId,
    OrganizationName: uniqueOrgName(org),
    OutputParameters: change.message === 'Create' ? [{ key: 'id', value: change.id }] : [],
    OwningExtension: { Id: step.id, KeyAttributes: [], LogicalName: 'sdkmessageprocessingstep', Name: step.name, RowVersion: null },
    ParentContext: isAsync ? parentContext(change, org) : null,
    PostEntityImages: [] as KeyValue[],
    PreEntityImages: [] as KeyValue[],
    PrimaryEntityId: change.id,
    PrimaryEntityName: change.entity,
    RequestId: change.requestId,
    SecondaryEntityName: 'none',
    SharedVariables: sharedVariables(),
    Stage: step.stage,
    UserAzureActiveDirectoryObjectId: change.principal.azureObjectId,
    UserId: change.principal.systemUserId,
  };
}
