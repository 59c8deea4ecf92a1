import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { loadConfig } from '../../../server/src/config.ts';
import { createMetrics } from '../../../server/src/observability/metrics.ts';
import { loadKeyring } from '../../../server/src/security/key-file.ts';
import { createDatabase, openStore, type Db } from '../../../server/src/store/index.ts';
import { TenantContexts } from '../../../server/src/sync/tenant-context.ts';
import { connectTenant, createTenant, registerDataverseWebhook, registerHubSpotAppWebhooks } from '../../../server/src/tenants/index.ts';
import { sandboxTenantInput } from '../../../scripts/sandbox-tenant.ts';
import { adminQuery, dropScratchDatabase, PG_ADMIN_URL } from '../store/harness.ts';

/**
 * End-to-end harness: every piece runs as its own process or real HTTP server, the way an operator runs them.
 *
 * - `startSandboxProcess` runs `npm run sandbox -- --json` (sandbox/cli.ts) and reads its one JSON line; the
 *   sandboxes outlive any server process, so a server can be killed and started again against them.
 * - `startServerProcess` runs the server CLI (`tsx server/src/main.ts`, the README's server-only entry, which
 *   reads WORKER_CONCURRENCY and JOB_LEASE_SECONDS) on a fixed port, against SQLite (`DATA_DIR`) or
 *   PostgreSQL (`DATABASE_URL`).
 * - `setUpTenant` does what the demo's start script does (create + connect the tenant, register both systems'
 *   webhooks at the server's URL) through the product's own tenant functions, before the server starts.
 * - Writes are counted where they land: `startHubSpotRecorder` is a transparent HTTP proxy in front of the
 *   HubSpot sandbox (the tenant's HubSpot base URL points at it) that counts every successful record write
 *   per HubSpot id; `startDataverseWriteCounter` registers its own service endpoint and SDK steps in the
 *   Dataverse sandbox, so Dataverse itself reports every Create/Update with the user who made it.
 */

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const silent = pino({ level: 'silent' });

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits for a condition with a deadline; the error names what was awaited and the last state seen. */
export async function until(what: string, check: () => Promise<boolean | string> | boolean | string, timeoutMs = 20_000, stepMs = 50): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const r = await check();
      if (r === true) return;
      last = r;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last === false || last === undefined ? '' : ` (last: ${last instanceof Error ? last.message : String(last)})`}`);
    await sleep(stepMs);
  }
}

// ── processes ───────────────────────────────────────────────────────────────────────────────────────────

export interface ChildRun {
  child: ChildProcess;
  /** The stdout line that said the process is ready. */
  readyLine: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Last lines of stdout and stderr, for failure messages. */
  tail(): string;
  /** Sends `signal` (default SIGTERM) unless the process already ended, and waits for it to end (SIGKILL after 10 s). */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Spawns `node --import tsx <args>` in the repo root and resolves once a stdout line satisfies `ready`.
 * Output keeps being read (a full pipe would block the child) into a short tail for diagnostics.
 */
export async function spawnUntilReady(args: string[], env: NodeJS.ProcessEnv, ready: (line: string) => boolean, timeoutMs = 30_000): Promise<ChildRun> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const keep = (l: string) => {
    lines.push(l.length > 2000 ? `${l.slice(0, 2000)}…` : l);
    if (lines.length > 300) lines.splice(0, lines.length - 300);
  };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.once('exit', (code, signal) => res({ code, signal })));
  createInterface({ input: child.stderr! }).on('line', keep);
  const out = createInterface({ input: child.stdout! });
  const tail = () => lines.slice(-60).join('\n');
  const readyLine = await new Promise<string>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${args.join(' ')} not ready after ${timeoutMs} ms:\n${tail()}`)), timeoutMs);
    out.on('line', (l) => {
      keep(l);
      if (ready(l)) {
        clearTimeout(timer);
        res(l);
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      rej(new Error(`${args.join(' ')} exited before it was ready (code ${code}, signal ${signal}):\n${tail()}`));
    });
  });
  return {
    child,
    readyLine,
    exited,
    tail,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Scripts read the environment: the test run's own variables must not leak into the product's processes. */
export function cleanEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['HUBSPOT_CLIENT_ID', 'HUBSPOT_CLIENT_SECRET', 'HUBSPOT_APP_ID', 'SYNC_SANDBOX', 'DATABASE_URL', 'DATA_DIR', 'ENCRYPTION_KEY',
    'ENCRYPTION_KEY_ID', 'ENCRYPTION_OLD_KEYS', 'PUBLIC_URL', 'PORT', 'WORKER_CONCURRENCY', 'JOB_LEASE_SECONDS', 'POLL_INTERVAL_MINUTES', 'LOG_LEVEL']) delete env[k];
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

