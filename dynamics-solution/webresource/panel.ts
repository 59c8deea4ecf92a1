import { readPanelConfig } from './config.ts';
import { embedRecordUrl, EmbedContractError, isEmbedEntity, parseEmbedResponse, type EmbedEntity } from './embed-contract.ts';
import type { PanelState, RecordInfo } from './render.ts';

/**
 * What the panel does, without the DOM: read the form's query string (PassParameters), the configuration,
 * the open record, then ask the sync server. Every outcome is a PanelState; nothing throws to the page.
 */

export interface FormParameters {
  /** Record id without braces, lower case; null on a create form (not saved yet). */
  id: string | null;
  typename: string | null;
  orgname: string | null;
}

/** PassParameters=true gives `?id={GUID}&orglcid=…&orgname=…&type=…&typename=…&userlcid=…`. */
export function parseFormParameters(search: string): FormParameters {
  const q = new URLSearchParams(search);
  const id = (q.get('id') ?? '').trim().replace(/^\{|\}$/g, '').toLowerCase();
  return {
    id: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id) ? id : null,
    typename: (q.get('typename') ?? '').toLowerCase() || null,
    orgname: q.get('orgname'),
  };
}

export interface RecordFields {
  hubspotId: string | null;
  email: string | null;
}

export interface PanelDeps {
  search: string;
  rawConfig: unknown;
  readRecord(entity: EmbedEntity, id: string): Promise<RecordFields>;
  fetch: (url: string, init: { headers: Record<string, string>; signal: AbortSignal; credentials: 'omit'; mode: 'cors' }) => Promise<{ status: number; json(): Promise<unknown>; text(): Promise<string> }>;
  /** Default 10 s: long enough for a cold server, short enough that the user gets an answer. */
  timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

export async function loadPanel(deps: PanelDeps): Promise<PanelState> {
  const form = parseFormParameters(deps.search);
  const entity = form.typename ?? '';
  if (!isEmbedEntity(entity)) return { kind: 'unsupported', entity };
  if (!form.id) return { kind: 'unsaved' };
  const { config, problem } = readPanelConfig(deps.rawConfig);
  if (!config) return { kind: 'not_configured', problem: problem ?? 'no configuration' };

  // The record read only supplies hints; if it fails (e.g. no read privilege on a column) the panel still works.
  const record: RecordInfo = { entity, id: form.id, hubspotId: null, email: null };
  let recordWarning: string | undefined;
  try {
    Object.assign(record, await deps.readRecord(entity, form.id));
  } catch (err) {
    recordWarning = `Could not read this ${entity} from Dynamics (${err instanceof Error ? err.message : String(err)}); showing what the sync server knows.`;
  }

  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    const url = embedRecordUrl(config.serverUrl, entity, form.id, record);
    const res = await deps.fetch(url, {
      headers: { Authorization: `Bearer ${config.embedCredential}`, Accept: 'application/json' },
      signal: controller.signal,
      // The bearer header is the only credential: no Dynamics cookies go to another origin.
      credentials: 'omit',
      mode: 'cors',
    });
    if (res.status === 401 || res.status === 403) return { kind: 'no_access', status: res.status, message: await errorMessage(res) };
    if (res.status !== 200) return { kind: 'server_error', status: res.status, detail: (await errorMessage(res)) ?? 'unexpected status' };
    let body: unknown;
    try {
      body = await res.json();
    } catch {
      return { kind: 'server_error', status: res.status, detail: 'the answer is not JSON' };
    }
    const data = parseEmbedResponse(body);
    if (data.status === 'linked' && data.hubspot) return { kind: 'linked', data: { ...data, hubspot: data.hubspot }, record, recordWarning };
    return { kind: 'not_synced', data, record, recordWarning };
  } catch (err) {
    if (err instanceof EmbedContractError) return { kind: 'server_error', status: 200, detail: `unexpected answer (${err.message})` };
    // fetch rejects on DNS/TLS/CORS failures and aborts alike; our timer tells the two apart.
    return { kind: 'unreachable', reason: timedOut ? 'timeout' : 'network', serverUrl: config.serverUrl, timeoutMs };
  } finally {
    clearTimeout(timer);
  }
}

/** `{ error: { message } }` from the server if it sent one (short, for display). */
async function errorMessage(res: { text(): Promise<string> }): Promise<string | undefined> {
  try {
    const parsed = JSON.parse(await res.text()) as { error?: { message?: unknown } };
    const m = parsed?.error?.message;
    return typeof m === 'string' && m ? m.slice(0, 300) : undefined;
  } catch {
    return undefined;
  }
}
