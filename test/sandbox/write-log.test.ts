import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { WriteLog } from '../../sandbox/common/write-log.ts';
import { startHubSpotSandbox, type HubSpotSandbox } from '../../sandbox/hubspot/index.ts';
import { start, type Ctx } from './dataverse/helpers.ts';

/** `/__sandbox/writes`: who wrote which record when, as the sync benchmarks read it. */

type Entry = { at: number; by: string; kind: string };

async function history(baseUrl: string, keys: string[]): Promise<Record<string, Entry[]>> {
  const res = await fetch(`${baseUrl}/__sandbox/writes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ records: keys }) });
  assert.equal(res.status, 200);
  return ((await res.json()) as { records: Record<string, Entry[]> }).records;
}

async function totals(baseUrl: string): Promise<Record<string, Record<'app' | 'user', { creates: number; updates: number; lastCreateAt: number | null; lastUpdateAt: number | null }>>> {
  return ((await (await fetch(`${baseUrl}/__sandbox/writes`)).json()) as { totals: never }).totals;
}

describe('sandbox write log', () => {
  it('counts a write once however many change events report it, and keeps the last 8 per record', async () => {
    const log = new WriteLog();
    for (let i = 0; i < 3; i++) log.note('contacts', '1', 'app', 'create', 1000); // a creation and each of its properties
    for (let i = 0; i < 10; i++) log.note('contacts', '1', 'user', 'update', 2000 + i);
    const server = express().use(log.router()).listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const h = (await history(base, ['contacts/1']))['contacts/1'];
      assert.equal(h.length, 8);
      assert.deepEqual(h.at(-1), { at: 2009, by: 'user', kind: 'update' });
      assert.deepEqual((await totals(base)).contacts, {
        app: { creates: 1, updates: 0, lastCreateAt: 1000, lastUpdateAt: null }, user: { creates: 0, updates: 10, lastCreateAt: null, lastUpdateAt: 2009 },
      });
    } finally {
      server.close();
    }
  });

  describe('on the HubSpot sandbox', () => {
    let sb: HubSpotSandbox;
    before(async () => {
      sb = await startHubSpotSandbox({ port: 0 });
    });
    after(async () => sb.close());

    it('tells a person\'s writes from the app\'s', async () => {
      const post = (token: string, path: string, body: unknown, method = 'POST') =>
        fetch(`${sb.baseUrl}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const created = (await (await post(sb.portal.userToken, '/crm/v3/objects/contacts', { properties: { email: 'w@example.com', firstname: 'W', lastname: 'L' } })).json()) as { id: string };
      assert.equal((await post(sb.portal.accessToken, `/crm/v3/objects/contacts/${created.id}`, { properties: { jobtitle: 'CTO', city: 'Leeds' } }, 'PATCH')).status, 200);

      const h = (await history(sb.baseUrl, [`contacts/${created.id}`, 'contacts/0']))[`contacts/${created.id}`];
      assert.deepEqual(h.map((e) => [e.by, e.kind]), [['user', 'create'], ['app', 'update']]);
      assert.ok(h[1].at >= h[0].at);
      assert.deepEqual((await history(sb.baseUrl, ['contacts/0']))['contacts/0'], []);
      const t = (await totals(sb.baseUrl)).contacts;
      assert.equal(t.user.creates, 1);
      assert.equal(t.app.updates, 1);
    });

    it('refuses a body without a list of records', async () => {
      const res = await fetch(`${sb.baseUrl}/__sandbox/writes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"records":"contacts/1"}' });
      assert.equal(res.status, 400);
    });
  });

  describe('on the Dataverse sandbox', () => {
    let c: Ctx;
    before(async () => {
      c = await start();
    });
    after(async () => c.sb.close());

    it('logs committed creates and updates with the caller\'s kind', async () => {
      const res = await fetch(`${c.sb.orgUrl}/api/data/v9.2/contacts`, {
        method: 'POST', headers: { authorization: `Bearer ${c.sb.userToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ lastname: 'Person' }),
      });
      const id = /\(([0-9a-f-]{36})\)/.exec(res.headers.get('odata-entityid') ?? '')![1];
      assert.equal((await c.raw(`contacts(${id})`, { method: 'PATCH', body: JSON.stringify({ jobtitle: 'Analyst' }) })).status, 204);

      const h = (await history(c.sb.orgUrl, [`contact/${id.toUpperCase()}`]))[`contact/${id.toUpperCase()}`];
      assert.deepEqual(h.map((e) => [e.by, e.kind]), [['user', 'create'], ['app', 'update']]);
      assert.equal((await totals(c.sb.orgUrl)).contact.app.updates, 1);
    });
  });
});
