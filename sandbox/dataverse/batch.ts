import { randomUUID } from 'node:crypto';
import { Codes, DataverseError } from './errors.ts';
import { API_PREFIX } from './paths.ts';
import { errorResponse, parsePrefer, type ApiRequest, type ApiResponse, type WebApi } from './api.ts';

/**
 * `$batch`: multipart/mixed in (quoted or unquoted boundary, CRLF or LF, absolute or relative inner
 * URLs), change sets executed atomically with `$n` Content-ID references, and the documented
 * multipart response (`batchresponse_` / `changesetresponse_` parts with raw HTTP status lines).
 */

interface InnerRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
  contentId?: string;
}

type BatchItem = { kind: 'request'; request: InnerRequest } | { kind: 'changeset'; requests: InnerRequest[] };

const MAX_REQUESTS = 1000;

function boundaryOf(contentType: string | undefined): string | undefined {
  const m = /boundary=("?)([^";]+)\1/i.exec(contentType ?? '');
  return m?.[2];
}

/** Splits a multipart body into its raw parts (text between delimiter lines). */
function splitMultipart(body: string, boundary: string): string[] {
  const lines = body.split(/\r?\n/);
  const parts: string[] = [];
  let current: string[] | null = null;
  for (const line of lines) {
    const t = line.trimEnd();
    if (t === `--${boundary}` || t === `--${boundary}--`) {
      if (current) parts.push(current.join('\r\n'));
      current = t.endsWith('--') && t === `--${boundary}--` ? null : [];
      if (t === `--${boundary}--`) break;
      continue;
    }
    current?.push(line);
  }
  return parts;
}

/** Headers block then blank line then the rest. */
function splitHeaders(text: string): { headers: Record<string, string>; rest: string } {
  const lines = text.split('\r\n');
  let i = 0;
  while (i < lines.length && lines[i] === '') i++;
  const headers: Record<string, string> = {};
  for (; i < lines.length && lines[i] !== ''; i++) {
    const colon = lines[i].indexOf(':');
    if (colon > 0) headers[lines[i].slice(0, colon).trim().toLowerCase()] = lines[i].slice(colon + 1).trim();
  }
  return { headers, rest: lines.slice(i + 1).join('\r\n') };
}

function parseInner(partHeaders: Record<string, string>, rest: string): InnerRequest {
  const { headers: _ignored, rest: _r } = { headers: {}, rest: '' };
  void _ignored; void _r;
  const lines = rest.split('\r\n');
  let i = 0;
  while (i < lines.length && lines[i].trim() === '') i++;
  const m = /^([A-Z]+)\s+(\S+)(\s+HTTP\/\d\.\d)?$/.exec(lines[i]?.trim() ?? '');
  if (!m) throw new DataverseError(400, Codes.InvalidArgument, `The batch request line '${lines[i] ?? ''}' is not valid; expected '<METHOD> <url> HTTP/1.1'.`);
  const { headers, rest: body } = splitHeaders(lines.slice(i + 1).join('\r\n'));
  return { method: m[1], url: m[2], headers, body: body.replace(/(\r\n)+$/, '').trim(), contentId: partHeaders['content-id'] };
}

export function parseBatch(body: string, contentType: string | undefined): BatchItem[] {
  const boundary = boundaryOf(contentType);
  if (!contentType?.toLowerCase().startsWith('multipart/mixed') || !boundary) {
    throw new DataverseError(400, Codes.InvalidArgument, "The batch request must have a 'multipart/mixed' Content-Type with a boundary.");
  }
  const items: BatchItem[] = [];
  let count = 0;
  for (const part of splitMultipart(body, boundary)) {
    const { headers, rest } = splitHeaders(part);
    const ct = headers['content-type'] ?? '';
    if (ct.toLowerCase().startsWith('multipart/mixed')) {
      const inner = boundaryOf(ct);
      if (!inner) throw new DataverseError(400, Codes.InvalidArgument, 'A change set needs a boundary.');
      const requests = splitMultipart(rest, inner).map((p) => {
        const h = splitHeaders(p);
        return parseInner(h.headers, h.rest);
      });
      for (const r of requests) {
        if (r.method === 'GET') throw new DataverseError(400, Codes.InvalidArgument, 'GET requests are not allowed inside a change set.');
      }
      count += requests.length;
      items.push({ kind: 'changeset', requests });
    } else {
      count += 1;
      items.push({ kind: 'request', request: parseInner(headers, rest) });
    }
  }
  if (count > MAX_REQUESTS) throw new DataverseError(400, Codes.InvalidArgument, `The number of requests in the batch (${count}) exceeds the maximum of ${MAX_REQUESTS}.`);
  if (count === 0) throw new DataverseError(400, Codes.InvalidArgument, 'The batch request contains no requests.');
  return items;
}

const STATUS_TEXT: Record<number, string> = {
  200: 'OK', 201: 'Created', 204: 'No Content', 304: 'Not Modified', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden',
  404: 'Not Found', 405: 'Method Not Allowed', 412: 'Precondition Failed', 429: 'Too Many Requests', 500: 'Internal Server Error',
};

