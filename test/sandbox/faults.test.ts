import assert from 'node:assert/strict';
import { FaultInjector } from '../../sandbox/common/faults.ts';
import { startHubSpotSandbox, type HubSpotSandbox } from '../../sandbox/hubspot/index.ts';
import { startDataverseSandbox, type DataverseSandbox } from '../../sandbox/dataverse/index.ts';

/** A deterministic random source: returns the given values in turn. */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length];
}

describe('fault injection', () => {
  describe('FaultInjector', () => {
    it('rolls each configured fault at its rate, in a fixed order', () => {
      const f = new FaultInjector({ rateDrop: 0.1, rate429: 0.5 }, sequence(0.05, 0.9, 0.3, 0.9, 0.9));
      assert.equal(f.roll(), 'drop');
      assert.equal(f.roll(), '429');
      assert.equal(f.roll(), null);
    });

    it('refuses settings that make no sense, naming the setting', () => {
      const f = new FaultInjector();
      assert.throws(() => f.set({ rate429: 2 }), /rate429.*between 0 and 1/);
      assert.throws(() => f.set({ latencyMs: -1 }), /latencyMs.*non-negative/);
      assert.throws(() => f.set({ rate42: 0.1 } as never), /Unknown fault setting "rate42"/);
      assert.deepEqual(f.current.rate429, 0, 'a refused change leaves the config as it was');
    });
  });

  describe('on the HubSpot sandbox', () => {
    let sb: HubSpotSandbox;
    beforeEach(async () => {
      sb = await startHubSpotSandbox({ port: 0, faults: { latencyMs: 300 } });
    });
    afterEach(async () => sb.close());
    const get = (token = sb.portal.accessToken, signal?: AbortSignal) =>
      fetch(`${sb.baseUrl}/crm/v3/objects/contacts`, { headers: { authorization: `Bearer ${token}` }, signal });

    it('adds the latency given at start, and drops it when switched off at run time', async () => {
      let t0 = performance.now();
      assert.equal((await get()).status, 200);
      assert.ok(performance.now() - t0 >= 295, 'latency from the start options');

      const put = await fetch(`${sb.baseUrl}/__sandbox/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"latencyMs":0}' });
      assert.equal(put.status, 200);
      t0 = performance.now();
      assert.equal((await get()).status, 200);
      assert.ok(performance.now() - t0 < 250, 'no added latency any more');
    });

    it('answers injected 429s and 502s with HubSpot bodies', async () => {
      sb.faults.set({ latencyMs: 0, rate429: 1 });
      const limited = await get();
      assert.equal(limited.status, 429);
      assert.equal(((await limited.json()) as { policyName: string }).policyName, 'TEN_SECONDLY_ROLLING');
      sb.faults.set({ rate429: 0, rate502: 1 });
      const bad = await get();
      assert.equal(bad.status, 502);
      assert.equal(((await bad.json()) as { status: string }).status, 'error');
      assert.deepEqual({ ...sb.faults.injected }, { '429': 1, '500': 0, '502': 1, timeout: 0, drop: 0 });
    });

    it('drops connections and leaves requests unanswered', async () => {
      sb.faults.set({ latencyMs: 0, rateDrop: 1 });
      await assert.rejects(get(), /fetch failed/);
      sb.faults.set({ rateDrop: 0, rateTimeout: 1 });
      await assert.rejects(get(undefined, AbortSignal.timeout(300)), { name: 'TimeoutError' });
    });

    it('rejects a bad run-time setting with a 400 that says what is wrong', async () => {
      const res = await fetch(`${sb.baseUrl}/__sandbox/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"rate500":"lots"}' });
      assert.equal(res.status, 400);
      assert.match(((await res.json()) as { message: string }).message, /rate500/);
    });
  });

  describe('on the Dataverse sandbox', () => {
    let dv: DataverseSandbox;
    before(async () => {
      dv = await startDataverseSandbox({ port: 0, identityPort: 0 });
    });
    after(async () => dv.close());

    it('answers injected 429s with Retry-After and Dataverse error bodies, and can be reset', async () => {
      dv.faults.set({ rate429: 1 });
      const url = `${dv.orgUrl}/api/data/v9.2/contacts?$top=1`;
      const headers = { authorization: `Bearer ${dv.userToken}` };
      const limited = await fetch(url, { headers });
      assert.equal(limited.status, 429);
      assert.ok(Number(limited.headers.get('retry-after')) > 0);
      const body = (await limited.json()) as { error: { code: string; message: string } };
      assert.match(body.error.code, /^0x8/);
      const reset = await fetch(`${dv.orgUrl}/__sandbox/faults`, { method: 'DELETE' });
      assert.equal(reset.status, 200);
      assert.equal((await fetch(url, { headers })).status, 200);
    });
  });
});
