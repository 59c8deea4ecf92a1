import assert from 'node:assert/strict';
import { listen, type RunningServer } from '../../../sandbox/common/listen.ts';
import { createHttpApp } from '../../../server/src/http/app.ts';
import type { PollResult } from '../../../server/src/intake/scheduler.ts';
import { intakeFor, makeTenant, silent, sqliteStore, type TempStore, noConnectors } from './harness.ts';

describe('admin API /api/tenants/:id', () => {
  let t: TempStore;
  let server: RunningServer;
  const polled: string[] = [];
  const invalidated: string[] = [];
  let a: Awaited<ReturnType<typeof makeTenant>>;
  let b: Awaited<ReturnType<typeof makeTenant>>;

  before(async () => {
    t = await sqliteStore();
    const { intake, queue, metrics } = intakeFor(t.store);
    const scheduler = {
      pollNow: async (id: string): Promise<PollResult> => (polled.push(id), { tenantId: id, startedAt: 1, finishedAt: 2, errors: [], hubspot: { enqueued: 3, baselined: [] } }),
      lastResult: () => undefined,
    };
    server = await listen(createHttpApp({ store: t.store, metrics, logger: silent, intake, queue, scheduler, contexts: { invalidate: (id) => invalidated.push(id), get: noConnectors } }));
    a = await makeTenant(t.store);
    b = await makeTenant(t.store);
  });
  after(async () => {
    await server?.close();
    await t?.close();
  });

  const call = (method: string, path: string, key: string | undefined, body?: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, {
      method,
      headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      body,
    });
  const json = async (res: Response) => (await res.json()) as any;

  it('requires the tenant\'s bearer key: 401 without, 403 for a wrong key or another tenant\'s key', async () => {
    const none = await call('GET', `/api/tenants/${a.tenant.id}`, undefined);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /Bearer/);
    assert.equal((await json(none)).error.code, 'unauthorized');
    assert.equal((await call('GET', `/api/tenants/${a.tenant.id}`, 'hds_wrong')).status, 403);
    const cross = await call('GET', `/api/tenants/${a.tenant.id}`, b.apiKey);
    assert.equal(cross.status, 403);
    assert.equal((await json(cross)).error.code, 'forbidden');
    assert.equal((await call('GET', `/api/tenants/${a.tenant.id}/errors`, b.apiKey)).status, 403);
    assert.equal((await call('POST', `/api/tenants/${a.tenant.id}/dead-letters/replay`, b.apiKey)).status, 403);
    assert.equal((await call('GET', '/api/tenants/no-such-tenant', a.apiKey)).status, 403, 'unknown tenant looks like a wrong key');
  });

  it('GET shows settings without secrets or cursors, mode, switch and counts', async () => {
    await t.store.jobs.enqueue({ tenantId: a.tenant.id, system: 'hubspot', objectType: 'contacts', recordId: '1' });
    const res = await call('GET', `/api/tenants/${a.tenant.id}`, a.apiKey);
    assert.equal(res.status, 200);
    const v = await json(res);
    assert.equal(v.id, a.tenant.id);
    assert.equal(v.mode, 'uat');
    assert.equal(v.mainSwitch, false);
    assert.equal(v.settings.newContactPolicy, 'lead');
    assert.equal(v.settings.cursors, undefined);
    assert.equal(v.counts.pending, 1);
    const text = JSON.stringify(v);
    for (const secret of [a.apiKey, a.webhookKey, 'hs-secret', 'dv-secret', 'refresh']) assert.ok(!text.includes(secret), `no ${secret}`);
  });

  it('PATCH changes the switches and settings it allows, with clear 400s for the rest', async () => {
    const ok = await call('PATCH', `/api/tenants/${a.tenant.id}`, a.apiKey, JSON.stringify({ mainSwitch: true, mode: 'production', newContactPolicy: 'contact', ownerSync: false, pollIntervalMinutes: 15 }));
    assert.equal(ok.status, 200);
    const v = await json(ok);
    assert.deepEqual([v.mainSwitch, v.mode, v.settings.newContactPolicy, v.settings.ownerSync, v.settings.pollIntervalMinutes], [true, 'production', 'contact', false, 15]);
    assert.ok(invalidated.includes(a.tenant.id), 'cached tenant context dropped');
    const stored = await t.store.tenants.get(a.tenant.id);
    assert.equal((stored!.settings as { hubspot: { clientId: string } }).hubspot.clientId, 'client-id', 'other settings kept');

    const bad = await call('PATCH', `/api/tenants/${a.tenant.id}`, a.apiKey, JSON.stringify({ mode: 'live', pollIntervalMinutes: 0, prefix: 'x' }));
    assert.equal(bad.status, 400);
    const err = (await json(bad)).error;
    assert.equal(err.code, 'invalid_input');
    assert.match(err.message, /unknown field\(s\) prefix/);
    const typed = await json(await call('PATCH', `/api/tenants/${a.tenant.id}`, a.apiKey, JSON.stringify({ mainSwitch: 'yes' })));
    assert.match(typed.error.message, /mainSwitch/);
    const malformed = await call('PATCH', `/api/tenants/${a.tenant.id}`, a.apiKey, '{"mainSwitch": tru');
    assert.equal(malformed.status, 400);
    assert.equal((await json(malformed)).error.code, 'malformed_json');
    assert.equal((await call('PATCH', `/api/tenants/${a.tenant.id}`, a.apiKey, '[1]')).status, 400);
    assert.equal((await t.store.tenants.get(a.tenant.id))!.mode, 'production', 'failed PATCHes changed nothing');
  });

  it('GET /errors lists per-record sync errors with what, why and how to fix — of this tenant only', async () => {
    await t.store.errors.record(a.tenant.id, { system: 'hubspot', objectType: 'contacts', recordId: '7', code: 'dropdown_unmatched', what: 'Lead status not sent', why: 'No option "Hott"', howToFix: 'Add the option' });
    await t.store.errors.record(b.tenant.id, { system: 'hubspot', objectType: 'contacts', recordId: '8', code: 'x', what: 'B only', why: 'b', howToFix: 'b' });
    const v = await json(await call('GET', `/api/tenants/${a.tenant.id}/errors`, a.apiKey));
    assert.equal(v.errors.length, 1);
    assert.deepEqual([v.errors[0].record.recordId, v.errors[0].what, v.errors[0].why, v.errors[0].howToFix], ['7', 'Lead status not sent', 'No option "Hott"', 'Add the option']);
    assert.equal((await call('GET', `/api/tenants/${a.tenant.id}/errors?limit=abc`, a.apiKey)).status, 400);
  });

  it('dead letters: list, replay one, replay all; another tenant\'s job id is not found', async () => {
    const dead = async (tenantId: string, recordId: string) => {
      await t.store.jobs.enqueue({ tenantId, system: 'dynamics', objectType: 'contact', recordId });
      const [job] = await t.store.jobs.claim({ workerId: 'w', tenantId });
      await t.store.jobs.fail(job.id, 'w', 'HTTP 400: bad data', { terminal: true });
      return job.id;
    };
    await t.store.db.kysely.deleteFrom('jobs').execute();
    const a1 = await dead(a.tenant.id, 'a1');
    await dead(a.tenant.id, 'a2');
    const b1 = await dead(b.tenant.id, 'b1');
    const list = await json(await call('GET', `/api/tenants/${a.tenant.id}/dead-letters`, a.apiKey));
    assert.deepEqual(list.deadLetters.map((j: { recordId: string }) => j.recordId).sort(), ['a1', 'a2']);
    assert.match(list.deadLetters[0].lastError, /HTTP 400/);

    const cross = await call('POST', `/api/tenants/${a.tenant.id}/dead-letters/${b1}/replay`, a.apiKey);
    assert.equal(cross.status, 404);
    assert.equal((await t.store.jobs.deadLetters(b.tenant.id)).length, 1, 'B\'s job untouched');
    assert.equal((await call('POST', `/api/tenants/${a.tenant.id}/dead-letters/abc/replay`, a.apiKey)).status, 400);

    const one = await call('POST', `/api/tenants/${a.tenant.id}/dead-letters/${a1}/replay`, a.apiKey);
    assert.deepEqual([one.status, await one.json()], [200, { replayed: 1 }]);
    assert.equal((await call('POST', `/api/tenants/${a.tenant.id}/dead-letters/${a1}/replay`, a.apiKey)).status, 404, 'already replayed');
    const all = await json(await call('POST', `/api/tenants/${a.tenant.id}/dead-letters/replay`, a.apiKey));
    assert.equal(all.replayed, 1);
    assert.equal((await t.store.jobs.deadLetters(a.tenant.id)).length, 0);
    assert.equal((await t.store.jobs.counts(a.tenant.id)).pending, 2);
  });

  it('POST /poll polls this tenant now', async () => {
    const res = await call('POST', `/api/tenants/${b.tenant.id}/poll`, b.apiKey);
    assert.equal(res.status, 200);
    const v = await json(res);
    assert.equal(v.hubspot.enqueued, 3);
    assert.deepEqual(polled, [b.tenant.id]);
  });

  it('unknown admin paths are JSON 404s (after authentication)', async () => {
    const res = await call('GET', `/api/tenants/${a.tenant.id}/nothing`, a.apiKey);
    assert.equal(res.status, 404);
    assert.equal((await json(res)).error.code, 'not_found');
  });
});