function renderResponse(res: ApiResponse, contentId?: string): string {
  const lines = ['Content-Type: application/http', 'Content-Transfer-Encoding: binary'];
  if (contentId) lines.push(`Content-ID: ${contentId}`);
  lines.push('', `HTTP/1.1 ${res.status} ${STATUS_TEXT[res.status] ?? 'Unknown'}`);
  lines.push('OData-Version: 4.0');
  for (const [k, v] of Object.entries(res.headers)) lines.push(`${k}: ${v}`);
  if (res.json !== undefined) {
    lines.push('Content-Type: application/json; odata.metadata=minimal', '', JSON.stringify(res.json));
  } else if (res.text) {
    lines.push(`Content-Type: ${res.text.contentType}`, '', res.text.body);
  } else {
    lines.push('', '');
  }
  return lines.join('\r\n');
}

export async function executeBatch(api: WebApi, outer: ApiRequest): Promise<ApiResponse> {
  let items: BatchItem[];
  try {
    items = parseBatch(outer.body, outer.headers['content-type']);
  } catch (err) {
    return errorResponse(err);
  }
  const continueOnError = parsePrefer(outer.headers.prefer).has('odata.continue-on-error');
  const batchBoundary = `batchresponse_${randomUUID()}`;
  const out: string[] = [];
  let failed = false;

  const run = async (r: InnerRequest, contentIds: Map<string, string>, tx?: ApiRequest['tx']): Promise<ApiResponse> => {
    try {
      const { path, search } = innerPath(r.url, contentIds);
      return await api.handle({
        method: r.method, path, search, headers: { ...r.headers, prefer: r.headers.prefer ?? '' }, body: resolveBinds(r.body, contentIds),
        principal: outer.principal, requestId: randomUUID(), correlationId: outer.correlationId, tx,
      });
    } catch (err) {
      return errorResponse(err);
    }
  };

  for (const item of items) {
    if (failed && !continueOnError) break;
    if (item.kind === 'request') {
      const res = await run(item.request, new Map());
      if (res.status >= 400) failed = true;
      out.push(`--${batchBoundary}\r\n${renderResponse(res)}`);
      continue;
    }
    const tx = api.store.begin();
    const contentIds = new Map<string, string>();
    const responses: Array<{ res: ApiResponse; contentId?: string }> = [];
    let failure: { res: ApiResponse; contentId?: string } | undefined;
    for (const r of item.requests) {
      const res = await run(r, contentIds, tx);
      if (res.status >= 400) {
        failure = { res, contentId: r.contentId };
        break;
      }
      const entityId = res.headers['OData-EntityId'];
      if (r.contentId && entityId) contentIds.set(r.contentId, entityId);
      responses.push({ res, contentId: r.contentId });
    }
    const csBoundary = `changesetresponse_${randomUUID()}`;
    if (failure) {
      // All or nothing: undo every write of the change set and answer with the failing response only.
      api.store.rollback(tx);
      failed = true;
      out.push(`--${batchBoundary}\r\n${renderResponse(failure.res, failure.contentId)}`);
      continue;
    }
    api.store.commit(tx);
    const parts = responses.map((r) => `--${csBoundary}\r\n${renderResponse(r.res, r.contentId)}`);
    out.push(`--${batchBoundary}\r\nContent-Type: multipart/mixed; boundary=${csBoundary}\r\n\r\n${parts.join('\r\n')}\r\n--${csBoundary}--`);
  }
  const text = `${out.join('\r\n')}\r\n--${batchBoundary}--\r\n`;
  return {
    status: failed && !continueOnError ? 400 : 200,
    headers: continueOnError ? { 'Preference-Applied': 'odata.continue-on-error' } : {},
    text: { body: text, contentType: `multipart/mixed; boundary=${batchBoundary}` },
  };
}

/** Absolute, root-relative or `$n`-relative inner URL → path below the API prefix and query. */
function innerPath(url: string, contentIds: Map<string, string>): { path: string; search: string } {
  let u = url;
  const idx = u.indexOf(API_PREFIX);
  if (idx >= 0) u = u.slice(idx + API_PREFIX.length);
  else if (/^https?:/i.test(u)) throw new DataverseError(400, Codes.InvalidArgument, `The batch request URL '${url}' is not below ${API_PREFIX}.`);
  u = u.replace(/^\//, '');
  // `$1` alone or as `/api/data/v9.2/$1/...`: the entity created by Content-ID 1 in this change set.
  const ref = /^\$([^/?]+)(.*)$/.exec(u);
  if (ref && ref[1] !== 'batch') {
    const target = contentIds.get(ref[1]);
    if (!target) throw new DataverseError(400, Codes.InvalidArgument, `Content-ID reference '$${ref[1]}' does not match an earlier request in the change set.`);
    u = target.slice(target.indexOf(API_PREFIX) + API_PREFIX.length) + ref[2];
  }
  const q = u.indexOf('?');
  return q < 0 ? { path: u, search: '' } : { path: u.slice(0, q), search: u.slice(q) };
}

/** `"x@odata.bind": "$1"` → the entity URL created by Content-ID 1. */
function resolveBinds(body: string, contentIds: Map<string, string>): string {
  if (contentIds.size === 0 || !body.includes('$')) return body;
  try {
    const json = JSON.parse(body) as Record<string, unknown>;
    for (const [k, v] of Object.entries(json)) {
      if (k.endsWith('@odata.bind') && typeof v === 'string') {
        const m = /^\$([^/]+)$/.exec(v);
        if (m && contentIds.has(m[1])) json[k] = contentIds.get(m[1]);
      }
    }
    return JSON.stringify(json);
  } catch {
    return body;
  }
}