export interface SandboxInfo {
  hubspot: { baseUrl: string; portalId: number; appId: number; clientId: string; clientSecret: string; developerApiKey: string; accessToken: string; refreshToken: string; userToken: string };
  dataverse: {
    orgUrl: string; tenantId: string; authorityUrl: string; clientId: string; clientSecret: string; applicationUserId: string; userToken: string; userId: string;
    caCert: string; authorityMetadata: string; cloudDiscoveryMetadata: string;
  };
}

/** `npm run sandbox -- --json` on free ports, in its own process. */
export async function startSandboxProcess(flags: string[] = []): Promise<{ info: SandboxInfo; proc: ChildRun }> {
  const env = cleanEnv({ HUBSPOT_SANDBOX_LOG_LEVEL: 'error', SANDBOX_LOG_LEVEL: 'error' });
  const proc = await spawnUntilReady(['sandbox/cli.ts', '--json', '--hubspot-port', '0', '--dataverse-port', '0', '--identity-port', '0', ...flags], env, (l) => l.startsWith('{"hubspot"'));
  return { info: JSON.parse(proc.readyLine) as SandboxInfo, proc };
}

/** A port nobody listens on right now (the server is given a fixed port so it can restart on the same URL). */
export async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

// ── storage ─────────────────────────────────────────────────────────────────────────────────────────────

export type Dialect = 'sqlite' | 'postgres';

export interface Storage {
  dialect: Dialect;
  /** The server's environment for this storage. */
  env: Record<string, string>;
  config: { dataDir: string; databaseUrl?: string };
  /** A plain connection for assertions (no migrations); close it after use. */
  db(): Db;
  destroy(): Promise<void>;
}

