/**
 * Backfill throughput and the server's memory while it runs. Contacts are created in Dynamics with the SDK
 * steps switched off (so the server hears nothing, like records older than the integration), then the server
 * is asked to sync them all through its admin API, with the sandboxes' real rate limits on. Progress and the
 * end are read from the HubSpot sandbox's write log: the count and time of contacts the integration created.
 */
import { request, requestOk } from './http.ts';
import { metricSum, People, sleep, WriteLogClient } from './sync-clients.ts';
import { startMemorySampler, type MemoryPeak } from './sync-memory.ts';
import { cpuSeconds } from './sync-proc.ts';
import { startStack, type SyncStack } from './sync-stack.ts';

/** HubSpot's limit for a marketplace app (110 requests per rolling 10 s per portal) times its batch size (100). */
export const BACKFILL_BOUND_PER_S = (110 / 10) * 100;

export interface BackfillOptions {
  latencyMs: number;
  /** See StackOptions.serverHeapMb. */
  serverHeapMb: number;
  records: number;
  /** Gives up after this long (the figure is then the rate so far). */
  timeoutSeconds: number;
}

export interface BackfillResult {
  records: number;
  synced: number;
  seconds: number;
  perSecond: number;
  complete: boolean;
  trigger: string;
  memory: MemoryPeak;
  hubspotCalls?: number;
  hubspot429?: number;
  dataverse429?: number;
  /** Average cores busy during the run: whether the server (or the sandboxes) ran out of CPU. */
  serverCores?: number;
  sandboxCores?: number;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/**
 * Starts the sync of every contact: the resync route where the server has one (historical sync), else a poll,
 * whose Dataverse change tracking finds the rows created since the baseline poll.
 */
async function trigger(stack: SyncStack): Promise<{ name: string; done: Promise<string> }> {
  const url = `${stack.server.url}/api/tenants/${stack.tenant.id}`;
  const headers = { authorization: `Bearer ${stack.tenant.apiKey}`, 'content-type': 'application/json' };
  const resync = request(`${url}/resync`, { method: 'POST', headers, body: JSON.stringify({ system: 'dynamics', object: 'contact' }) });
  // The resync route answers when every id is queued; a missing route answers at once.
  const first = await Promise.race([resync, sleep(2000).then(() => undefined)]);
  if (first && first.status === 404) {
    return { name: 'POST /poll (change tracking)', done: requestOk(`${url}/poll`, { method: 'POST', headers }).then((r) => r.body) };
  }
  return {
    name: 'POST /resync',
    done: resync.then((r) => {
      if (r.status !== 200) throw new Error(`resync answered HTTP ${r.status}: ${r.body.slice(0, 300)}`);
      return r.body;
    }),
  };
}

async function seed(people: People, stack: SyncStack, records: number): Promise<void> {
  // The first poll stores Dataverse's change-tracking position, so the rows created next count as changes.
  await requestOk(`${stack.server.url}/api/tenants/${stack.tenant.id}/poll`, { method: 'POST', headers: { authorization: `Bearer ${stack.tenant.apiKey}` } });
  await people.setDynamicsSteps(false);
  const started = performance.now();
  const rows = Array.from({ length: records }, (_, i) => ({
    firstname: 'Backfill', lastname: `Contact ${i}`, emailaddress1: `backfill-${i}@bench.example`, jobtitle: 'Buyer', telephone1: `+44 113 ${String(i).padStart(6, '0')}`, address1_city: 'York',
  }));
  await people.createDynamicsContacts(rows);
  await people.setDynamicsSteps(true);
  console.log(`    created ${fmt(records)} Dynamics contacts in ${((performance.now() - started) / 1000).toFixed(1)} s ($batch, SDK steps off meanwhile)`);
}

export async function benchBackfill(o: BackfillOptions): Promise<BackfillResult> {
  console.log(`  ${fmt(o.records)} records:`);
  const stack = await startStack({ latencyMs: o.latencyMs, serverHeapMb: o.serverHeapMb });
  try {
    const people = new People(stack.info);
    const hubspotWrites = new WriteLogClient(stack.info.hubspot.baseUrl);
    await seed(people, stack, o.records);
    const createdBefore = (await hubspotWrites.totals()).contacts?.app.creates ?? 0;
    // The tenant's set-up spent HubSpot calls moments ago; a backfill normally starts with the whole budget.
    await people.setHubSpotRateLimits(true);

    const calls = () => Promise.all([
      metricSum(stack.server.url, 'sync_api_calls_total', { system: 'hubspot' }),
      metricSum(stack.server.url, 'sync_api_calls_total', { system: 'hubspot', status: '429' }),
      metricSum(stack.server.url, 'sync_api_calls_total', { system: 'dataverse', status: '429' }),
    ]);
    const callsBefore = await calls();
    const memory = startMemorySampler(stack.server.pid, stack.server.url);
    const cpuBefore = [cpuSeconds(stack.server.pid), cpuSeconds(stack.sandboxPid)];
    const triggeredAt = Date.now();
    const t = await trigger(stack);
    let queuedAfter: number | undefined;
    t.done.then(() => (queuedAfter = (Date.now() - triggeredAt) / 1000), () => undefined);

    const deadline = triggeredAt + o.timeoutSeconds * 1000;
    let synced = 0;
    let lastAt = triggeredAt;
    let lastPrint = triggeredAt;
    let printedSynced = 0;
    while (synced < o.records && Date.now() < deadline) {
      await sleep(500);
      const c = (await hubspotWrites.totals()).contacts?.app;
      synced = (c?.creates ?? 0) - createdBefore;
      lastAt = c?.lastCreateAt ?? lastAt;
      const now = Date.now();
      if (now - lastPrint >= 5000 || synced >= o.records) {
        const recent = ((synced - printedSynced) * 1000) / (now - lastPrint);
        console.log(`    ${((now - triggeredAt) / 1000).toFixed(0).padStart(4)} s   ${fmt(synced).padStart(6)} in HubSpot (${((synced / o.records) * 100).toFixed(1)} %)   ${recent.toFixed(1)} records/s lately${queuedAfter === undefined ? '   (still queueing)' : ''}`);
        lastPrint = now;
        printedSynced = synced;
      }
    }
    const complete = synced >= o.records;
    const seconds = ((complete ? lastAt : Date.now()) - triggeredAt) / 1000;
    const wall = (Date.now() - triggeredAt) / 1000;
    const [serverCores, sandboxCores] = [cpuSeconds(stack.server.pid), cpuSeconds(stack.sandboxPid)].map((after, i) =>
      (after === undefined || cpuBefore[i] === undefined ? undefined : (after - cpuBefore[i]!) / wall));
    // Queueing that outlasts the run is itself a finding; do not wait for it beyond a moment.
    await Promise.race([t.done.catch((err: Error) => console.log(`    trigger failed: ${err.message}`)), sleep(10_000)]);
    const peak = await memory.stop();
    // Only the backfill's calls: the set-up and the baseline poll made some before.
    const [hubspotCalls, hubspot429, dataverse429] = (await calls()).map((after, i) => (after === undefined ? undefined : after - (callsBefore[i] ?? 0)));
    const result: BackfillResult = {
      records: o.records, synced, seconds, perSecond: synced / seconds, complete, trigger: t.name, memory: peak, hubspotCalls, hubspot429, dataverse429, serverCores, sandboxCores,
    };
    console.log(`    ${complete ? 'all' : `stopped after ${o.timeoutSeconds} s:`} ${fmt(synced)} of ${fmt(o.records)} in ${seconds.toFixed(1)} s = ${result.perSecond.toFixed(1)} records/s ` +
      `(${((result.perSecond / BACKFILL_BOUND_PER_S) * 100).toFixed(1)} % of ${fmt(BACKFILL_BOUND_PER_S)}); triggered by ${t.name}, all queued after ${queuedAfter?.toFixed(1) ?? '?'} s`);
    const cores = (c: number | undefined) => (c === undefined ? '?' : c.toFixed(2));
    console.log(`    HubSpot calls ${hubspotCalls ?? '?'} (429s: ${hubspot429 ?? 0}), Dataverse 429s: ${dataverse429 ?? 0}; cores busy: server ${cores(serverCores)}, sandboxes ${cores(sandboxCores)}`);
    console.log(`    server memory: RSS ${peak.startRssMb.toFixed(0)} MB before, peak ${peak.peakRssMb.toFixed(0)} MB${peak.exactRssPeak ? '' : ' (sampled)'}; peak heap used ${peak.peakHeapUsedMb.toFixed(0)} MB`);
    return result;
  } finally {
    await stack.stop();
  }
}
