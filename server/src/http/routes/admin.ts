import express, { type Response } from 'express';
import { z } from 'zod';
import type { Store } from '../../store/index.ts';
import type { Tenant } from '../../store/repositories/tenants.ts';
import type { Job } from '../../store/repositories/jobs.ts';
import type { JobQueue } from '../../queue/job-queue.ts';
import type { PollResult } from '../../intake/scheduler.ts';
import { resync, RESYNC_OBJECTS } from '../../intake/resync.ts';
import { issueEmbedCredential } from '../../embed/credential.ts';
import { HttpError } from '../errors.ts';
import { requireTenantKey } from '../tenant-auth.ts';

export interface AdminDeps {
  store: Store;
  queue: JobQueue;
  scheduler: { pollNow(tenantId: string): Promise<PollResult>; lastResult(tenantId: string): PollResult | undefined };
  /** Cached per-tenant state (connectors, settings): dropped after a change; its connectors read ids for a resync. */
  contexts: { invalidate(tenantId: string): void; get(tenantId: string): Promise<ResyncConnectors> };
}

/** What PATCH /api/tenants/:id may change; anything else is refused by name (strict). */
const patchSchema = z
  .object({
    mainSwitch: z.boolean(),
    mode: z.enum(['uat', 'production']),
    newContactPolicy: z.enum(['lead', 'contact', 'none']),
    ownerSync: z.boolean(),
    pollIntervalMinutes: z.number().int().min(1).max(1440),
  })
  .partial()
  .strict();

type ResyncConnectors = Parameters<typeof resync>[0]['connectors'];

const resyncSchema = z.union([
  z.object({ system: z.literal('dynamics'), object: z.enum(RESYNC_OBJECTS.dynamics) }).strict(),
  z.object({ system: z.literal('hubspot'), object: z.enum(RESYNC_OBJECTS.hubspot) }).strict(),
]);

const tenantOf = (res: Response) => res.locals.tenant as Tenant;

function intParam(value: unknown, name: string, def: number, max: number): number {
  if (value === undefined) return def;
  const s = String(value);
  const n = Number(s);
  if (!/^\d+$/.test(s) || n > max) throw new HttpError(400, 'invalid_query', `${name} must be an integer from 0 to ${max}, got ${JSON.stringify(s.slice(0, 20))}.`);
  return n;
}

/** Settings as shown to the tenant: no cursors (internal), no sandbox CA material (noise). Secrets are never in settings. */
function publicSettings(settings: Record<string, unknown>): Record<string, unknown> {
  const { cursors: _cursors, ...rest } = settings;
  const dynamics = rest.dynamics as Record<string, unknown> | undefined;
  if (dynamics && 'sandbox' in dynamics) {
    const { sandbox: _sandbox, ...d } = dynamics;
    rest.dynamics = { ...d, sandboxTrust: true };
  }
  return rest;
}

function jobView(j: Job) {
  return {
    id: j.id, system: j.system, objectType: j.objectType, recordId: j.recordId, trigger: j.trigger, attempts: j.attempts,
    lastError: j.lastError, enqueuedAt: new Date(j.enqueuedAt).toISOString(), deadAt: j.deadAt === null ? null : new Date(j.deadAt).toISOString(),
  };
}

