import http from 'node:http';

/**
 * A minimal keep-alive HTTP client for load generation. Node's `fetch` costs several times more CPU per
 * request than `http.request`; on a 2-core machine the client would otherwise measure itself, not the server.
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

export interface BenchResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

export function request(url: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<BenchResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Like `request`, but a non-2xx answer is an error that quotes the body. */
export async function requestOk(url: string, options: Parameters<typeof request>[1] = {}): Promise<BenchResponse> {
  const res = await request(url, options);
  if (res.status < 200 || res.status > 299) throw new Error(`${options.method ?? 'GET'} ${url}: HTTP ${res.status} ${res.body.slice(0, 300)}`);
  return res;
}
