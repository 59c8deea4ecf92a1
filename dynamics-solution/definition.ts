import { watchedColumns } from '../server/src/sync/rules/watched-columns.ts';
import { componentId } from './ids.ts';
import { checkOptions, DEFAULT_OPTIONS, type BuildOptions } from './options.ts';

/**
 * Everything the integration installs in Dynamics, as data. The XML writers turn this into
 * customizations.xml / solution.xml; nothing about a component is decided anywhere else, so changing the
 * solution means changing this file (see README.md, "Changing the solution").
 *
 * Ids are derived from names (ids.ts), never stored: a renamed component is a new component.
 */

export type TableName = 'lead' | 'contact' | 'account' | 'opportunity';
export const TABLES: readonly TableName[] = ['lead', 'contact', 'account', 'opportunity'];

export interface Localized {
  /** English (1033) label; the solution ships one language. */
  displayName: string;
  description: string;
}

interface ColumnBase extends Localized {
  /** `<prefix>_Name`; the logical name is its lower case. */
  schemaName: string;
}
export type ColumnDef =
  | (ColumnBase & { type: 'text'; maxLength: number; format: 'text' | 'url' | 'email' })
  | (ColumnBase & { type: 'memo'; maxLength: number })
  | (ColumnBase & { type: 'datetime' })
  | (ColumnBase & { type: 'choice'; options: Array<{ value: number; label: string }> });

export interface KeyDef extends Localized {
  schemaName: string;
  columns: string[];
}

export interface TableDef {
  logicalName: TableName;
  /** Display name of the system table (Entity/Name@LocalizedName in customizations.xml). */
  displayName: string;
  columns: ColumnDef[];
  keys: KeyDef[];
}

export interface WebResourceDef extends Localized {
  id: string;
  /** `<prefix>_/hubspot/panel.html`: the name the platform serves it under (`/WebResources/<name>`). */
  name: string;
  /** learn webresource.md: 1 HTML, 3 JScript. */
  type: 1 | 3;
  /** Which build output is its body (webresource/build.ts). */
  content: 'panel' | 'config';
}

export interface FormTabDef {
  entity: TableName;
  /** Default main form of the table (same id in every org, reference/dataverse.md §1.6). */
  formId: string;
  formName: string;
  tab: { id: string; name: string; label: string };
  section: { id: string; name: string };
  cell: { id: string; rowspan: number };
  control: { id: string; webResource: WebResourceDef };
}

export interface ServiceEndpointDef extends Localized {
  id: string;
  name: string;
  /** learn serviceendpoint.md enums. */
  contract: 8; // Webhook
  connectionMode: 1; // Normal
  authType: 4; // WebhookKey: Dataverse appends ?code=<key>; the key is set after import, never shipped
  messageFormat: 2; // Json
  namespaceFormat: 2; // Address: the Url is used as is
  userClaim: 1; // None
  url: string;
}

export type SdkMessage = 'Create' | 'Update';
export interface StepDef extends Localized {
  id: string;
  name: string;
  message: SdkMessage;
  messageId: string;
  entity: TableName;
  stage: 40; // PostOperation: the row is committed, so the server reads what users will see
  mode: 1; // Asynchronous: a slow or down sync server never blocks a user's save
  rank: number;
  /** Update only: the step fires only when one of these changed (sorted, comma-joined in the XML). */
  filteringAttributes: string[];
  /** Delete the system job once it succeeded, so async jobs do not pile up in the org. */
  asyncAutoDelete: true;
  /** 0 = server only (not Outlook offline). */
  supportedDeployment: 0;
  /** 0 = parent pipeline: the user's own operation, not ones triggered by other plug-ins (also loop safety). */
  invocationSource: 0;
}

export interface SolutionDefinition {
  options: BuildOptions;
  solution: Localized & { uniqueName: string; version: string };
  publisher: Localized & { uniqueName: string; prefix: string; optionValuePrefix: number; email: string | null; website: string | null };
  tables: TableDef[];
  webResources: WebResourceDef[];
  formTabs: FormTabDef[];
  endpoint: ServiceEndpointDef;
  steps: StepDef[];
}

/** Well-known sdkmessage ids, identical in every org (reference/dataverse.md §1.7). */
export const SDK_MESSAGE_IDS: Record<SdkMessage, string> = {
  Create: '9ebdbb1b-ea3e-db11-86a7-000a3a5473e8',
  Update: '20bebb1b-ea3e-db11-86a7-000a3a5473e8',
};

