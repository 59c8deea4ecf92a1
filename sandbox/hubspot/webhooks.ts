import { createHash, createHmac } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import { HubSpotError, notFound, validationError } from './errors.ts';
import { HUBSPOT_DEFINED } from './association-types.ts';
import type { SandboxState } from './state.ts';
import type { ChangeEvent, Portal } from './store.ts';
import { SINGULAR, type Actor, type ObjectType } from './types.ts';

/**
 * App webhooks: the v3 developer API (settings + subscriptions, `?hapikey=`) and the dispatcher that turns store
 * changes into signed, batched POSTs with bounded retries — what HubSpot does for an installed app.
 */

export interface WebhookRetryOptions {
  /** Total delivery attempts per batch (HubSpot: up to 10). */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt. */
  baseDelayMs?: number;
}

export interface Subscription {
  id: string;
  eventType: string;
  propertyName?: string;
  active: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface WebhookSettings {
  targetUrl: string;
  throttling: { maxConcurrentRequests: number; period: 'SECONDLY' };
  createdAt: string;
  updatedAt: string;
}

export type WebhookEvent = Record<string, unknown> & { eventId: number; portalId: number; attemptNumber: number };

const EVENT_TYPE = /^(contact|company|deal)\.(creation|deletion|propertyChange|associationChange|merge|restore|privacyDeletion)$/;
const BATCH_MAX = 100;
const RESPONSE_TIMEOUT_MS = 5_000;

function source(actor: Actor): { changeSource: string; sourceId: string } {
  return actor.kind === 'app'
    ? { changeSource: 'INTEGRATION', sourceId: String(actor.appId) }
    : { changeSource: 'CRM_UI', sourceId: `userId:${actor.userId}` };
}

/** v3 signature: base64 HMAC-SHA256(clientSecret, method + url + body + timestamp). */
export function signV3(clientSecret: string, method: string, url: string, body: string, timestamp: number): string {
  return createHmac('sha256', clientSecret).update(`${method}${url}${body}${timestamp}`).digest('base64');
}

/** v1 signature: hex SHA-256 of clientSecret + body. */
export function signV1(clientSecret: string, body: string): string {
  return createHash('sha256').update(clientSecret + body).digest('hex');
}

interface Batch {
  portalId: number;
  events: WebhookEvent[];
  attempt: number;
}

export class WebhookDispatcher {
  settings: WebhookSettings | undefined;
  readonly subscriptions = new Map<string, Subscription>();
  readonly stats = { delivered: 0, failedAttempts: 0, droppedBatches: 0 };
  private nextSubscription = 1;
  private nextEventId = 100;
  private readonly queued = new Map<number, WebhookEvent[]>();
  private readonly flushTimers = new Map<number, NodeJS.Timeout>();
  private readonly waiting = new Map<number, Batch[]>();
  private readonly inFlight = new Map<number, number>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private readonly controllers = new Set<AbortController>();
  /** Batches formed and not yet finished (delivered or given up). */
  private open = 0;
  private idleWaiters: Array<() => void> = [];
  private closed = false;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;

  constructor(
    private readonly app: { appId: number; clientSecret: string },
    retry: WebhookRetryOptions = {},
    private readonly batchWindowMs = 50,
  ) {
    this.maxAttempts = Math.max(1, retry.maxAttempts ?? 10);
    this.baseDelayMs = retry.baseDelayMs ?? 1_000;
  }

  addSubscription(eventType: string, propertyName: string | undefined, active: boolean): Subscription {
    const now = new Date().toISOString();
    const sub: Subscription = { id: String(this.nextSubscription++), eventType, active, createdAt: now, updatedAt: now };
    if (propertyName) sub.propertyName = propertyName;
    this.subscriptions.set(sub.id, sub);
    return sub;
  }

