/**
 * One webhook delivery as Dataverse's async service makes it: only the status code counts, 2xx is success,
 * 502/503/504 get exactly one more attempt, anything else (or a timeout, or no connection) fails the job.
 */

export interface DeliveryRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Aborts in-flight attempts when the dispatcher stops. */
  signal: AbortSignal;
}

export interface DeliveryOutcome {
  ok: boolean;
  attempts: number;
  /** Status of the last attempt, when a response arrived. */
  status?: number;
  error?: string;
}

const RETRIED_STATUSES = new Set([502, 503, 504]);

async function attempt(req: DeliveryRequest): Promise<{ status?: number; error?: string }> {
  const timeout = AbortSignal.timeout(req.timeoutMs);
  try {
    const res = await fetch(req.url, {
      method: 'POST',
      headers: req.headers,
      body: req.body,
      signal: AbortSignal.any([timeout, req.signal]),
      redirect: 'manual',
    });
    // The body is never read by Dataverse; drain it so the connection can be reused.
    await res.arrayBuffer().catch(() => undefined);
    return { status: res.status };
  } catch (e) {
    if (timeout.aborted) return { error: `The request timed out after ${req.timeoutMs} ms` };
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return { error: cause?.code ?? cause?.message ?? (e as Error).message };
  }
}

export async function deliverWebhook(req: DeliveryRequest): Promise<DeliveryOutcome> {
  let attempts = 0;
  for (;;) {
    attempts += 1;
    const { status, error } = await attempt(req);
    if (status !== undefined && status >= 200 && status < 300) return { ok: true, attempts, status };
    if (status !== undefined && RETRIED_STATUSES.has(status) && attempts === 1 && !req.signal.aborted) continue;
    return { ok: false, attempts, status, error: error ?? `The webhook endpoint answered HTTP ${status}` };
  }
}
