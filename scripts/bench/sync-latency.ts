/**
 * Sync latency through the real webhooks, each direction on its own: a person changes pre-synced contacts
 * at a steady rate (open loop: the schedule does not wait for the product), and each change's latency is
 * the time from its commit in the source sandbox to the integration's first write of the counterpart in
 * the other sandbox, both read from the sandboxes' write logs (same clock, millisecond precision).
 */
import { percentile } from './load.ts';
import { People, sleep, waitQuiet, WriteLogClient, type WriteEntry } from './sync-clients.ts';
import { startStack, type SyncStack } from './sync-stack.ts';

export interface LatencyOptions {
  latencyMs: number;
  /** See StackOptions.serverHeapMb. */
  serverHeapMb: number;
  /** Changes per second. */
  rate: number;
  /** Seconds of changes per direction. */
  seconds: number;
}

export interface LatencyResult {
  direction: string;
  sent: number;
  landed: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

interface Pair {
  dynamicsId: string;
  hubspotId: string;
}

/** The HubSpot sandbox's default `webhookBatchWindowMs`; `npm run sandbox` has no option to change it. */
const HUBSPOT_WEBHOOK_WINDOW_MS = 50;

/** After the last change, how long a change may take before it counts as lost. */
const LANDING_TIMEOUT_MS = 30_000;

/** Contacts created in Dynamics by a person and synced to HubSpot through the webhooks; rate limits are off meanwhile. */
async function preSync(stack: SyncStack, people: People, count: number): Promise<Pair[]> {
  await people.setHubSpotRateLimits(false);
  const rows = Array.from({ length: count }, (_, i) => ({
    firstname: 'Bench', lastname: `Latency ${i}`, emailaddress1: `latency-${i}@bench.example`, jobtitle: 'Initial', address1_city: 'Leeds',
  }));
  const ids = await people.createDynamicsContacts(rows);
  const wanted = new Set(ids);
  const end = Date.now() + 120_000;
  let pairs: Pair[] = [];
  while (pairs.length < count) {
    if (Date.now() > end) throw new Error(`only ${pairs.length} of ${count} contacts reached HubSpot while preparing the latency run`);
    await sleep(500);
    pairs = (await people.listHubSpotContacts(['dynamics_id']))
      .filter((c) => c.properties.dynamics_id && wanted.has(c.properties.dynamics_id.toLowerCase()))
      .map((c) => ({ dynamicsId: c.properties.dynamics_id!.toLowerCase(), hubspotId: c.id }));
  }
  await waitQuiet({ people, logs: [new WriteLogClient(stack.info.hubspot.baseUrl), new WriteLogClient(stack.info.dataverse.orgUrl)], serverUrl: stack.server.url });
  await people.setHubSpotRateLimits(true); // also starts a fresh window
  return pairs;
}

/** The integration's first write at or after the person's change, or undefined if none yet. */
function answer(history: WriteEntry[] | undefined, after: number): number | undefined {
  return history?.find((w) => w.by === 'app' && w.at >= after)?.at;
}

async function measure(
  o: LatencyOptions,
  direction: string,
  change: (i: number) => Promise<void>,
  source: { log: WriteLogClient; key: (i: number) => string },
  target: { log: WriteLogClient; key: (i: number) => string },
  count: number,
): Promise<LatencyResult> {
  const sends: Array<Promise<void>> = [];
  const started = performance.now() + 50;
  for (let i = 0; i < count; i++) {
    const wait = started + (i * 1000) / o.rate - performance.now();
    if (wait > 0) await sleep(wait);
    sends.push(change(i));
  }
  const outcomes = await Promise.allSettled(sends);
  const failed = outcomes.filter((r) => r.status === 'rejected');
  if (failed.length) console.log(`    ${failed.length} changes were refused; first: ${(failed[0] as PromiseRejectedResult).reason}`);

  const sourceKeys = Array.from({ length: count }, (_, i) => source.key(i));
  const targetKeys = Array.from({ length: count }, (_, i) => target.key(i));
  const sourceHistory = await source.log.history(sourceKeys);
  const changedAt = sourceKeys.map((k) => [...(sourceHistory[k] ?? [])].reverse().find((w) => w.by === 'user')?.at);

  const end = Date.now() + LANDING_TIMEOUT_MS;
  let landedAt: Array<number | undefined> = [];
  for (;;) {
    const h = await target.log.history(targetKeys);
    landedAt = targetKeys.map((k, i) => (changedAt[i] === undefined ? undefined : answer(h[k], changedAt[i]!)));
    if (landedAt.every((t, i) => t !== undefined || changedAt[i] === undefined) || Date.now() > end) break;
    await sleep(250);
  }
  const latencies = landedAt.flatMap((t, i) => (t === undefined ? [] : [t - changedAt[i]!])).sort((a, b) => a - b);
  return {
    direction, sent: count, landed: latencies.length,
    p50Ms: percentile(latencies, 50), p95Ms: percentile(latencies, 95), p99Ms: percentile(latencies, 99), maxMs: latencies[latencies.length - 1] ?? NaN,
  };
}

export function formatLatency(r: LatencyResult): string {
  const ms = (v: number) => (Number.isNaN(v) ? '   n/a' : `${v.toFixed(0).padStart(6)}`);
  const lost = r.landed < r.sent ? `   (${r.sent - r.landed} of ${r.sent} did not arrive within ${LANDING_TIMEOUT_MS / 1000} s)` : '';
  return `${r.direction.padEnd(20)} ${String(r.landed).padStart(5)} changes   p50 ${ms(r.p50Ms)} ms   p95 ${ms(r.p95Ms)} ms   p99 ${ms(r.p99Ms)} ms   max ${ms(r.maxMs)} ms${lost}`;
}

export async function benchSyncLatency(o: LatencyOptions): Promise<LatencyResult[]> {
  const count = Math.max(1, Math.round(o.rate * o.seconds));
  console.log(`Sync latency through the webhooks (${o.latencyMs} ms added to every sandbox request, rate limits on, ${o.rate} changes/s for ${o.seconds} s per direction):`);
  const stack = await startStack({ latencyMs: o.latencyMs, serverHeapMb: o.serverHeapMb });
  try {
    const people = new People(stack.info);
    const hs = new WriteLogClient(stack.info.hubspot.baseUrl);
    const dv = new WriteLogClient(stack.info.dataverse.orgUrl);
    const pairs = await preSync(stack, people, count);
    const concurrent = await people.hubspotWebhookConcurrency();
    console.log(`  Delivery: HubSpot collects app-webhook events for ${HUBSPOT_WEBHOOK_WINDOW_MS} ms (the sandbox's batching window), then posts ≤ 100 per request, ≤ ${concurrent} requests at once;`);
    console.log('  Dataverse posts each change from its SDK step as soon as it commits, 4 deliveries at once. Both delays are inside the figures.');

    const results: LatencyResult[] = [];
    results.push(await measure(o, 'Dynamics → HubSpot',
      (i) => people.updateDynamicsContact(pairs[i].dynamicsId, { jobtitle: `Dynamics edit ${i}` }),
      { log: dv, key: (i) => `contact/${pairs[i].dynamicsId}` },
      { log: hs, key: (i) => `contacts/${pairs[i].hubspotId}` }, count));
    console.log(`  ${formatLatency(results[0])}`);
    await waitQuiet({ people, logs: [hs, dv], serverUrl: stack.server.url });
    results.push(await measure(o, 'HubSpot → Dynamics',
      (i) => people.updateHubSpotContact(pairs[i].hubspotId, { jobtitle: `HubSpot edit ${i}` }),
      { log: hs, key: (i) => `contacts/${pairs[i].hubspotId}` },
      { log: dv, key: (i) => `contact/${pairs[i].dynamicsId}` }, count));
    console.log(`  ${formatLatency(results[1])}`);
    return results;
  } finally {
    await stack.stop();
  }
}
