import https from 'node:https';
import { AuthError, type INetworkModule, type NetworkRequestOptions, type NetworkResponse } from '@azure/msal-node';

/**
 * An msal network module that trusts one extra CA (the local sandbox's) for its own requests only.
 * It exists so the sandbox certificate is never trusted process-wide (no NODE_EXTRA_CA_CERTS, no
 * rejectUnauthorized:false): real Entra traffic keeps msal's default client.
 */
export function createCaTrustingNetworkModule(caCert: string, defaultTimeoutMs = 30_000): INetworkModule {
  function send<T>(method: 'GET' | 'POST', url: string, options?: NetworkRequestOptions, timeoutMs?: number): Promise<NetworkResponse<T>> {
    return new Promise((resolve, reject) => {
      const body = method === 'POST' ? (options?.body ?? '') : undefined;
      const headers: Record<string, string | number> = { ...(options?.headers ?? {}) };
      if (body !== undefined) headers['Content-Length'] = Buffer.byteLength(body);
      const req = https.request(url, { method, headers, ca: caCert, timeout: timeoutMs ?? defaultTimeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const responseHeaders: Record<string, string> = {};
          for (const [name, value] of Object.entries(res.headers)) {
            if (value !== undefined) responseHeaders[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
          }
          try {
            // msal expects the body parsed, error responses included (it reads Entra's error JSON from them).
            resolve({ headers: responseHeaders, body: JSON.parse(text) as T, status: res.statusCode ?? 0 });
          } catch (e) {
            reject(new AuthError('token_parsing_error', `Failed to parse response (status ${res.statusCode}): ${(e as Error).message}`));
          }
        });
      });
      req.on('timeout', () => req.destroy(new Error('Request timeout')));
      req.on('error', (e) => reject(new AuthError('network_error', `Network request failed: ${e.message}`)));
      req.end(body);
    });
  }
  return {
    sendGetRequestAsync: <T>(url: string, options?: NetworkRequestOptions, timeout?: number) => send<T>('GET', url, options, timeout),
    sendPostRequestAsync: <T>(url: string, options?: NetworkRequestOptions) => send<T>('POST', url, options),
  };
}