/** Default main forms that get the HubSpot tab. Orgs can have more main forms; see README (open questions). */
export const MAIN_FORMS: Record<'lead' | 'contact', { formId: string; formName: string }> = {
  lead: { formId: 'e3b6ddb7-8df0-4410-ac7b-fd32e5053d38', formName: 'Lead' },
  contact: { formId: '1fed44d1-ae68-4a41-bd2b-f13acac4acfa', formName: 'Contact' },
};

/**
 * The tenant part of the webhook URL is not known when the zip is built (one zip serves every tenant).
 * The endpoint ships pointing at this placeholder; connecting a tenant PATCHes the endpoint's `url` to
 * `<serverUrl>/webhooks/dynamics/<tenantId>` and its `authvalue` to the tenant's webhook key. Until then the
 * server answers 404 ("no tenant not-connected") and Dataverse records a failed system job, nothing else.
 */
export const TENANT_PLACEHOLDER = 'not-connected';

/** Shared with the server's registration helper (server/src/tenants/webhooks.ts finds the endpoint and steps by these names). */
export const ENDPOINT_NAME = 'HubSpot sync';
export const stepName = (message: SdkMessage, table: TableName): string => `${ENDPOINT_NAME}: ${message} of ${table}`;

/** The Update steps' filtering attributes: the server's rule, so the solution and the server agree. */
export const UPDATE_FILTERS: Record<TableName, string[]> = Object.fromEntries(TABLES.map((t) => [t, watchedColumns(t)])) as Record<TableName, string[]>;

export const SOLUTION_UNIQUE_NAME = 'HubSpotDynamicsSync';
export const PUBLISHER_UNIQUE_NAME = 'hubspotdynamicssync';
/** Option values of our choice columns are `<optionValuePrefix>0000 + n` (Dataverse's convention). */
export const OPTION_VALUE_PREFIX = 72150;

export const SYNC_STATUS_LABELS = ['Synced', 'Pending', 'Error', 'Excluded'] as const;
export const syncStatusValue = (label: (typeof SYNC_STATUS_LABELS)[number], optionValuePrefix = OPTION_VALUE_PREFIX): number =>
  optionValuePrefix * 10000 + SYNC_STATUS_LABELS.indexOf(label);

function columnsFor(table: TableName, prefix: string, optionValuePrefix: number): ColumnDef[] {
  const object = table === 'opportunity' ? 'deal' : table === 'account' ? 'company' : 'contact';
  const cols: ColumnDef[] = [
    {
      schemaName: `${prefix}_HubSpotId`, type: 'text', maxLength: 100, format: 'text', displayName: 'HubSpot ID',
      description: `Id of the linked HubSpot ${object} (set by the HubSpot sync; alternate key for idempotent upserts).`,
    },
    {
      schemaName: `${prefix}_HubSpotUrl`, type: 'text', maxLength: 500, format: 'url', displayName: 'HubSpot record',
      description: `Link that opens the linked HubSpot ${object}.`,
    },
    { schemaName: `${prefix}_LastSyncedOn`, type: 'datetime', displayName: 'Last synced', description: 'When the HubSpot sync last wrote or confirmed this record.' },
    {
      schemaName: `${prefix}_SyncStatus`, type: 'choice', displayName: 'HubSpot sync status', description: 'Outcome of the last sync of this record.',
      options: SYNC_STATUS_LABELS.map((label) => ({ value: syncStatusValue(label, optionValuePrefix), label })),
    },
    {
      schemaName: `${prefix}_SyncError`, type: 'memo', maxLength: 4000, displayName: 'HubSpot sync error',
      description: 'What failed in the last sync, why, and how to fix it (empty when the last sync succeeded).',
    },
  ];
  // The server's default field table writes HubSpot's lifecycle stage label here (HubSpot → Dynamics only).
  if (table !== 'opportunity') {
    cols.push({ schemaName: `${prefix}_LifecycleStage`, type: 'text', maxLength: 100, format: 'text', displayName: 'HubSpot lifecycle stage', description: 'Lifecycle stage of the linked HubSpot record (label), kept up to date by the sync.' });
  }
  return cols;
}

const TABLE_NAMES: Record<TableName, string> = { lead: 'Lead', contact: 'Contact', account: 'Account', opportunity: 'Opportunity' };

