import type { DynamicsTarget } from './options.ts';

/**
 * The sync server's side of a deploy, through the tenant's admin API (its API key): the secrets the connect
 * step writes into Dynamics, plus the tenant's Dynamics settings, which serve as defaults so the solution
 * lands in the org the tenant syncs with.
 */

export interface TenantConnection {
  prefix?: string;
  dynamics?: DynamicsTarget;
  webhookKey: string;
  /** Null while the tenant has none. */
  embedCredential: string | null;
}

export interface ServerAccess {
  serverUrl: string;
  syncTenant: string;
  apiKey: string;
  timeoutMs?: number;
}

export class ServerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServerError';
  }
}

const FALLBACK = 'or set DYNAMICS_WEBHOOK_KEY (and SYNC_EMBED_CREDENTIAL) to connect without asking the server';

/** One admin API call; a missing server or a refused key fail the same way for every call. */
async function call(o: ServerAccess, method: 'GET' | 'POST', path: string): Promise<{ status: number; body: Record<string, unknown> | undefined; said: string }> {
  const url = `${o.serverUrl}/api/tenants/${encodeURIComponent(o.syncTenant)}${path}`;
  let res: Response;
  try {
    res = await fetch(url, { method, headers: { authorization: `Bearer ${o.apiKey}`, accept: 'application/json' }, signal: AbortSignal.timeout(o.timeoutMs ?? 30_000) });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new ServerError(`The sync server at ${o.serverUrl} did not answer (${cause?.code ?? cause?.message ?? (err as Error).message}): check --server-url and that the server runs, ${FALLBACK}.`);
  }
  const text = await res.text();
  let body: Record<string, unknown> | undefined;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = undefined;
  }
  const said = (body?.error as { message?: string } | undefined)?.message ?? text.slice(0, 200);
  if (res.status === 401 || res.status === 403) {
    throw new ServerError(`The sync server refused SYNC_API_KEY for tenant ${o.syncTenant} (HTTP ${res.status}: ${said}). Set SYNC_API_KEY to that tenant's API key (printed once when the tenant was created) and check --sync-tenant.`);
  }
  return { status: res.status, body, said };
}

/** `GET …/dynamics/connection`. */
export async function fetchTenantConnection(o: ServerAccess): Promise<TenantConnection> {
  const { status, body, said } = await call(o, 'GET', '/dynamics/connection');
  if (status === 404) throw new ServerError(`The sync server at ${o.serverUrl} has no /api/tenants/<id>/dynamics/connection (HTTP 404: ${said}): update the server, ${FALLBACK}.`);
  if (status !== 200 || typeof body?.webhookKey !== 'string') throw new ServerError(`The sync server answered HTTP ${status} for tenant ${o.syncTenant}: ${said}`);
  const d = body.dynamics as Record<string, string | null> | null | undefined;
  const given = (s: string | null | undefined) => s ?? undefined;
  return {
    prefix: typeof body.prefix === 'string' ? body.prefix : undefined,
    dynamics: d ? { orgUrl: given(d.orgUrl), tenantId: given(d.tenantId), authorityUrl: given(d.authorityUrl), clientId: given(d.clientId) } : undefined,
    webhookKey: body.webhookKey,
    embedCredential: typeof body.embedCredential === 'string' ? body.embedCredential : null,
  };
}

/**
 * `POST …/embed-credential`: the tenant's first embed credential. Only for a tenant that has none, because
 * the server replaces an existing one, which would cut off tabs already using it. Undefined from a server
 * without the route (an older server).
 */
export async function issueEmbedCredential(o: ServerAccess): Promise<string | undefined> {
  const { status, body, said } = await call(o, 'POST', '/embed-credential');
  if (status === 404) return undefined;
  if (status !== 201 || typeof body?.embedCredential !== 'string') {
    throw new ServerError(`The sync server did not issue an embed credential for tenant ${o.syncTenant} (HTTP ${status}: ${said}).`);
  }
  return body.embedCredential;
}
