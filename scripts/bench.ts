/** `npm run bench`: prints the product's performance figures on this machine. `npm run bench -- --help` for options. */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { benchSandboxes } from './bench/sandboxes.ts';
import { benchBackfill, type BackfillResult } from './bench/sync-backfill.ts';
import { benchSyncLatency, type LatencyResult } from './bench/sync-latency.ts';
import { syncSummary } from './bench/sync-summary.ts';

const USAGE = `Usage: npm run bench -- [options]

  --only <sections>          comma-separated: sandboxes, latency, backfill (sync = latency,backfill); default all
  --latency-ms <ms>          latency added to every sandbox request in the sync sections (default 50)
  --rate <n>                 changes per second in the latency section (default 5)
  --seconds <n>              seconds of changes per direction in the latency section (default 20)
  --records <n>              backfill size (default 20000); memory is also measured at a tenth of it
  --backfill-seconds <n>     stop each backfill after this long and report the rate so far (default 120)
  --server-heap-mb <n>       the sync server's --max-old-space-size in the sync sections (default 128; 0 = Node's default)
  --help                     show this help`;

const SECTIONS = ['sandboxes', 'latency', 'backfill'] as const;
type Section = (typeof SECTIONS)[number];

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function positive(values: Record<string, unknown>, name: string, fallback: number): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) fail(`--${name} must be a positive number, got "${String(raw)}".`);
  return n;
}

function parse() {
  let parsed;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      options: {
        only: { type: 'string' }, 'latency-ms': { type: 'string' }, rate: { type: 'string' }, seconds: { type: 'string' },
        records: { type: 'string' }, 'backfill-seconds': { type: 'string' }, 'server-heap-mb': { type: 'string' }, help: { type: 'boolean' },
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
  const only = new Set<Section>();
  for (const name of String(v.only ?? SECTIONS.join(',')).split(',').map((s) => s.trim()).filter(Boolean)) {
    if (name === 'sync') only.add('latency').add('backfill');
    else if ((SECTIONS as readonly string[]).includes(name)) only.add(name as Section);
    else fail(`Unknown section "${name}". Known: ${SECTIONS.join(', ')}, sync.`);
  }
  const latencyMs = v['latency-ms'] === undefined ? 50 : Number(v['latency-ms']);
  if (!Number.isFinite(latencyMs) || latencyMs < 0) fail(`--latency-ms must be a number of milliseconds, got "${String(v['latency-ms'])}".`);
  return {
    only, latencyMs,
    rate: positive(v, 'rate', 5),
    seconds: positive(v, 'seconds', 20),
    records: Math.round(positive(v, 'records', 20_000)),
    backfillSeconds: positive(v, 'backfill-seconds', 120),
    serverHeapMb: v['server-heap-mb'] === '0' ? 0 : Math.round(positive(v, 'server-heap-mb', 128)),
  };
}

async function main(): Promise<void> {
  const o = parse();
  const started = Date.now();
  console.log(`Benchmarks on Node ${process.version}, ${cpus().length} cores\n`);
  if (o.only.has('sandboxes')) {
    await benchSandboxes();
    console.log('');
  }
  let latency: LatencyResult[] = [];
  if (o.only.has('latency')) {
    latency = await benchSyncLatency({ latencyMs: o.latencyMs, serverHeapMb: o.serverHeapMb, rate: o.rate, seconds: o.seconds });
    console.log('');
  }
  const backfills: BackfillResult[] = [];
  if (o.only.has('backfill')) {
    const heap = o.serverHeapMb > 0 ? `server heap capped at ${o.serverHeapMb} MB` : 'server heap uncapped';
    console.log(`Backfill of Dynamics contacts into HubSpot (${o.latencyMs} ms added latency, rate limits on: HubSpot 110 requests / 10 s, Dataverse 6,000 / 5 min; ${heap}):`);
    const sizes = [Math.max(1, Math.round(o.records / 10)), o.records];
    for (const records of sizes) backfills.push(await benchBackfill({ latencyMs: o.latencyMs, serverHeapMb: o.serverHeapMb, records, timeoutSeconds: o.backfillSeconds }));
    console.log('');
  }
  if (latency.length || backfills.length) console.log(`Sync figures (Node ${process.version}, ${cpus().length} cores, ${o.latencyMs} ms added latency):\n\n${syncSummary(latency, backfills)}\n`);
  console.log(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
}

main().then(
  // Keep-alive sockets and the tenant set-up's clients would hold the process open for a while.
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
