/**
 * The seams between the Dataverse sandbox's parts: the Web API (tables, OData, metadata, batch),
 * the identity provider (tokens) and the plug-in pipeline (SDK steps → webhooks).
 * Each part depends on these types only, never on another part's internals.
 */

/** Who is calling, resolved from a bearer token. */
export interface Principal {
  systemUserId: string;
  /** Entra object id of the user or application (InitiatingUserAzureActiveDirectoryObjectId). */
  azureObjectId: string;
  kind: 'application' | 'user';
}

export type TokenCheck =
  | { ok: true; principal: Principal }
  | { ok: false; reason: 'missing' | 'invalid' | 'expired' };

export interface TokenVerifier {
  /** `authorization` is the raw header value (or undefined). */
  verify(authorization: string | undefined): TokenCheck;
}

/** A lookup value as the store keeps it. */
export interface StoredReference {
  id: string;
  logicalName: string;
}

/** Column values as the store keeps them: numbers for choices/money, ISO strings for dates, references for lookups. */
export type StoredValue = string | number | boolean | null | number[] | StoredReference;
export type StoredRecord = Record<string, StoredValue>;

/** Emitted by the store after a Create or Update is committed (not for rolled-back change sets). */
export interface RecordChange {
  message: 'Create' | 'Update';
  /** Logical name, e.g. `contact`. */
  entity: string;
  id: string;
  /** Only the columns the request set (plus modifiedon/modifiedby and the key), as stored. */
  changed: StoredRecord;
  /** The whole record before the operation (Update only). */
  pre?: StoredRecord;
  /** The whole record after the operation. */
  post: StoredRecord;
  principal: Principal;
  /** 1 for a direct Web API call. */
  depth: number;
  correlationId: string;
  requestId: string;
  operationCreatedOn: Date;
}

export type AttributeKind =
  | 'String' | 'Memo' | 'Integer' | 'BigInt' | 'Decimal' | 'Double' | 'Money' | 'Boolean' | 'DateTime'
  | 'Lookup' | 'Customer' | 'Owner' | 'Picklist' | 'MultiSelectPicklist' | 'State' | 'Status' | 'Uniqueidentifier';

/** What the plug-in pipeline needs to know about the org. */
export interface OrgInfo {
  organizationId: string;
  /** e.g. `sandbox.crm.dynamics.com`, sent as x-ms-dynamics-organization. */
  organizationName: string;
  businessUnitId: string;
  attributeKind(entity: string, column: string): AttributeKind | undefined;
  /** Display label of a choice value, for FormattedValues. */
  optionLabel(entity: string, column: string, value: number): string | undefined;
  primaryNameColumn(entity: string): string | undefined;
}

export interface ChangeFeed {
  /** Subscribes to committed changes; returns the unsubscribe function. */
  onChange(listener: (change: RecordChange) => void): () => void;
}

/** A registered webhook service endpoint (serviceendpoint row, contract 8). */
export interface WebhookEndpoint {
  id: string;
  name: string;
  url: string;
  /** 4 WebhookKey (`?code=`), 5 HttpHeader, 6 HttpQueryString. */
  authType: number;
  /** Raw key for WebhookKey; `<settings><setting name=".." value=".."/></settings>` for the other two. */
  authValue: string | null;
}

/** An enabled or disabled SDK step whose handler is a webhook endpoint. */
export interface WebhookStep {
  id: string;
  name: string;
  message: 'Create' | 'Update' | string;
  /** Logical name of the primary entity. */
  entity: string;
  /** 10, 20 or 40 */
  stage: number;
  /** 0 sync, 1 async */
  mode: number;
  /** Empty means every column. */
  filteringAttributes: string[];
  enabled: boolean;
  endpoint: WebhookEndpoint;
}

export interface StepRegistry {
  /** Steps registered for a message on a table, enabled or not; read fresh each time. */
  stepsFor(message: string, entity: string): WebhookStep[];
}