  /** Store listener: one change → zero or more events, one per matching active subscription. */
  onChange(portal: Portal, change: ChangeEvent): void {
    if (this.closed || !this.settings) return;
    const base = (sub: Subscription) => ({
      eventId: this.nextEventId++, subscriptionId: Number(sub.id), portalId: portal.portalId, appId: this.app.appId,
      occurredAt: change.at, subscriptionType: sub.eventType, attemptNumber: 0, ...source(change.actor),
    });
    const matching = (type: ObjectType, kind: string, propertyName?: string) =>
      [...this.subscriptions.values()].filter((s) =>
        s.active && s.eventType === `${SINGULAR[type]}.${kind}` && (kind !== 'propertyChange' || s.propertyName === propertyName));
    const events: WebhookEvent[] = [];
    switch (change.kind) {
      case 'creation':
      case 'deletion':
        for (const sub of matching(change.type, change.kind)) {
          events.push({ ...base(sub), objectId: Number(change.id), changeFlag: change.kind === 'creation' ? 'NEW' : 'DELETED' });
        }
        break;
      case 'propertyChange':
        for (const sub of matching(change.type, 'propertyChange', change.name)) {
          events.push({ ...base(sub), objectId: Number(change.id), propertyName: change.name, propertyValue: change.value });
        }
        break;
      case 'associationChange': {
        // HubSpot reports the association from each side that has a subscription.
        const primary = HUBSPOT_DEFINED.get(change.typeId)?.primary ?? false;
        const sides: Array<[ObjectType, string, ObjectType, string]> = [
          [change.fromType, change.fromId, change.toType, change.toId],
          [change.toType, change.toId, change.fromType, change.fromId],
        ];
        for (const [from, fromId, to, toId] of sides) {
          for (const sub of matching(from, 'associationChange')) {
            events.push({
              ...base(sub), associationType: `${SINGULAR[from]}_TO_${SINGULAR[to]}`.toUpperCase(), fromObjectId: Number(fromId),
              toObjectId: Number(toId), associationRemoved: change.removed, isPrimaryAssociation: primary,
            });
          }
        }
        break;
      }
    }
    for (const e of events) this.enqueue(e);
  }

  private enqueue(event: WebhookEvent): void {
    let q = this.queued.get(event.portalId);
    if (!q) this.queued.set(event.portalId, (q = []));
    q.push(event);
    if (q.length >= BATCH_MAX) return this.flush(event.portalId);
    if (!this.flushTimers.has(event.portalId)) {
      this.flushTimers.set(event.portalId, setTimeout(() => this.flush(event.portalId), this.batchWindowMs));
    }
  }

  private flush(portalId: number): void {
    clearTimeout(this.flushTimers.get(portalId));
    this.flushTimers.delete(portalId);
    const q = this.queued.get(portalId) ?? [];
    this.queued.delete(portalId);
    for (let i = 0; i < q.length; i += BATCH_MAX) {
      this.open++;
      this.schedule({ portalId, events: q.slice(i, i + BATCH_MAX), attempt: 0 });
    }
    this.checkIdle();
  }

  /** Respects maxConcurrentRequests per portal: extra batches wait for a free slot. */
  private schedule(batch: Batch): void {
    if (this.closed) return this.finish();
    const limit = this.settings?.throttling.maxConcurrentRequests ?? 10;
    if ((this.inFlight.get(batch.portalId) ?? 0) >= limit) {
      let w = this.waiting.get(batch.portalId);
      if (!w) this.waiting.set(batch.portalId, (w = []));
      w.push(batch);
      return;
    }
    void this.send(batch);
  }

