import type { DataverseConnector } from '../connectors/dataverse/connector.ts';
import { defaultMappings, type PairId } from '../sync/rules/pairs.ts';
import { watchedColumns } from '../sync/rules/watched-columns.ts';
import { LINKED_DYNAMICS_TABLES } from './connect.ts';

/**
 * Registering the two systems' webhooks at our server. In production the Dynamics side normally arrives with
 * the managed solution (service endpoint + SDK steps) and the HubSpot side with the app's project
 * configuration; these helpers do the same through the APIs, for the demo, tests and self-hosters without the
 * packaged deliverables. Both are idempotent (found by name / event type, updated in place).
 */

export const DATAVERSE_ENDPOINT_NAME = 'HubSpot sync';
const SDK_MESSAGES = ['Create', 'Update'] as const;

export interface DataverseWebhookRegistration {
  endpointId: string;
  /** Step ids by `<message> of <table>`. */
  steps: Record<string, string>;
}

const quote = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * Service endpoint (contract 8 = webhook, authtype 4 = WebhookKey: Dataverse appends `?code=<key>`) and one
 * asynchronous post-operation step (stage 40, mode 1) per message and table.
 */
export async function registerDataverseWebhook(
  dynamics: Pick<DataverseConnector, 'retrieveAll' | 'create' | 'update'>,
  o: { url: string; key: string; tables?: readonly string[] },
): Promise<DataverseWebhookRegistration> {
  const existing = await dynamics.retrieveAll('serviceendpoint', { select: ['serviceendpointid'], filter: `name eq ${quote(DATAVERSE_ENDPOINT_NAME)}`, annotations: false });
  let endpointId: string;
  if (existing[0]) {
    endpointId = String(existing[0].serviceendpointid);
    await dynamics.update('serviceendpoint', endpointId, { url: o.url, authvalue: o.key });
  } else {
    endpointId = await dynamics.create('serviceendpoint', {
      name: DATAVERSE_ENDPOINT_NAME, contract: 8, connectionmode: 1, authtype: 4, authvalue: o.key, messageformat: 2, namespaceformat: 2,
      userclaim: 1, url: o.url, path: '', solutionnamespace: '',
    });
  }
  const steps: Record<string, string> = {};
  for (const message of SDK_MESSAGES) {
    const [msg] = await dynamics.retrieveAll('sdkmessage', { select: ['sdkmessageid'], filter: `name eq ${quote(message)}`, annotations: false });
    if (!msg) throw new Error(`Dataverse has no sdkmessage named ${message}`);
    const messageId = String(msg.sdkmessageid);
    for (const table of o.tables ?? LINKED_DYNAMICS_TABLES) {
      const name = `${DATAVERSE_ENDPOINT_NAME}: ${message} of ${table}`;
      // Updates only of the columns that matter: our own writes (the HubSpot id column) would be echoes.
      const filtering = message === 'Update' ? { filteringattributes: watchedColumns(table as Exclude<PairId, 'systemuser'>).join(',') } : {};
      const [step] = await dynamics.retrieveAll('sdkmessageprocessingstep', { select: ['sdkmessageprocessingstepid', 'filteringattributes'], filter: `name eq ${quote(name)}`, annotations: false });
      if (step) {
        steps[`${message} of ${table}`] = String(step.sdkmessageprocessingstepid);
        if (message === 'Update' && (step.filteringattributes ?? '') !== filtering.filteringattributes) {
          await dynamics.update('sdkmessageprocessingstep', steps[`${message} of ${table}`], filtering);
        }
        continue;
      }
      const [filter] = await dynamics.retrieveAll('sdkmessagefilter', {
        select: ['sdkmessagefilterid'], filter: `primaryobjecttypecode eq ${quote(table)} and _sdkmessageid_value eq ${messageId}`, annotations: false,
      });
      if (!filter) throw new Error(`Dataverse has no ${message} message filter for ${table}`);
      steps[`${message} of ${table}`] = await dynamics.create('sdkmessageprocessingstep', {
        name, stage: 40, mode: 1, rank: 1, supporteddeployment: 0, asyncautodelete: false, ...filtering,
        'sdkmessageid@odata.bind': `/sdkmessages(${messageId})`,
        'sdkmessagefilterid@odata.bind': `/sdkmessagefilters(${String(filter.sdkmessagefilterid)})`,
        'eventhandler_serviceendpoint@odata.bind': `/serviceendpoints(${endpointId})`,
      });
    }
  }
  return { endpointId, steps };
}

const HUBSPOT_OBJECT_PAIRS: Record<'contact' | 'company' | 'deal', PairId[]> = {
  contact: ['lead', 'contact'],
  company: ['account'],
  deal: ['opportunity'],
};

/** HubSpot properties whose changes must reach Dynamics (mapped fields flowing HubSpot → Dynamics). */
export function subscribedProperties(object: 'contact' | 'company' | 'deal', prefix?: string): string[] {
  const names = new Set<string>();
  for (const pair of HUBSPOT_OBJECT_PAIRS[object]) {
    for (const row of defaultMappings(pair, { prefix })) {
      if (row.direction === 'toHubSpot' || row.kind === 'link' || row.kind === 'match') continue;
      names.add(row.hubspot);
    }
  }
  return [...names].sort();
}

/** The subscriptions the sync needs: creation, associationChange and propertyChange of mapped properties. */
export function hubspotSubscriptions(prefix?: string): Array<{ eventType: string; propertyName?: string }> {
  const out: Array<{ eventType: string; propertyName?: string }> = [];
  for (const object of ['contact', 'company', 'deal'] as const) {
    out.push({ eventType: `${object}.creation` }, { eventType: `${object}.associationChange` });
    for (const propertyName of subscribedProperties(object, prefix)) out.push({ eventType: `${object}.propertyChange`, propertyName });
  }
  return out;
}

/** Webhooks v3 developer API (`/webhooks/v3/{appId}/…?hapikey=`): target URL, then the missing subscriptions. */
export async function registerHubSpotAppWebhooks(o: {
  basePath: string;
  appId: string | number;
  developerApiKey: string;
  targetUrl: string;
  subscriptions?: Array<{ eventType: string; propertyName?: string }>;
}): Promise<{ created: number; existing: number }> {
  const base = `${o.basePath.replace(/\/+$/, '')}/webhooks/v3/${encodeURIComponent(String(o.appId))}`;
  const key = `hapikey=${encodeURIComponent(o.developerApiKey)}`;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}?${key}`, {
      method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };
  const settings = await call('PUT', '/settings', { targetUrl: o.targetUrl, throttling: { maxConcurrentRequests: 10 } });
  if (settings.status !== 200) throw new Error(`HubSpot webhook settings update failed: HTTP ${settings.status} ${JSON.stringify(settings.body)}`);
  const list = await call('GET', '/subscriptions');
  const have = new Set(((list.body as { results?: Array<{ eventType: string; propertyName?: string }> })?.results ?? []).map((s) => `${s.eventType}/${s.propertyName ?? ''}`));
  let created = 0;
  let existing = 0;
  for (const s of o.subscriptions ?? hubspotSubscriptions()) {
    if (have.has(`${s.eventType}/${s.propertyName ?? ''}`)) {
      existing++;
      continue;
    }
    const r = await call('POST', '/subscriptions', { ...s, active: true });
    if (r.status === 409) existing++;
    else if (r.status === 201 || r.status === 200) created++;
    else throw new Error(`HubSpot subscription ${s.eventType}${s.propertyName ? ` (${s.propertyName})` : ''} failed: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  }
  return { created, existing };
}