/** /api/tenants/:id/… — the tenant's own view and switches, sync errors, dead letters, poll now. */
export function adminRouter(deps: AdminDeps): express.Router {
  const { store } = deps;
  const r = express.Router({ mergeParams: true });
  r.use(requireTenantKey(store));
  r.use(express.json({ limit: '100kb' }));

  async function view(t: Tenant) {
    const [jobs, errors] = await Promise.all([store.jobs.counts(t.id), store.errors.list(t.id, 1000)]);
    const last = deps.scheduler.lastResult(t.id);
    return {
      id: t.id,
      mode: t.mode,
      mainSwitch: t.mainSwitch,
      hubspotPortalId: t.hubspotPortalId,
      dataverseOrgUrl: t.dataverseOrgUrl,
      settings: publicSettings(t.settings),
      counts: { pending: jobs.pending, due: jobs.due, active: jobs.active, deadLetters: jobs.dead, syncErrors: errors.length },
      lastPoll: last ? { startedAt: new Date(last.startedAt).toISOString(), finishedAt: new Date(last.finishedAt).toISOString(), errors: last.errors } : null,
      createdAt: new Date(t.createdAt).toISOString(),
      updatedAt: new Date(t.updatedAt).toISOString(),
    };
  }

  r.get('/', async (_req, res) => {
    res.json(await view(tenantOf(res)));
  });

  r.patch('/', async (req, res) => {
    if (req.body === undefined || typeof req.body !== 'object' || Array.isArray(req.body) || req.body === null) {
      throw new HttpError(400, 'invalid_input', 'Send a JSON object, e.g. {"mainSwitch": true}, with Content-Type: application/json.');
    }
    const parsed = patchSchema.safeParse(req.body);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) =>
        i.code === 'unrecognized_keys' ? `unknown field(s) ${i.keys.join(', ')} (allowed: ${Object.keys(patchSchema.shape).join(', ')})` : `${i.path.join('.')}: ${i.message}`);
      throw new HttpError(400, 'invalid_input', `Invalid tenant update: ${problems.join('; ')}.`);
    }
    const p = parsed.data;
    const t = tenantOf(res);
    // Fresh settings (the polls write their cursors into them meanwhile); only the named fields change.
    const current = (await store.tenants.get(t.id)) ?? t;
    const settings = { ...current.settings };
    for (const k of ['newContactPolicy', 'ownerSync', 'pollIntervalMinutes'] as const) if (p[k] !== undefined) settings[k] = p[k];
    const updated = await store.tenants.update(t.id, { mainSwitch: p.mainSwitch, mode: p.mode, settings });
    deps.contexts.invalidate(t.id);
    res.json(await view(updated ?? current));
  });

  r.get('/errors', async (req, res) => {
    const limit = intParam(req.query.limit, 'limit', 100, 1000);
    const offset = intParam(req.query.offset, 'offset', 0, 1_000_000);
    const errors = await store.errors.list(tenantOf(res).id, limit, offset);
    res.json({
      errors: errors.map((e) => ({
        id: e.id, record: { system: e.system, objectType: e.objectType, recordId: e.recordId }, code: e.code,
        what: e.what, why: e.why, howToFix: e.howToFix, occurrences: e.occurrences,
        firstSeenAt: new Date(e.firstSeenAt).toISOString(), lastSeenAt: new Date(e.lastSeenAt).toISOString(),
      })),
    });
  });

  r.get('/dead-letters', async (req, res) => {
    const limit = intParam(req.query.limit, 'limit', 100, 1000);
    res.json({ deadLetters: (await store.jobs.deadLetters(tenantOf(res).id, limit)).map(jobView) });
  });

  r.post('/dead-letters/replay', async (_req, res) => {
    res.json({ replayed: await deps.queue.replayAll(tenantOf(res).id) });
  });

  r.post('/dead-letters/:jobId/replay', async (req, res) => {
    const s = String(req.params.jobId);
    if (!/^\d{1,15}$/.test(s)) throw new HttpError(400, 'invalid_job_id', `Job id must be a number, got ${JSON.stringify(s.slice(0, 20))}.`);
    // Scoped by tenant: another tenant's job id is simply not found.
    if (!(await deps.queue.replay(tenantOf(res).id, Number(s)))) {
      throw new HttpError(404, 'not_found', `No dead-lettered job ${s} for this tenant (it may have been replayed already).`);
    }
    res.json({ replayed: 1 });
  });

  r.post('/resync', express.json({ limit: '4kb' }), async (req, res) => {
    const body = resyncSchema.safeParse(req.body ?? {});
    if (!body.success) {
      throw new HttpError(400, 'invalid_body', `Send {"system": "dynamics", "object": one of ${RESYNC_OBJECTS.dynamics.join(', ')}} or {"system": "hubspot", "object": one of ${RESYNC_OBJECTS.hubspot.join(', ')}}.`);
    }
    const tenantId = tenantOf(res).id;
    const result = await resync({ tenantId, ...body.data, queue: deps.queue, connectors: await deps.contexts.get(tenantId) });
    res.json(result);
  });

  // The HubSpot tab's credential; a new one replaces the old at once (rotation).
  r.post('/embed-credential', async (_req, res) => {
    res.setHeader('cache-control', 'no-store');
    res.status(201).json({ embedCredential: await issueEmbedCredential(store, tenantOf(res).id) });
  });

  r.post('/poll', async (_req, res) => {
    const result = await deps.scheduler.pollNow(tenantOf(res).id);
    res.json({ ...result, startedAt: new Date(result.startedAt).toISOString(), finishedAt: new Date(result.finishedAt).toISOString() });
  });

  return r;
}
