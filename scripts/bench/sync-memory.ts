/**
 * Peak memory of the server process while something runs. RSS comes from the kernel (`/proc/<pid>/status`):
 * its high-water mark is reset at the start (`clear_refs` 5), so VmHWM is the true peak of the run even
 * between samples, and start-up (TypeScript compilation by tsx) is not counted. The V8 heap is only visible
 * from inside the process, so it is sampled from the server's `/metrics` (prom-client's default metrics).
 */
import { writeFileSync } from 'node:fs';
import { scrape, sumOf } from './sync-clients.ts';
import { statusKb } from './sync-proc.ts';

export interface MemoryPeak {
  /** RSS when sampling started. */
  startRssMb: number;
  peakRssMb: number;
  peakHeapUsedMb: number;
  /** True when the kernel's high-water mark was reset and read; else the peak is the largest sample. */
  exactRssPeak: boolean;
}

const MB = 1024 * 1024;

export function startMemorySampler(pid: number, serverUrl: string, { intervalMs = 250, heapEveryMs = 1000 } = {}): { stop(): Promise<MemoryPeak> } {
  let exact = false;
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    exact = statusKb(pid, 'VmHWM') !== undefined;
  } catch {
    exact = false; // not Linux, or not allowed: fall back to the samples
  }
  const startKb = statusKb(pid, 'VmRSS') ?? 0;
  let maxRssKb = startKb;
  let maxHeap = 0;
  let lastHeapAt = 0;
  let stopped = false;
  let scraping: Promise<void> = Promise.resolve();

  const sample = () => {
    maxRssKb = Math.max(maxRssKb, statusKb(pid, 'VmRSS') ?? 0);
    const now = Date.now();
    if (now - lastHeapAt >= heapEveryMs) {
      lastHeapAt = now;
      scraping = scrape(serverUrl).then(
        (text) => { maxHeap = Math.max(maxHeap, sumOf(text, 'nodejs_heap_size_used_bytes') ?? 0); },
        () => undefined,
      );
    }
  };
  sample();
  const timer = setInterval(() => !stopped && sample(), intervalMs);

  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      sample();
      await scraping;
      const hwm = exact ? statusKb(pid, 'VmHWM') : undefined;
      return {
        startRssMb: (startKb * 1024) / MB,
        peakRssMb: ((hwm ?? maxRssKb) * 1024) / MB,
        peakHeapUsedMb: maxHeap / MB,
        exactRssPeak: hwm !== undefined,
      };
    },
  };
}
