/**
 * What the sync benchmarks do from outside the product: act as a person in either sandbox (so the real
 * webhooks fire), read the sandboxes' write logs (`/__sandbox/writes`), flip sandbox switches, and read the
 * server's public `/metrics`. Nothing here reaches into the server's code.
 */
import { request, requestOk } from './http.ts';
import type { SandboxLine } from './sandboxes.ts';

const DATAVERSE_API = '/api/data/v9.2';
/** Dataverse's `$batch` limit. */
const BATCH_MAX = 1000;

export interface WriteEntry {
  at: number;
  by: 'app' | 'user';
  kind: 'create' | 'update';
}

export interface WriteTotals {
  creates: number;
  updates: number;
  lastCreateAt: number | null;
  lastUpdateAt: number | null;
}

export class People {
  constructor(private readonly info: SandboxLine) {}

  private get dvHeaders(): Record<string, string> {
    return { authorization: `Bearer ${this.info.dataverse.userToken}`, 'content-type': 'application/json', accept: 'application/json', 'odata-version': '4.0' };
  }

  private get hsHeaders(): Record<string, string> {
    return { authorization: `Bearer ${this.info.hubspot.userToken}`, 'content-type': 'application/json' };
  }

  /**
   * Creates Dynamics contacts as a person through `$batch` (1,000 per request): Dataverse counts one batch as
   * one request against service protection, so thousands of rows take seconds. Returns their ids in order.
   */
  async createDynamicsContacts(rows: Array<Record<string, unknown>>): Promise<string[]> {
    const ids: string[] = [];
    for (let i = 0; i < rows.length; i += BATCH_MAX) {
      const boundary = `batch_${i}_${Date.now()}`;
      const parts = rows.slice(i, i + BATCH_MAX).map((row) =>
        `--${boundary}\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nPOST ${DATAVERSE_API}/contacts HTTP/1.1\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(row)}\r\n`);
      const res = await requestOk(`${this.info.dataverse.orgUrl}${DATAVERSE_API}/$batch`, {
        method: 'POST',
        headers: { ...this.dvHeaders, 'content-type': `multipart/mixed; boundary=${boundary}` },
        body: `${parts.join('')}--${boundary}--\r\n`,
      });
      const found = [...res.body.matchAll(/OData-EntityId: [^\r\n]*\(([0-9a-f-]{36})\)/gi)].map((m) => m[1].toLowerCase());
      if (found.length !== Math.min(BATCH_MAX, rows.length - i)) throw new Error(`$batch created ${found.length} of ${Math.min(BATCH_MAX, rows.length - i)} contacts: ${res.body.slice(0, 300)}`);
      ids.push(...found);
    }
    return ids;
  }

  async updateDynamicsContact(id: string, fields: Record<string, unknown>): Promise<void> {
    await requestOk(`${this.info.dataverse.orgUrl}${DATAVERSE_API}/contacts(${id})`, { method: 'PATCH', headers: this.dvHeaders, body: JSON.stringify(fields) });
  }

  async updateHubSpotContact(id: string, properties: Record<string, string>): Promise<void> {
    await requestOk(`${this.info.hubspot.baseUrl}/crm/v3/objects/contacts/${id}`, { method: 'PATCH', headers: this.hsHeaders, body: JSON.stringify({ properties }) });
  }

  /** Every HubSpot contact with the given properties (a person's token: not rate-limited, so not the server's budget). */
  async listHubSpotContacts(properties: string[]): Promise<Array<{ id: string; properties: Record<string, string | null> }>> {
    const out: Array<{ id: string; properties: Record<string, string | null> }> = [];
    let after: string | undefined;
    do {
      const q = `limit=100&properties=${properties.join(',')}${after ? `&after=${after}` : ''}`;
      const page = JSON.parse((await requestOk(`${this.info.hubspot.baseUrl}/crm/v3/objects/contacts?${q}`, { headers: this.hsHeaders })).body) as {
        results: Array<{ id: string; properties: Record<string, string | null> }>;
        paging?: { next?: { after: string } };
      };
      out.push(...page.results);
      after = page.paging?.next?.after;
    } while (after);
    return out;
  }