  private async send(batch: Batch): Promise<void> {
    const settings = this.settings;
    if (!settings) {
      this.stats.droppedBatches++;
      return this.finish();
    }
    this.inFlight.set(batch.portalId, (this.inFlight.get(batch.portalId) ?? 0) + 1);
    const body = JSON.stringify(batch.events.map((e) => ({ ...e, attemptNumber: batch.attempt })));
    const timestamp = Date.now();
    const controller = new AbortController();
    this.controllers.add(controller);
    const timer = setTimeout(() => controller.abort(), RESPONSE_TIMEOUT_MS);
    let ok = false;
    try {
      const res = await fetch(settings.targetUrl, {
        method: 'POST',
        body,
        signal: controller.signal,
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'HubSpot Connect 2.0 (http://dev.hubspot.com/) (namespace: webhooks-nio-http-client) - WebhooksExecutorDaemon-executor',
          'X-HubSpot-Signature': signV1(this.app.clientSecret, body),
          'X-HubSpot-Signature-Version': 'v1',
          'X-HubSpot-Signature-v3': signV3(this.app.clientSecret, 'POST', settings.targetUrl, body, timestamp),
          'X-HubSpot-Request-Timestamp': String(timestamp),
        },
      });
      await res.arrayBuffer().catch(() => undefined);
      ok = res.status >= 200 && res.status < 300;
    } catch {
      ok = false; // connection refused, reset or timed out: retried like a 5xx
    } finally {
      clearTimeout(timer);
      this.controllers.delete(controller);
      this.inFlight.set(batch.portalId, (this.inFlight.get(batch.portalId) ?? 1) - 1);
    }
    const next = this.waiting.get(batch.portalId)?.shift();
    if (next) this.schedule(next);
    if (ok) {
      this.stats.delivered += batch.events.length;
      return this.finish();
    }
    this.stats.failedAttempts++;
    if (this.closed || batch.attempt + 1 >= this.maxAttempts) {
      this.stats.droppedBatches++;
      return this.finish();
    }
    const delay = this.baseDelayMs * 2 ** batch.attempt;
    const t = setTimeout(() => {
      this.retryTimers.delete(t);
      this.schedule({ ...batch, attempt: batch.attempt + 1 });
    }, delay);
    this.retryTimers.add(t);
  }

  private finish(): void {
    this.open--;
    this.checkIdle();
  }