export async function createStorage(dialect: Dialect): Promise<Storage> {
  if (dialect === 'sqlite') {
    const dataDir = mkdtempSync(join(tmpdir(), 'sync-e2e-'));
    return {
      dialect, env: { DATA_DIR: dataDir }, config: { dataDir },
      db: () => createDatabase({ dataDir }),
      destroy: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const name = `sync_e2e_${randomBytes(6).toString('hex')}`;
  await adminQuery(`create database ${name}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  return {
    dialect, env: { DATABASE_URL: databaseUrl, ENCRYPTION_KEY: randomBytes(32).toString('base64') }, config: { dataDir: '/nonexistent', databaseUrl },
    db: () => createDatabase({ dataDir: '/nonexistent', databaseUrl, poolSize: 2 }),
    destroy: () => dropScratchDatabase(name),
  };
}

// ── write counters ──────────────────────────────────────────────────────────────────────────────────────

const HUBSPOT_WRITE = /^\/crm\/v3\/objects\/(contacts|companies|deals)(?:\/batch\/(?:create|update|upsert)|\/(?!batch\/|search$)[^/]+)?$/;

export interface HubSpotRecorder {
  /** Base URL to give the tenant instead of the sandbox's. */
  url: string;
  /** Successful writes per `<object>/<id>`, from the sandbox's own answers. */
  writes: Map<string, number>;
  writesTo(object: string, id: string): number;
  totalWrites(object?: string): number;
  /** Each counted write: the record and the property names sent for it (empty when unknown). */
  log: Array<{ key: string; properties: string[] }>;
  /** Property names of each write to one record, oldest first. */
  writesOf(object: string, id: string): string[][];
  /** Requests answered by the sandbox, by status (429, 500, …), all paths. */
  statuses: Map<number, number>;
  /**
   * Called with each answer's status before it is passed on (calls are serialised): lets a test switch the
   * sandbox's faults the moment the server has received one, before the server can try again.
   */
  beforeAnswer?: (status: number) => Promise<void>;
  close(): Promise<void>;
}

const readBody = (req: IncomingMessage) =>
  new Promise<Buffer>((res, rej) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => res(Buffer.concat(chunks)));
    req.on('error', rej);
  });

const HOP_BY_HOP = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'content-encoding', 'upgrade', 'proxy-connection']);

/**
 * Transparent HTTP proxy to the HubSpot sandbox. Every 2xx answer to a record write (create, update, batch
 * create/update/upsert) counts one write per record id in the answer, so batching does not change the count.
 */
export async function startHubSpotRecorder(target: string): Promise<HubSpotRecorder> {
  const writes = new Map<string, number>();
  const log: HubSpotRecorder['log'] = [];
  const statuses = new Map<number, number>();
  let hooks: Promise<unknown> = Promise.resolve();
  const server: Server = createHttpServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      const upstream = await fetch(`${target}${req.url}`, { method: req.method, headers, body: body.length > 0 ? body : undefined, redirect: 'manual' });
      const out = Buffer.from(await upstream.arrayBuffer());
      statuses.set(upstream.status, (statuses.get(upstream.status) ?? 0) + 1);
      const path = (req.url ?? '').split('?')[0];
      const m = HUBSPOT_WRITE.exec(path);
      if (m && req.method !== 'GET' && req.method !== 'DELETE' && upstream.status >= 200 && upstream.status < 300) {
        const parsed = JSON.parse(out.toString('utf8') || '{}') as { id?: string; results?: Array<{ id: string }> };
        const sent = JSON.parse(body.toString('utf8') || '{}') as { properties?: Record<string, unknown>; inputs?: Array<{ properties?: Record<string, unknown> }> };
        const results = parsed.results ?? (parsed.id ? [{ id: parsed.id }] : []);
        results.forEach((r, i) => {
          const key = `${m[1]}/${r.id}`;
          writes.set(key, (writes.get(key) ?? 0) + 1);
          // Batch answers list the records in input order (the sandbox keeps it; ids are what is counted anyway).
          const props = sent.inputs ? (sent.inputs.length === results.length ? sent.inputs[i]?.properties : undefined) : sent.properties;
          log.push({ key, properties: Object.keys(props ?? {}).sort() });
        });
      }
      if (recorder.beforeAnswer) {
        const hook = recorder.beforeAnswer;
        const turn = hooks.then(() => hook(upstream.status));
        hooks = turn.catch(() => undefined);
        await turn;
      }
      const outHeaders: Record<string, string> = {};
      upstream.headers.forEach((v, k) => {
        if (!HOP_BY_HOP.has(k)) outHeaders[k] = v;
      });
      res.writeHead(upstream.status, outHeaders);
      res.end(out);
    })().catch(() => res.socket?.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const recorder: HubSpotRecorder = {
    url: `http://127.0.0.1:${port}`,
    writes,
    log,
    statuses,
    writesOf: (object, id) => log.filter((l) => l.key === `${object}/${id}`).map((l) => l.properties),
    writesTo: (object, id) => writes.get(`${object}/${id}`) ?? 0,
    totalWrites: (object) => [...writes].filter(([k]) => !object || k.startsWith(`${object}/`)).reduce((n, [, v]) => n + v, 0),
    close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
  return recorder;
}

export interface DataverseEvent {
  message: string;
  entity: string;
  id: string;
  initiatingUserId: string;
}

export interface DataverseWriteCounter {
  events: DataverseEvent[];
  /** Creates/updates of one row made by `userId`. */
  writesBy(userId: string, entity: string, id: string): number;
  /** Deliveries being received right now. */
  inFlight(): number;
  close(): Promise<void>;
}

/**
 * Registers a second webhook service endpoint in the Dataverse sandbox (as the person: security roles are not
 * enforced there) with Create and Update steps on the synced tables, pointing at a listener here. Dataverse's
 * plug-in pipeline then reports every committed write, with the initiating user, as it does for the server.
 */
export async function startDataverseWriteCounter(dv: SandboxInfo['dataverse']): Promise<DataverseWriteCounter> {
  const events: DataverseEvent[] = [];
  let receiving = 0;
  const server = createHttpServer((req, res) => {
    receiving++;
    void readBody(req)
      .then((b) => {
        const c = JSON.parse(b.toString('utf8')) as Record<string, unknown>;
        events.push({ message: String(c.MessageName), entity: String(c.PrimaryEntityName), id: String(c.PrimaryEntityId).toLowerCase(), initiatingUserId: String(c.InitiatingUserId).toLowerCase() });
        res.writeHead(200).end();
      })
      .catch(() => res.writeHead(400).end())
      .finally(() => receiving--);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;

  const api = dataverseAs(dv, dv.userToken);
  const endpointId = await api.create('serviceendpoints', {
    name: 'e2e write counter', contract: 8, connectionmode: 1, authtype: 4, authvalue: 'counter', messageformat: 2, namespaceformat: 2,
    userclaim: 1, url: `http://127.0.0.1:${port}/`, path: '', solutionnamespace: '',
  });
  for (const message of ['Create', 'Update']) {
    const [msg] = await api.list<{ sdkmessageid: string }>(`sdkmessages?$select=sdkmessageid&$filter=name eq '${message}'`);
    for (const table of ['lead', 'contact', 'account', 'opportunity']) {
      const [filter] = await api.list<{ sdkmessagefilterid: string }>(
        `sdkmessagefilters?$select=sdkmessagefilterid&$filter=primaryobjecttypecode eq '${table}' and _sdkmessageid_value eq ${msg.sdkmessageid}`);
      await api.create('sdkmessageprocessingsteps', {
        name: `e2e write counter: ${message} of ${table}`, stage: 40, mode: 1, rank: 1, supporteddeployment: 0, asyncautodelete: false,
        'sdkmessageid@odata.bind': `/sdkmessages(${msg.sdkmessageid})`,
        'sdkmessagefilterid@odata.bind': `/sdkmessagefilters(${filter.sdkmessagefilterid})`,
        'eventhandler_serviceendpoint@odata.bind': `/serviceendpoints(${endpointId})`,
      });
    }
  }
  return {
    events,
    writesBy: (userId, entity, id) => events.filter((e) => e.initiatingUserId === userId.toLowerCase() && e.entity === entity && e.id === id.toLowerCase()).length,
    inFlight: () => receiving,
    close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}

// ── people using the two systems ───────────────────────────────────────────────────────────────────────

/** The statuses the sandboxes' fault injection answers: the request did nothing, so a person tries again. */
const INJECTED = new Set([429, 500, 502, 503]);

async function retrying(url: string, init: RequestInit): Promise<Response> {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(url, init);
    if (!INJECTED.has(res.status) || attempt >= 30) return res;
    await res.arrayBuffer();
    await sleep(20);
  }
}

async function expectOk(res: Response, what: string): Promise<Response> {
  if (!res.ok) throw new Error(`${what}: HTTP ${res.status} ${await res.text()}`);
  return res;
}

/** Dataverse Web API as one user (a person's `userToken`); retries the sandbox's injected faults. */
export function dataverseAs(dv: SandboxInfo['dataverse'], token: string) {
  const base = `${dv.orgUrl}/api/data/v9.2/`;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json' };
  return {
    async create(set: string, body: Record<string, unknown>): Promise<string> {
      const res = await expectOk(await retrying(`${base}${set}`, { method: 'POST', headers, body: JSON.stringify(body) }), `create ${set}`);
      return /\(([0-9a-f-]{36})\)/i.exec(res.headers.get('odata-entityid') ?? '')![1].toLowerCase();
    },
    async update(set: string, id: string, body: Record<string, unknown>): Promise<void> {
      await expectOk(await retrying(`${base}${set}(${id})`, { method: 'PATCH', headers: { ...headers, 'if-match': '*' }, body: JSON.stringify(body) }), `update ${set}(${id})`);
    },
    async get<T = Record<string, unknown>>(path: string): Promise<T | undefined> {
      const res = await retrying(`${base}${path}`, { headers });
      if (res.status === 404) return undefined;
      return (await (await expectOk(res, `GET ${path}`)).json()) as T;
    },
    async list<T = Record<string, unknown>>(path: string): Promise<T[]> {
      const out: T[] = [];
      let url: string | undefined = `${base}${path}`;
      while (url) {
        const page = (await (await expectOk(await retrying(url, { headers: { ...headers, prefer: 'odata.maxpagesize=500' } }), `GET ${path}`)).json()) as { value: T[]; '@odata.nextLink'?: string };
        out.push(...page.value);
        url = page['@odata.nextLink'];
      }
      return out;
    },
  };
}

export interface HubSpotRecord {
  id: string;
  properties: Record<string, string | null>;
}

/** HubSpot CRM as a person (the portal's `userToken`: webhooks say CRM_UI); retries injected faults. */
export function hubspotAs(hs: SandboxInfo['hubspot'], token: string) {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const call = (path: string, init: RequestInit = {}) => retrying(`${hs.baseUrl}${path}`, { ...init, headers });
  return {
    async create(object: string, properties: Record<string, string>): Promise<string> {
      const res = await expectOk(await call(`/crm/v3/objects/${object}`, { method: 'POST', body: JSON.stringify({ properties }) }), `create ${object}`);
      return ((await res.json()) as { id: string }).id;
    },
    async update(object: string, id: string, properties: Record<string, string>): Promise<void> {
      await expectOk(await call(`/crm/v3/objects/${object}/${id}`, { method: 'PATCH', body: JSON.stringify({ properties }) }), `update ${object}/${id}`);
    },
    async byEmail(email: string, properties: string[] = []): Promise<HubSpotRecord | undefined> {
      const res = await call(`/crm/v3/objects/contacts/${encodeURIComponent(email)}?idProperty=email&properties=${['email', 'dynamics_id', 'dynamics_entity', ...properties].join(',')}`);
      if (res.status === 404) return undefined;
      return (await (await expectOk(res, `GET contact ${email}`)).json()) as HubSpotRecord;
    },
    /** Every record of an object type (list API, paged). */
    async all(object: string, properties: string[]): Promise<HubSpotRecord[]> {
      const out: HubSpotRecord[] = [];
      let after: string | undefined;
      do {
        const res = await expectOk(await call(`/crm/v3/objects/${object}?limit=100&properties=${properties.join(',')}${after ? `&after=${after}` : ''}`), `list ${object}`);
        const page = (await res.json()) as { results: HubSpotRecord[]; paging?: { next?: { after: string } } };
        out.push(...page.results);
        after = page.paging?.next?.after;
      } while (after);
      return out;
    },
  };
}

const NO_FAULTS = { latencyMs: 0, jitterMs: 0, rate429: 0, rate500: 0, rate502: 0, rateTimeout: 0, rateDrop: 0 };

/**
 * Replaces a sandbox's fault injection with exactly `faults` (the route merges, so every setting is sent;
 * `null` clears them) and returns what was injected so far.
 */
export async function setFaults(baseUrl: string, faults: Partial<typeof NO_FAULTS> | null): Promise<{ injected: Record<string, number> }> {
  const res = await fetch(`${baseUrl}/__sandbox/faults`, faults === null
    ? { method: 'DELETE' }
    : { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...NO_FAULTS, ...faults }) });
  return (await expectOk(res, 'set faults').then((r) => r.json())) as { injected: Record<string, number> };
}

// ── the tenant and the server ───────────────────────────────────────────────────────────────────────────

export interface TenantHandle {
  id: string;
  apiKey: string;
}

/**
 * What `npm start`'s demo does for its tenant, against sandboxes in another process: create and connect the
 * tenant (HubSpot link properties, the Dataverse alternate-key column, the application user), register the
 * Dataverse SDK steps and the HubSpot app webhooks at the server's URLs. `hubspotBasePath` lets the tenant
 * reach HubSpot through the write recorder.
 */
export async function setUpTenant(o: {
  storage: Storage;
  sandbox: SandboxInfo;
  hubspotBasePath: string;
  /** Where the Dataverse SDK steps post. */
  dynamicsWebhookBase: string;
  /** Where the HubSpot app webhooks post (default: the same server). */
  hubspotWebhookBase?: string;
  id?: string;
}): Promise<TenantHandle> {
  const { sandbox: sb } = o;
  const config = loadConfig({ ...o.storage.env, LOG_LEVEL: 'silent' });
  const store = await openStore(config, { keyring: loadKeyring(config) });
  try {
    const contexts = new TenantContexts({ store, metrics: createMetrics(), logger: silent });
    const id = o.id ?? 'e2e';
    const created = await createTenant(store, sandboxTenantInput(sb, { id, hubspotBasePath: o.hubspotBasePath }));
    const connected = await connectTenant(store, contexts, id, { publicUrl: o.dynamicsWebhookBase });
    const ctx = await contexts.get(id);
    await registerDataverseWebhook(ctx.dynamics, { url: connected.webhookUrls.dynamics, key: created.webhookKey });
    await registerHubSpotAppWebhooks({
      basePath: sb.hubspot.baseUrl, appId: sb.hubspot.appId, developerApiKey: sb.hubspot.developerApiKey,
      targetUrl: `${(o.hubspotWebhookBase ?? o.dynamicsWebhookBase).replace(/\/+$/, '')}/webhooks/hubspot`,
    });
    return { id, apiKey: created.apiKey };
  } finally {
    await store.close();
  }
}

export interface ServerProcess extends ChildRun {
  url: string;
}

/** The server CLI as its own process; resolves when it logs that it listens. */
export async function startServerProcess(o: { storage: Storage; sandbox: SandboxInfo; port: number; env?: Record<string, string> }): Promise<ServerProcess> {
  const env = cleanEnv({
    ...o.storage.env,
    PORT: String(o.port),
    LOG_LEVEL: 'info',
    HUBSPOT_CLIENT_ID: o.sandbox.hubspot.clientId,
    HUBSPOT_CLIENT_SECRET: o.sandbox.hubspot.clientSecret,
    HUBSPOT_APP_ID: String(o.sandbox.hubspot.appId),
    ...o.env,
  });
  const proc = await spawnUntilReady(['server/src/main.ts'], env, (l) => l.includes('"sync server listening"'));
  return { ...proc, url: `http://127.0.0.1:${o.port}` };
}

/** The tenant's admin API. */
export function adminApi(serverUrl: string, tenant: TenantHandle) {
  const base = `${serverUrl}/api/tenants/${encodeURIComponent(tenant.id)}`;
  const call = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
    const res = await fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${tenant.apiKey}`, 'content-type': 'application/json' } });
    if (!res.ok) throw new Error(`admin ${init.method ?? 'GET'} ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  return {
    view: () => call<{ counts: { pending: number; due: number; active: number; deadLetters: number; syncErrors: number }; lastPoll: { finishedAt: string; errors: string[] } | null }>(''),
    poll: () => call<{ hubspot?: { enqueued: number; baselined: string[] }; dataverse?: { enqueued: number; baselined: string[] }; errors: string[] }>('/poll', { method: 'POST' }),
    errors: () => call<{ errors: Array<{ record: { system: string; objectType: string; recordId: string }; code: string; what: string; why: string; howToFix: string; occurrences: number }> }>('/errors'),
    deadLetters: () => call<{ deadLetters: Array<{ id: number; system: string; objectType: string; recordId: string; attempts: number; lastError: string | null }> }>('/dead-letters'),
  };
}

/** Sum of a Prometheus counter/gauge's samples whose labels include `labels`. */
export async function metric(serverUrl: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${serverUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const inner = line.startsWith(`${name}{`) ? line.slice(name.length + 1, line.indexOf('}')) : '';
    if (Object.entries(labels).every(([k, v]) => inner.includes(`${k}="${v}"`))) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

/**
 * Nothing left to do anywhere: HubSpot has no webhook delivery pending, the queue (all processes) has no
 * pending or running job, and no Dataverse delivery is arriving at the write counter.
 */
export async function settled(o: { sandbox: SandboxInfo; admin: ReturnType<typeof adminApi>; counter?: DataverseWriteCounter }, timeoutMs = 30_000): Promise<void> {
  await until('the sync to settle', async () => {
    await fetch(`${o.sandbox.hubspot.baseUrl}/__sandbox/webhooks/idle`, { method: 'POST' });
    const { counts } = await o.admin.view();
    if (counts.pending + counts.active > 0) return `${counts.pending} pending, ${counts.active} active`;
    return (o.counter?.inFlight() ?? 0) === 0;
  }, timeoutMs, 100);
}

/** Everything a test needs from one run: sandboxes, counters, storage, tenant, server. */
export interface World {
  sandbox: SandboxInfo;
  sandboxProc: ChildRun;
  recorder: HubSpotRecorder;
  counter: DataverseWriteCounter;
  storage: Storage;
  tenant: TenantHandle;
  port: number;
  /** The server the webhooks go to. */
  server: ServerProcess;
  /** More server processes on the same database (PostgreSQL), taking jobs from the shared queue only. */
  others: ServerProcess[];
  admin: ReturnType<typeof adminApi>;
  hs: ReturnType<typeof hubspotAs>;
  dv: ReturnType<typeof dataverseAs>;
  /** The application user (our server) in Dataverse. */
  appUserId: string;
  /** The tenant's sync errors. */
  syncErrors(): Promise<Awaited<ReturnType<ReturnType<typeof adminApi>['errors']>>['errors']>;
  restart(env?: Record<string, string>): Promise<void>;
  close(): Promise<void>;
}

/**
 * Sandboxes (own process) + write counters + storage + tenant + one server process, with the safety-net polls'
 * baselines taken (the first poll only stores cursors), so later polls find changes made from now on.
 */
export async function startWorld(dialect: Dialect, o: { sandboxFlags?: string[]; serverEnv?: Record<string, string>; others?: Array<Record<string, string>> } = {}): Promise<World> {
  const cleanups: Array<() => Promise<unknown>> = [];
  const close = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const { info: sandbox, proc: sandboxProc } = await startSandboxProcess(o.sandboxFlags);
    cleanups.push(() => sandboxProc.stop());
    const recorder = await startHubSpotRecorder(sandbox.hubspot.baseUrl);
    cleanups.push(() => recorder.close());
    const counter = await startDataverseWriteCounter(sandbox.dataverse);
    cleanups.push(() => counter.close());
    // The Dynamics person is also a HubSpot user (owner), as in a real org: owner fields then sync without errors.
    const person = await dataverseAs(sandbox.dataverse, sandbox.dataverse.userToken).get<{ firstname: string; lastname: string; internalemailaddress: string }>(
      `systemusers(${sandbox.dataverse.userId})?$select=firstname,lastname,internalemailaddress`);
    await expectOk(await fetch(`${sandbox.hubspot.baseUrl}/__sandbox/portals/${sandbox.hubspot.portalId}/owners`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ firstName: person!.firstname, lastName: person!.lastname, email: person!.internalemailaddress }),
    }), 'add HubSpot owner');
    const storage = await createStorage(dialect);
    cleanups.push(() => storage.destroy());
    const port = await freePort();
    const tenant = await setUpTenant({ storage, sandbox, hubspotBasePath: recorder.url, dynamicsWebhookBase: `http://127.0.0.1:${port}` });
    const servers = await Promise.all([o.serverEnv, ...(o.others ?? [])].map(async (env, i) =>
      startServerProcess({ storage, sandbox, port: i === 0 ? port : await freePort(), env })));
    const world: World = {
      sandbox, sandboxProc, recorder, counter, storage, tenant, port,
      server: servers[0],
      others: servers.slice(1),
      admin: adminApi(`http://127.0.0.1:${port}`, tenant),
      hs: hubspotAs(sandbox.hubspot, sandbox.hubspot.userToken),
      dv: dataverseAs(sandbox.dataverse, sandbox.dataverse.userToken),
      appUserId: sandbox.dataverse.applicationUserId.toLowerCase(),
      syncErrors: async () => (await world.admin.errors()).errors,
      restart: async (env) => {
        world.server = await startServerProcess({ storage, sandbox, port, env: env ?? o.serverEnv });
      },
      close,
    };
    // Cleanups run in reverse: the servers stop before the storage they use is destroyed.
    cleanups.push(() => Promise.all([world.server, ...world.others].map((p) => p.stop())));
    // Each server polls every tenant once at start; that first poll only stores the baselines (cursors, delta
    // links) that later polls start from. Wait for it, so changes made from now on are found by the next poll.
    await until('the servers\' first polls', async () => {
      for (const s of [world.server, ...world.others]) if ((await adminApi(s.url, tenant).view()).lastPoll === null) return false;
      return true;
    }, 20_000, 50);
    return world;
  } catch (err) {
    await close();
    throw err;
  }
}

/** Reads rows for assertions through a short-lived plain connection. */
export async function withDb<T>(storage: Storage, f: (db: Db) => Promise<T>): Promise<T> {
  const db = storage.db();
  try {
    return await f(db);
  } finally {
    await db.close();
  }
}

export const uniq = () => randomBytes(4).toString('hex');
