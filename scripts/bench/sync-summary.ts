/**
 * The sync figures against the product's targets, as one Markdown table (it goes into the README as printed).
 */
import { BACKFILL_BOUND_PER_S, type BackfillResult } from './sync-backfill.ts';
import type { LatencyResult } from './sync-latency.ts';

export const TARGETS = { p50Ms: 500, p99Ms: 2000, backfillFraction: 0.9, memoryGrowth: 0.2 };

const ms = (v: number) => (Number.isNaN(v) ? 'n/a' : `${Math.round(v).toLocaleString('en-US')} ms`);
const mark = (ok: boolean) => (ok ? 'met' : 'not met');

export function syncSummary(latency: LatencyResult[], backfills: BackfillResult[]): string {
  const rows: string[][] = [];
  for (const r of latency) {
    const ok = r.landed === r.sent && r.p50Ms < TARGETS.p50Ms && r.p99Ms < TARGETS.p99Ms;
    rows.push([`${r.direction} latency (${r.landed}/${r.sent} changes)`, `p50 ${ms(r.p50Ms)}, p95 ${ms(r.p95Ms)}, p99 ${ms(r.p99Ms)}`, `p50 < ${ms(TARGETS.p50Ms)}, p99 < ${ms(TARGETS.p99Ms)}: ${mark(ok)}`]);
  }
  const largest = backfills[backfills.length - 1];
  if (largest) {
    const fraction = largest.perSecond / BACKFILL_BOUND_PER_S;
    const done = largest.complete ? `all ${largest.records.toLocaleString('en-US')}` : `${largest.synced.toLocaleString('en-US')} of ${largest.records.toLocaleString('en-US')} in ${largest.seconds.toFixed(0)} s`;
    rows.push([`Backfill (${done})`, `${largest.perSecond.toFixed(1)} records/s = ${(fraction * 100).toFixed(1)} % of ${BACKFILL_BOUND_PER_S.toLocaleString('en-US')}/s`,
      `≥ ${TARGETS.backfillFraction * 100} %: ${mark(fraction >= TARGETS.backfillFraction)}`]);
  }
  for (const b of backfills) {
    rows.push([`Server memory, ${b.records.toLocaleString('en-US')} records`, `peak RSS ${b.memory.peakRssMb.toFixed(0)} MB (start ${b.memory.startRssMb.toFixed(0)} MB), peak heap used ${b.memory.peakHeapUsedMb.toFixed(0)} MB`, '']);
  }
  if (backfills.length >= 2) {
    const [small, big] = [backfills[0], backfills[backfills.length - 1]];
    const growth = big.memory.peakRssMb / small.memory.peakRssMb - 1;
    // A run cut short synced only part of its records, so its peak says little about the full number.
    const verdict = small.complete && big.complete ? mark(growth < TARGETS.memoryGrowth) : 'inconclusive (a run stopped before the end)';
    rows[rows.length - 1][2] = `flat, i.e. peak RSS grows < ${TARGETS.memoryGrowth * 100} % for ${big.records / small.records}× the records: ${verdict} (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(0)} %)`;
  }
  return ['| figure | measured | target |', '|---|---|---|', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}