  /**
   * Switches every SDK step on or off, as an admin would in the Plug-in Registration Tool. Off, Dataverse does
   * not call the server: rows created meanwhile are found only by change tracking, like records that existed
   * before the integration was installed.
   */
  async setDynamicsSteps(enabled: boolean): Promise<number> {
    const base = `${this.info.dataverse.orgUrl}${DATAVERSE_API}`;
    const list = JSON.parse((await requestOk(`${base}/sdkmessageprocessingsteps?$select=sdkmessageprocessingstepid,statecode`, { headers: this.dvHeaders })).body) as {
      value: Array<{ sdkmessageprocessingstepid: string; statecode: number }>;
    };
    const want = enabled ? 0 : 1;
    const changing = list.value.filter((s) => s.statecode !== want);
    for (const s of changing) {
      await requestOk(`${base}/sdkmessageprocessingsteps(${s.sdkmessageprocessingstepid})`, {
        method: 'PATCH', headers: this.dvHeaders, body: JSON.stringify({ statecode: want, statuscode: enabled ? 1 : 2 }),
      });
    }
    return changing.length;
  }

  async setHubSpotRateLimits(enabled: boolean): Promise<void> {
    await requestOk(`${this.info.hubspot.baseUrl}/__sandbox/rate-limits`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ enabled }) });
  }

  /** How many webhook POSTs HubSpot may have in flight to the server (the app's throttling setting). */
  async hubspotWebhookConcurrency(): Promise<number | undefined> {
    const body = JSON.parse((await requestOk(`${this.info.hubspot.baseUrl}/__sandbox/webhooks`)).body) as { settings: { throttling: { maxConcurrentRequests: number } } | null };
    return body.settings?.throttling.maxConcurrentRequests;
  }

  /** Resolves once HubSpot has delivered every webhook it has queued. */
  async hubspotWebhooksIdle(): Promise<void> {
    await requestOk(`${this.info.hubspot.baseUrl}/__sandbox/webhooks/idle`, { method: 'POST' });
  }
}

/** A sandbox's write log: which record was written when, by a person or by the integration. */
export class WriteLogClient {
  constructor(private readonly baseUrl: string) {}

  /** Counts per record type (`contacts`, `contact`, …) and writer. */
  async totals(): Promise<Record<string, { app: WriteTotals; user: WriteTotals }>> {
    return (JSON.parse((await requestOk(`${this.baseUrl}/__sandbox/writes`)).body) as { totals: Record<string, { app: WriteTotals; user: WriteTotals }> }).totals;
  }

  /** Keys are `<type>/<id>`: `contacts/101` in HubSpot, `contact/<guid>` in Dataverse. */
  async history(keys: string[]): Promise<Record<string, WriteEntry[]>> {
    const res = await requestOk(`${this.baseUrl}/__sandbox/writes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ records: keys }) });
    return (JSON.parse(res.body) as { records: Record<string, WriteEntry[]> }).records;
  }
}

/** The sum of a Prometheus metric's samples whose labels include `labels`; undefined when the server has no such metric. */
export async function metricSum(serverUrl: string, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  return sumOf(await scrape(serverUrl), name, labels);
}

export async function scrape(serverUrl: string): Promise<string> {
  const res = await request(`${serverUrl}/metrics`);
  return res.status === 200 ? res.body : '';
}

export function sumOf(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (!(line.startsWith(`${name}{`) || line.startsWith(`${name} `))) continue;
    const inner = line.startsWith(`${name}{`) ? line.slice(name.length + 1, line.indexOf('}')) : '';
    if (!Object.entries(labels).every(([k, v]) => inner.includes(`${k}="${v}"`))) continue;
    sum = (sum ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until the product is at rest: HubSpot has delivered its webhooks, the server's queue is empty, and
 * neither sandbox has recorded a write for `stableMs`. Dataverse has no "webhooks idle" route, hence the last.
 */
export async function waitQuiet(o: { people: People; logs: WriteLogClient[]; serverUrl: string; timeoutMs?: number; stableMs?: number }): Promise<void> {
  const end = Date.now() + (o.timeoutMs ?? 60_000);
  let last = '';
  let stableSince = Date.now();
  while (Date.now() < end) {
    await o.people.hubspotWebhooksIdle();
    const text = await scrape(o.serverUrl);
    const busy = (sumOf(text, 'sync_queue_depth', { state: 'pending' }) ?? 0) + (sumOf(text, 'sync_queue_depth', { state: 'active' }) ?? 0);
    const snapshot = JSON.stringify(await Promise.all(o.logs.map((l) => l.totals())));
    if (snapshot !== last || busy > 0) {
      last = snapshot;
      stableSince = Date.now();
    } else if (Date.now() - stableSince >= (o.stableMs ?? 1000)) {
      return;
    }
    await sleep(200);
  }
  throw new Error('the product did not come to rest within the time allowed (queue not empty or still writing)');
}
