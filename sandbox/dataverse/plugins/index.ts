/**
 * The sandbox's plug-in pipeline for webhook steps: listens to committed changes, picks the SDK steps that
 * Dataverse would run (enabled, post-operation, filtering attributes), and posts the RemoteExecutionContext
 * to each step's service endpoint from a background queue, the way the asynchronous service does.
 *
 * Simplifications, on purpose:
 * - A synchronous (mode 0) step is delivered like an async one, after commit; a failure is recorded but does
 *   not roll back the caller's operation as real Dataverse would. Its payload still says Mode 0.
 * - Only stage 40 fires: the change feed reports committed changes, so pre-stages (10/20) have no moment to run.
 * - Entity images are not modelled (the step registry carries none), so Pre/PostEntityImages are empty.
 */
import { randomUUID } from 'node:crypto';
import pino, { type Logger } from 'pino';
import type { ChangeFeed, OrgInfo, RecordChange, StepRegistry, WebhookStep } from '../contracts.ts';
import { deliverWebhook } from './delivery.ts';
import { authenticatedTarget } from './endpoint-auth.ts';
import { buildRemoteExecutionContext } from './execution-context.ts';
import { toWcfJson } from './wcf-json.ts';

export { buildRemoteExecutionContext } from './execution-context.ts';
export { toWcfJson } from './wcf-json.ts';
export { parseSettings, authenticatedTarget, AuthType } from './endpoint-auth.ts';

/** Above this, Dataverse strips the bulky parts of the context and flags the request with a header. */
const MAX_MESSAGE_BYTES = 256 * 1024;

/** A finished asynchronous operation ("System Job") of a webhook step. */
export interface SystemJob {
  /** asyncoperationid; also the payload's OperationId. */
  id: string;
  status: 'succeeded' | 'failed';
  stepId: string;
  stepName: string;
  endpointUrl: string;
  message: string;
  entity: string;
  recordId: string;
  correlationId: string;
  attempts: number;
  /** HTTP status of the last attempt, when one arrived. */
  httpStatus?: number;
  /** Why it failed (the message the System Job shows). */
  error?: string;
  completedOn: Date;
}

export interface WebhookDispatcherOptions {
  feed: ChangeFeed;
  steps: StepRegistry;
  org: OrgInfo;
  /** Per attempt; Dataverse gives a webhook 60 s. */
  timeoutMs?: number;
  /** Deliveries in flight at once; the async service works in parallel, so order across jobs is not guaranteed. */
  concurrency?: number;
  logger?: Logger;
}

export interface WebhookDispatcher {
  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void>;
  /** Unsubscribes, drops queued jobs and aborts deliveries in flight. */
  stop(): void;
  /** Completed jobs, oldest first (the last 1000). */
  systemJobs(): SystemJob[];
  /** The failed ones among them, as the System Jobs view lists them. */
  failedJobs(): SystemJob[];
}

const KEPT_JOBS = 1000;

/** Which registered steps run for a change: enabled, post-operation, and for Update only when a filtered column changed. */
export function stepsToRun(change: RecordChange, steps: WebhookStep[]): WebhookStep[] {
  const changed = new Set(Object.keys(change.changed).map((c) => c.toLowerCase()));
  return steps.filter((step) => {
    if (!step.enabled || step.stage !== 40) return false;
    if (step.message !== change.message || step.entity !== change.entity) return false;
    if (change.message !== 'Update' || step.filteringAttributes.length === 0) return true;
    return step.filteringAttributes.some((a) => changed.has(a.trim().toLowerCase()));
  });
}

interface Job {
  id: string;
  change: RecordChange;
  step: WebhookStep;
}