  private checkIdle(): void {
    if (this.open > 0 || this.queued.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Resolves when nothing is queued, in flight or waiting for a retry. */
  idle(): Promise<void> {
    if (this.open === 0 && this.queued.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    for (const t of this.flushTimers.values()) clearTimeout(t);
    for (const t of this.retryTimers) clearTimeout(t);
    for (const c of this.controllers) c.abort();
    this.flushTimers.clear();
    this.retryTimers.clear();
    this.queued.clear();
    this.waiting.clear();
    this.open = 0;
    this.checkIdle();
  }
}

/** `/webhooks/v3/{appId}/…`: developer API key in `?hapikey=`, the app id in the path must be the sandbox app's. */
export function webhooksRouter(state: SandboxState, dispatcher: WebhookDispatcher): express.Router {
  const r = express.Router();
  const requireDeveloperKey = (req: Request, _res: Response, next: NextFunction) => {
    if (req.query.hapikey !== state.app.developerApiKey) {
      return next(new HubSpotError(401, 'INVALID_AUTHENTICATION', 'The API key provided is invalid. View or manage your API key here: https://app.hubspot.com/l/api-key/'));
    }
    if (Number(req.params.appId) !== state.app.appId) return next(notFound(`App ${req.params.appId} not found`));
    next();
  };
  const base = '/webhooks/v3/:appId';

  r.get(`${base}/settings`, requireDeveloperKey, (_req, res) => {
    if (!dispatcher.settings) throw notFound('No settings found for this app');
    res.json(dispatcher.settings);
  });
  r.put(`${base}/settings`, requireDeveloperKey, (req, res) => {
    const b = (req.body ?? {}) as { targetUrl?: unknown; throttling?: { maxConcurrentRequests?: unknown } };
    let url: URL;
    try {
      url = new URL(String(b.targetUrl));
    } catch {
      throw validationError(`targetUrl ${JSON.stringify(b.targetUrl)} is not a valid URL`);
    }
    // HubSpot requires https; the sandbox also accepts http so local servers can receive events.
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw validationError('targetUrl must be an http(s) URL');
    const max = b.throttling?.maxConcurrentRequests === undefined ? 10 : Number(b.throttling.maxConcurrentRequests);
    if (!Number.isInteger(max) || max < 5) throw validationError('throttling.maxConcurrentRequests must be an integer of at least 5');
    const now = new Date().toISOString();
    dispatcher.settings = {
      targetUrl: String(b.targetUrl), throttling: { maxConcurrentRequests: max, period: 'SECONDLY' },
      createdAt: dispatcher.settings?.createdAt ?? now, updatedAt: now,
    };
    res.json(dispatcher.settings);
  });
  r.delete(`${base}/settings`, requireDeveloperKey, (_req, res) => {
    dispatcher.settings = undefined;
    res.status(204).end();
  });

  r.get(`${base}/subscriptions`, requireDeveloperKey, (_req, res) => {
    res.json({ results: [...dispatcher.subscriptions.values()] });
  });
  r.post(`${base}/subscriptions`, requireDeveloperKey, (req, res) => {
    const b = (req.body ?? {}) as { eventType?: unknown; propertyName?: unknown; active?: unknown };
    if (typeof b.eventType !== 'string' || !EVENT_TYPE.test(b.eventType)) {
      throw validationError(`Unsupported eventType ${JSON.stringify(b.eventType)}; the sandbox supports contact|company|deal events`);
    }
    const propertyName = typeof b.propertyName === 'string' && b.propertyName ? b.propertyName : undefined;
    if (b.eventType.endsWith('.propertyChange') && !propertyName) throw validationError('propertyName is required for propertyChange subscriptions');
    const duplicate = [...dispatcher.subscriptions.values()].find((s) => s.eventType === b.eventType && s.propertyName === propertyName);
    if (duplicate) throw new HubSpotError(409, 'CONFLICT', `A subscription for ${b.eventType}${propertyName ? ` (${propertyName})` : ''} already exists: ${duplicate.id}`);
    if (dispatcher.subscriptions.size >= 1000) throw validationError('An app may have at most 1000 subscriptions');
    res.status(201).json(dispatcher.addSubscription(b.eventType, propertyName, b.active !== false));
  });
  r.post(`${base}/subscriptions/batch/update`, requireDeveloperKey, (req, res) => {
    const inputs = (req.body as { inputs?: Array<{ id?: unknown; active?: unknown }> })?.inputs;
    if (!Array.isArray(inputs)) throw validationError('inputs must be an array');
    const startedAt = new Date().toISOString();
    const results = [];
    const missing: string[] = [];
    for (const i of inputs) {
      const sub = dispatcher.subscriptions.get(String(i?.id));
      if (!sub) {
        missing.push(String(i?.id));
        continue;
      }
      sub.active = i.active === true;
      sub.updatedAt = new Date().toISOString();
      results.push(sub);
    }
    const out: Record<string, unknown> = { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() };
    if (missing.length) Object.assign(out, { numErrors: 1, errors: [{ status: 'error', category: 'OBJECT_NOT_FOUND', message: 'Subscriptions not found', context: { ids: missing } }] });
    res.status(missing.length ? 207 : 200).json(out);
  });
  r.get(`${base}/subscriptions/:id`, requireDeveloperKey, (req, res) => {
    const sub = dispatcher.subscriptions.get(String(req.params.id));
    if (!sub) throw notFound(`Subscription ${req.params.id} not found`);
    res.json(sub);
  });
  r.patch(`${base}/subscriptions/:id`, requireDeveloperKey, (req, res) => {
    const sub = dispatcher.subscriptions.get(String(req.params.id));
    if (!sub) throw notFound(`Subscription ${req.params.id} not found`);
    const b = (req.body ?? {}) as { active?: unknown };
    if (typeof b.active === 'boolean') sub.active = b.active;
    sub.updatedAt = new Date().toISOString();
    res.json(sub);
  });
  r.delete(`${base}/subscriptions/:id`, requireDeveloperKey, (req, res) => {
    dispatcher.subscriptions.delete(String(req.params.id));
    res.status(204).end();
  });
  return r;
}

