import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The server's Prometheus metrics. One registry per server instance (not prom-client's global one), so
 * tests can start several servers in one process without their counters mixing.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    queueDepth: new Gauge({
      name: 'sync_queue_depth',
      help: 'Jobs waiting or running, by state',
      labelNames: ['state'] as const,
      registers: [registry],
    }),
    syncLag: new Histogram({
      name: 'sync_lag_seconds',
      help: 'Time from the source change being received to the target being written',
      labelNames: ['direction'] as const,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers: [registry],
    }),
    apiCalls: new Counter({
      name: 'sync_api_calls_total',
      help: 'Calls to HubSpot and Dataverse, by system, operation and HTTP status',
      labelNames: ['system', 'operation', 'status'] as const,
      registers: [registry],
    }),
    retries: new Counter({
      name: 'sync_retries_total',
      help: 'Jobs scheduled for another attempt after a retryable failure',
      labelNames: ['system'] as const,
      registers: [registry],
    }),
    echoesSuppressed: new Counter({
      name: 'sync_echoes_suppressed_total',
      help: 'Changes dropped because we wrote them ourselves, by layer (source, shadow)',
      labelNames: ['direction', 'layer'] as const,
      registers: [registry],
    }),
    writes: new Counter({
      name: 'sync_writes_total',
      help: 'Records written to a target system',
      labelNames: ['direction', 'object'] as const,
      registers: [registry],
    }),
    errors: new Counter({
      name: 'sync_errors_total',
      help: 'Sync errors stored on records, by kind',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: 'sync_dead_letters_total',
      help: 'Jobs moved to the dead-letter list after their last attempt',
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
