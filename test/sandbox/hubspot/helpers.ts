import { Client } from '@hubspot/api-client';
import { startHubSpotSandbox, type HubSpotSandbox, type HubSpotSandboxOptions } from '../../../sandbox/hubspot/index.ts';

/** Starts a sandbox on port 0 for each test and closes it afterwards (mocha hooks). */
export function useSandbox(options: HubSpotSandboxOptions = {}): { readonly sb: HubSpotSandbox } {
  const holder = {} as { sb: HubSpotSandbox };
  beforeEach(async () => {
    holder.sb = await startHubSpotSandbox({ port: 0, ...options });
  });
  afterEach(async () => {
    await holder.sb?.close();
  });
  return holder;
}

/** An api-client pointed at the sandbox. Always the same options (the client's decorators are process-wide). */
export function client(sb: HubSpotSandbox, accessToken = sb.portal.accessToken, numberOfApiCallRetries = 0): Client {
  return new Client({ accessToken, basePath: sb.baseUrl, numberOfApiCallRetries });
}

export async function raw(sb: HubSpotSandbox, method: string, path: string, body?: unknown, token: string | null = sb.portal.accessToken) {
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(sb.baseUrl + path, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, body: json };
}

/** Runs a call that must fail and returns the ApiException (code + parsed body). */
export async function failure(p: Promise<unknown>): Promise<{ code: number; body: any }> {
  try {
    await p;
  } catch (err) {
    return err as { code: number; body: any };
  }
  throw new Error('expected the call to fail');
}