export function startWebhookDispatcher(o: WebhookDispatcherOptions): WebhookDispatcher {
  const timeoutMs = o.timeoutMs ?? 60_000;
  const concurrency = Math.max(1, o.concurrency ?? 4);
  const log = o.logger ?? pino({ name: 'dataverse-sandbox-plugins', level: process.env.SANDBOX_LOG_LEVEL ?? 'warn' });
  const queue: Job[] = [];
  const jobs: SystemJob[] = [];
  const abort = new AbortController();
  let inFlight = 0;
  let idleWaiters: Array<() => void> = [];

  function settleIdle(): void {
    if (queue.length > 0 || inFlight > 0) return;
    const waiters = idleWaiters;
    idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  function record(job: SystemJob): void {
    jobs.push(job);
    if (jobs.length > KEPT_JOBS) jobs.splice(0, jobs.length - KEPT_JOBS);
  }

  async function run(job: Job): Promise<void> {
    const { change, step } = job;
    const context = buildRemoteExecutionContext(change, step, o.org, { operationId: job.id });
    let body = toWcfJson(context);
    const headers: Record<string, string> = {};
    if (Buffer.byteLength(body) > MAX_MESSAGE_BYTES) {
      body = toWcfJson({ ...context, InputParameters: [], ParentContext: null, PreEntityImages: [], PostEntityImages: [] });
      headers['x-ms-dynamics-msg-size-exceeded'] = 'true';
    }
    const target = authenticatedTarget(step.endpoint);
    const outcome = await deliverWebhook({
      url: target.url,
      headers: {
        ...target.headers,
        ...headers,
        'Content-Type': 'application/json',
        'x-ms-dynamics-organization': o.org.organizationName,
        'x-ms-dynamics-entity-name': change.entity,
        'x-ms-dynamics-request-name': change.message,
        'x-ms-correlation-request-id': change.correlationId,
        'x-request-id': randomUUID(),
      },
      body,
      timeoutMs,
      signal: abort.signal,
    });
    if (abort.signal.aborted) return;
    const summary: SystemJob = {
      id: job.id,
      status: outcome.ok ? 'succeeded' : 'failed',
      stepId: step.id,
      stepName: step.name,
      endpointUrl: step.endpoint.url,
      message: change.message,
      entity: change.entity,
      recordId: change.id,
      correlationId: change.correlationId,
      attempts: outcome.attempts,
      httpStatus: outcome.status,
      error: outcome.error,
      completedOn: new Date(),
    };
    record(summary);
    // The endpoint URL is logged without its query: a WebhookKey or query-string secret lives there.
    const logged = { jobId: job.id, step: step.name, endpoint: step.endpoint.url.split('?')[0], entity: change.entity, recordId: change.id, attempts: outcome.attempts, status: outcome.status };
    if (outcome.ok) log.debug(logged, 'webhook delivered');
    else log.warn({ ...logged, error: outcome.error }, 'webhook delivery failed');
  }

  function pump(): void {
    while (inFlight < concurrency && queue.length > 0 && !abort.signal.aborted) {
      const job = queue.shift()!;
      inFlight += 1;
      run(job)
        .catch((e: unknown) => log.error({ err: e, jobId: job.id }, 'webhook job crashed'))
        .finally(() => {
          inFlight -= 1;
          pump();
          settleIdle();
        });
    }
  }

  const unsubscribe = o.feed.onChange((change) => {
    if (abort.signal.aborted) return;
    // Steps are read when the event happens, as the pipeline does: a step disabled later still runs its queued jobs.
    // The feed calls this inside the store's write path, so nothing here may throw back into it.
    try {
      for (const step of stepsToRun(change, o.steps.stepsFor(change.message, change.entity))) {
        queue.push({ id: randomUUID(), change, step });
      }
    } catch (e) {
      log.error({ err: e, entity: change.entity, recordId: change.id }, 'could not select webhook steps');
    }
    pump();
  });

  return {
    idle: () =>
      new Promise<void>((resolve) => {
        if (abort.signal.aborted) return resolve();
        idleWaiters.push(resolve);
        settleIdle();
      }),
    stop() {
      unsubscribe();
      queue.length = 0;
      abort.abort();
      // Aborted deliveries settle on their own; nobody should wait for them.
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    },
    systemJobs: () => [...jobs],
    failedJobs: () => jobs.filter((j) => j.status === 'failed'),
  };
}
