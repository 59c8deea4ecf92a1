import https from 'node:https';
import { DynamicsWebApi } from 'dynamics-web-api';
import { startDataverseSandbox, type DataverseSandbox, type DataverseSandboxOptions } from '../../../sandbox/dataverse/index.ts';

/** Client-credentials token from the sandbox's identity provider (trusting its CA), as msal would get one. */
export async function appToken(sb: DataverseSandbox): Promise<string> {
  const form = new URLSearchParams({
    grant_type: 'client_credentials', client_id: sb.clientId, client_secret: sb.clientSecret, scope: `${sb.orgUrl}/.default`,
  }).toString();
  const url = new URL(`${sb.authorityUrl}/oauth2/v2.0/token`);
  const body = await new Promise<string>((resolve, reject) => {
    const req = https.request(url, { method: 'POST', ca: sb.caCert, headers: { 'content-type': 'application/x-www-form-urlencoded' } }, (res) => {
      let data = '';
      res.on('data', (c) => (data += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(data) : reject(new Error(`token ${res.statusCode}: ${data}`))));
    });
    req.on('error', reject);
    req.end(form);
  });
  return (JSON.parse(body) as { access_token: string }).access_token;
}

/** fetch's Response with an untyped json(), which is what these tests inspect. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RawResponse = Omit<Response, 'json'> & { json(): Promise<any> };

/** fetch with the same untyped json(). */
export const get = (url: string, init?: RequestInit): Promise<RawResponse> => fetch(url, init);

export interface Ctx {
  sb: DataverseSandbox;
  token: string;
  client: DynamicsWebApi;
  /** Raw fetch against /api/data/v9.2/ with the app token. */
  raw(path: string, init?: RequestInit & { headers?: Record<string, string> }): Promise<RawResponse>;
}

export async function start(options: DataverseSandboxOptions = {}): Promise<Ctx> {
  const sb = await startDataverseSandbox(options);
  const token = await appToken(sb);
  const client = new DynamicsWebApi({ serverUrl: sb.orgUrl, onTokenRefresh: async () => token });
  return {
    sb, token, client,
    raw: (path, init = {}) =>
      fetch(`${sb.orgUrl}/api/data/v9.2/${path}`, {
        ...init,
        headers: { Authorization: `Bearer ${token}`, Accept: 'application/json', 'OData-Version': '4.0', 'OData-MaxVersion': '4.0', 'Content-Type': 'application/json', ...(init.headers ?? {}) },
      }),
  };
}

export async function errorOf(p: Promise<unknown>): Promise<{ status: number; code: string; message: string; headers: Record<string, string> }> {
  try {
    await p;
  } catch (e) {
    const err = e as { status: number; code: string; message: string; headers: Record<string, string> };
    return err;
  }
  throw new Error('expected the request to fail');
}
