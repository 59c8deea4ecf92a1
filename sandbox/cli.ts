/**
 * `npm run sandbox` — starts the local HubSpot and Dataverse sandboxes and keeps them running until
 * SIGINT/SIGTERM. `-- --json` prints exactly one JSON line once both are ready (for scripts).
 */
import { parseArgs } from 'node:util';
import { describeSandboxes, startSandboxes, type SandboxesOptions } from './start.ts';
import type { FaultConfig } from './common/faults.ts';

const USAGE = `Usage: npm run sandbox -- [options]

  --host <addr>            address to listen on (default 127.0.0.1)
  --hubspot-port <n>       HubSpot sandbox port (default 4010; 0 = any free port)
  --dataverse-port <n>     Dataverse Web API port (default 4020)
  --identity-port <n>      Entra-like token endpoint, HTTPS (default 4021)
  --latency <ms>           added latency on every API request (default 0)
  --jitter <ms>            extra random latency up to this many ms (default 0)
  --fault-429 <rate>       fraction of requests answered 429 (0..1)
  --fault-500 <rate>       fraction answered 500
  --fault-502 <rate>       fraction answered 502
  --fault-timeout <rate>   fraction never answered
  --fault-drop <rate>      fraction whose connection is dropped
  --no-rate-limits         turn HubSpot rate limits and Dataverse service protection off
  --json                   print one JSON line with URLs and credentials once ready
  --help                   show this help

Faults can also be switched at run time: PUT /__sandbox/faults on either sandbox.`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function numberFlag(values: Record<string, unknown>, name: string, fallback: number, max = Infinity): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > max) fail(`--${name} must be a number between 0 and ${max}, got "${String(raw)}".`);
  return n;
}

function parse(argv: string[]): { options: SandboxesOptions; json: boolean } {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        host: { type: 'string' },
        'hubspot-port': { type: 'string' },
        'dataverse-port': { type: 'string' },
        'identity-port': { type: 'string' },
        latency: { type: 'string' },
        jitter: { type: 'string' },
        'fault-429': { type: 'string' },
        'fault-500': { type: 'string' },
        'fault-502': { type: 'string' },
        'fault-timeout': { type: 'string' },
        'fault-drop': { type: 'string' },
        'no-rate-limits': { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
    });
  } catch (err) {
    fail((err as Error).message);
  }
  const v = parsed.values as Record<string, unknown>;
  if (v.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const faults: Partial<FaultConfig> = {
    latencyMs: numberFlag(v, 'latency', 0),
    jitterMs: numberFlag(v, 'jitter', 0),
    rate429: numberFlag(v, 'fault-429', 0, 1),
    rate500: numberFlag(v, 'fault-500', 0, 1),
    rate502: numberFlag(v, 'fault-502', 0, 1),
    rateTimeout: numberFlag(v, 'fault-timeout', 0, 1),
    rateDrop: numberFlag(v, 'fault-drop', 0, 1),
  };
  return {
    json: Boolean(v.json),
    options: {
      host: (v.host as string | undefined) ?? '127.0.0.1',
      hubspotPort: numberFlag(v, 'hubspot-port', 4010, 65535),
      dataversePort: numberFlag(v, 'dataverse-port', 4020, 65535),
      identityPort: numberFlag(v, 'identity-port', 4021, 65535),
      faults,
      rateLimits: !v['no-rate-limits'],
    },
  };
}

async function main(): Promise<void> {
  const { options, json } = parse(process.argv.slice(2));
  let sandboxes;
  try {
    sandboxes = await startSandboxes(options);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') fail(`A port is already in use (${e.message}). Pick other ports with --hubspot-port / --dataverse-port / --identity-port, or 0 for any free port.`);
    throw err;
  }
  const info = describeSandboxes(sandboxes);
  if (json) {
    process.stdout.write(`${JSON.stringify(info)}\n`);
  } else {
    process.stdout.write(
      [
        'Sandboxes are running (Ctrl-C to stop).',
        '',
        `HubSpot     ${info.hubspot.baseUrl}   portal ${info.hubspot.portalId}, app ${info.hubspot.appId}`,
        `  access token (app):   ${info.hubspot.accessToken}`,
        `  user token (person):  ${info.hubspot.userToken}`,
        `  client id / secret:   ${info.hubspot.clientId} / ${info.hubspot.clientSecret}`,
        `Dataverse   ${info.dataverse.orgUrl}/api/data/v9.2/`,
        `  token authority:      ${info.dataverse.authorityUrl}`,
        `  client id / secret:   ${info.dataverse.clientId} / ${info.dataverse.clientSecret}`,
        `  user token (person):  ${info.dataverse.userToken}`,
        '',
        'Faults: PUT /__sandbox/faults on either sandbox, e.g. {"latencyMs":50,"rate429":0.1}.',
        '',
      ].join('\n'),
    );
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    if (!json) process.stdout.write(`\n${signal}: stopping sandboxes…\n`);
    await sandboxes.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  process.stderr.write(`Sandbox failed to start: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
