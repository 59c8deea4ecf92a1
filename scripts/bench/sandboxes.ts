/**
 * Throughput of the sandboxes themselves, so that we know they never bottleneck the product's benchmarks.
 * The sandboxes run in a child process (as `npm run sandbox` would) and the load comes from this one,
 * so the figure includes real HTTP on loopback and the two processes share the machine's cores.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { requestOk } from './http.ts';
import { formatLoad, runLoad } from './load.ts';
import type { describeSandboxes } from '../../sandbox/start.ts';

/** The `npm run sandbox -- --json` line (sandbox/start.ts `describeSandboxes`). */
export type SandboxLine = ReturnType<typeof describeSandboxes>;

/** Starts `npm run sandbox` on free ports in a child process; `flags` are more of its command-line options. */
export async function startSandboxChild(flags: string[] = []): Promise<{ info: SandboxLine; pid: number; stop(): Promise<void> }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'sandbox/cli.ts', '--json', '--hubspot-port', '0', '--dataverse-port', '0', '--identity-port', '0', ...flags],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = createInterface({ input: child.stdout! });
  const info = await new Promise<SandboxLine>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`sandbox exited with code ${code} before it was ready`)));
    lines.once('line', (line) => resolve(JSON.parse(line) as SandboxLine));
  });
  return {
    info,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

export async function benchSandboxes(durationMs = 3000, concurrency = 32): Promise<void> {
  const { info, stop } = await startSandboxChild(['--no-rate-limits']);
  try {
    const hs = info.hubspot;
    const hsHeaders = { authorization: `Bearer ${hs.accessToken}`, 'content-type': 'application/json' };
    const created = await requestOk(`${hs.baseUrl}/crm/v3/objects/contacts`, { method: 'POST', headers: hsHeaders, body: JSON.stringify({ properties: { email: 'bench-read@example.com', firstname: 'Bench' } }) });
    const hsId = (JSON.parse(created.body) as { id: string }).id;

    const dv = info.dataverse;
    const dvApi = `${dv.orgUrl}/api/data/v9.2`;
    const dvHeaders = { authorization: `Bearer ${dv.userToken}`, 'content-type': 'application/json', accept: 'application/json', 'odata-version': '4.0' };
    const dvCreated = await requestOk(`${dvApi}/contacts`, { method: 'POST', headers: dvHeaders, body: JSON.stringify({ emailaddress1: 'bench-read@example.com', lastname: 'Bench' }) });
    const dvId = /\(([^)]+)\)/.exec(String(dvCreated.headers['odata-entityid'] ?? ''))?.[1];

    const scenarios: Array<[string, (i: number) => Promise<void>]> = [
      ['HubSpot  GET  /crm/v3/objects/contacts/{id}', async () => {
        await requestOk(`${hs.baseUrl}/crm/v3/objects/contacts/${hsId}`, { headers: hsHeaders });
      }],
      ['HubSpot  POST /crm/v3/objects/contacts', async (i) => {
        await requestOk(`${hs.baseUrl}/crm/v3/objects/contacts`, { method: 'POST', headers: hsHeaders, body: JSON.stringify({ properties: { email: `bench-${i}@example.com`, firstname: 'Bench' } }) });
      }],
      ['Dataverse GET  /contacts({id})', async () => {
        await requestOk(`${dvApi}/contacts(${dvId})?$select=emailaddress1,lastname`, { headers: dvHeaders });
      }],
      ['Dataverse POST /contacts', async (i) => {
        await requestOk(`${dvApi}/contacts`, { method: 'POST', headers: dvHeaders, body: JSON.stringify({ emailaddress1: `bench-${i}@example.com`, lastname: 'Bench' }) });
      }],
    ];
    console.log(`Sandbox throughput (${concurrency} concurrent clients, ${durationMs / 1000} s each, rate limits off):`);
    for (const [name, task] of scenarios) {
      console.log(`  ${formatLoad(await runLoad(name, task, { durationMs, concurrency }))}`);
    }
  } finally {
    await stop();
  }
}