export function defineSolution(input: Partial<BuildOptions> = {}): SolutionDefinition {
  // An option given as undefined means "the default", not "no value".
  const given = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as Partial<BuildOptions>;
  const options = checkOptions({ ...DEFAULT_OPTIONS, ...given });
  const { prefix } = options;
  const optionValuePrefix = OPTION_VALUE_PREFIX;

  const webResource = (name: string, rest: Omit<WebResourceDef, 'id' | 'name'>): WebResourceDef => ({ id: componentId('webresource', name), name, ...rest });
  const panel = webResource(`${prefix}_/hubspot/panel.html`, {
    type: 1, content: 'panel', displayName: 'HubSpot panel',
    description: 'The HubSpot tab on the lead and contact forms: shows the linked HubSpot contact and the sync state.',
  });
  const config = webResource(`${prefix}_/hubspot/config.js`, {
    type: 3, content: 'config', displayName: 'HubSpot panel configuration',
    description: 'Sync server URL and embed credential for the HubSpot panel; written by the connect step after import.',
  });

  const formTabs = (['lead', 'contact'] as const).map((entity): FormTabDef => {
    const { formId, formName } = MAIN_FORMS[entity];
    const at = (part: string) => componentId('form', `${formId}/${prefix}_hubspot/${part}`);
    return {
      entity, formId, formName,
      tab: { id: at('tab'), name: `${prefix}_tab_hubspot`, label: 'HubSpot' },
      section: { id: at('section'), name: `${prefix}_tab_hubspot_section` },
      // 20 rows ≈ 600 px: room for the summary, the activity list and the analytics without inner scrolling.
      cell: { id: at('cell'), rowspan: 20 },
      control: { id: `WebResource_${prefix}_hubspot`, webResource: panel },
    };
  });

  const url = `${options.serverUrl}/webhooks/dynamics/${TENANT_PLACEHOLDER}`;
  const endpoint: ServiceEndpointDef = {
    id: componentId('serviceendpoint', `${prefix}/${ENDPOINT_NAME}`), name: ENDPOINT_NAME,
    displayName: ENDPOINT_NAME, description: 'Sends lead, contact, account and opportunity changes to the HubSpot sync server.',
    contract: 8, connectionMode: 1, authType: 4, messageFormat: 2, namespaceFormat: 2, userClaim: 1, url,
  };

  const steps: StepDef[] = [];
  for (const entity of TABLES) {
    for (const message of ['Create', 'Update'] as const) {
      const name = stepName(message, entity);
      steps.push({
        id: componentId('sdkmessageprocessingstep', `${prefix}/${name}`), name, message, messageId: SDK_MESSAGE_IDS[message], entity,
        displayName: name, description: `Posts each ${message.toLowerCase()} of a ${entity} to the HubSpot sync server (asynchronous, after the save).`,
        stage: 40, mode: 1, rank: 1, asyncAutoDelete: true, supportedDeployment: 0, invocationSource: 0,
        filteringAttributes: message === 'Update' ? [...UPDATE_FILTERS[entity]].sort() : [],
      });
    }
  }

  return {
    options,
    solution: {
      uniqueName: SOLUTION_UNIQUE_NAME, version: options.version, displayName: 'HubSpot ⇄ Dynamics 365 Sync',
      description: 'Columns, the HubSpot tab on lead and contact forms, and the webhook that sends changes to the HubSpot sync server.',
    },
    publisher: {
      uniqueName: PUBLISHER_UNIQUE_NAME, displayName: 'HubSpot Dynamics Sync', description: 'Publisher of the HubSpot ⇄ Dynamics 365 Sync solution.',
      prefix, optionValuePrefix, email: null, website: null,
    },
    tables: TABLES.map((logicalName) => ({
      logicalName, displayName: TABLE_NAMES[logicalName],
      columns: columnsFor(logicalName, prefix, optionValuePrefix),
      // Same schema name the server's connect step uses (connectors/dataverse/metadata.ts), so either creates it once.
      keys: [{ schemaName: `${prefix}_hubspotid_key`, columns: [`${prefix}_hubspotid`], displayName: 'HubSpot ID', description: 'Upsert key of the HubSpot sync.' }],
    })),
    webResources: [panel, config],
    formTabs,
    endpoint,
    steps,
  };
}

export const logicalNameOf = (c: { schemaName: string }): string => c.schemaName.toLowerCase();
