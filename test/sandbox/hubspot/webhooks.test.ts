import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, Signature } from '@hubspot/api-client';
import { client, raw, useSandbox } from './helpers.ts';

interface Delivery {
  headers: http.IncomingHttpHeaders;
  body: string;
  events: any[];
}

/** A local receiver that records deliveries and answers with the statuses queued in `replies` (then 204). */
async function receiver(replies: number[] = []) {
  const deliveries: Delivery[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      deliveries.push({ headers: req.headers, body, events: JSON.parse(body) });
      res.statusCode = replies.shift() ?? 204;
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/hubspot`;
  return { url, deliveries, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('hubspot sandbox: app webhooks', () => {
  const ctx = useSandbox({ rateLimits: { enabled: false }, webhookRetry: { maxAttempts: 3, baseDelayMs: 20 } });

  async function configure(url: string, subs: Array<{ eventType: string; propertyName?: string }>) {
    const dev = new Client({ developerApiKey: ctx.sb.app.developerApiKey, basePath: ctx.sb.baseUrl });
    await dev.webhooks.settingsApi.configure(ctx.sb.app.appId, { targetUrl: url, throttling: { maxConcurrentRequests: 10 } });
    for (const s of subs) await dev.webhooks.subscriptionsApi.create(ctx.sb.app.appId, { ...s, active: true } as never);
    return dev;
  }

  it('manages settings and subscriptions through the developer API (hapikey)', async () => {
    const dev = await configure('http://127.0.0.1:1/x', [{ eventType: 'contact.creation' }, { eventType: 'contact.propertyChange', propertyName: 'email' }]);
    const settings = await dev.webhooks.settingsApi.getAll(ctx.sb.app.appId);
    assert.equal(settings.targetUrl, 'http://127.0.0.1:1/x');
    assert.equal(settings.throttling.maxConcurrentRequests, 10);
    const subs = await dev.webhooks.subscriptionsApi.getAll(ctx.sb.app.appId);
    assert.equal(subs.results.length, 2);
    const id = Number(subs.results[0].id);
    const patched = await dev.webhooks.subscriptionsApi.update(id, ctx.sb.app.appId, { active: false });
    assert.equal(patched.active, false);
    await dev.webhooks.subscriptionsApi.archive(id, ctx.sb.app.appId);
    assert.equal((await dev.webhooks.subscriptionsApi.getAll(ctx.sb.app.appId)).results.length, 1);
    const noKey = await raw(ctx.sb, 'GET', `/webhooks/v3/${ctx.sb.app.appId}/settings?hapikey=wrong`, undefined, null);
    assert.equal(noKey.status, 401);
    const missingProp = await raw(ctx.sb, 'POST', `/webhooks/v3/${ctx.sb.app.appId}/subscriptions?hapikey=${ctx.sb.app.developerApiKey}`, { eventType: 'deal.propertyChange' }, null);
    assert.equal(missingProp.status, 400);
  });

  it('delivers batched, signed event arrays with the reference fields and INTEGRATION vs CRM_UI sources', async () => {
    const rx = await receiver();
    try {
      await configure(rx.url, [
        { eventType: 'contact.creation' }, { eventType: 'contact.propertyChange', propertyName: 'firstname' },
        { eventType: 'contact.deletion' }, { eventType: 'contact.associationChange' }, { eventType: 'company.creation' },
      ]);
      const app = client(ctx.sb);
      const user = client(ctx.sb, ctx.sb.portal.userToken);
      const c = await app.crm.contacts.basicApi.create({ properties: { email: 'w@example.com', firstname: 'W' }, associations: [] });
      await user.crm.contacts.basicApi.update(c.id, { properties: { firstname: 'Human' } });
      await user.crm.contacts.basicApi.update(c.id, { properties: { firstname: 'Human' } }); // no change: no event
      const co = await app.crm.companies.basicApi.create({ properties: { name: 'Acme' }, associations: [] });
      await app.crm.associations.v4.basicApi.createDefault('contacts', c.id, 'companies', co.id);
      await app.crm.contacts.basicApi.archive(c.id);
      await ctx.sb.webhooks.idle();

      const events = rx.deliveries.flatMap((d) => d.events);
      assert.ok(rx.deliveries.length < events.length, 'events are batched');
      const byType = (t: string) => events.filter((e) => e.subscriptionType === t);
      const created = byType('contact.creation')[0];
      assert.deepEqual(Object.keys(created).sort(), ['appId', 'attemptNumber', 'changeFlag', 'changeSource', 'eventId', 'objectId', 'occurredAt', 'portalId', 'sourceId', 'subscriptionId', 'subscriptionType'].sort());
      assert.equal(created.objectId, Number(c.id));
      assert.equal(created.portalId, ctx.sb.portal.portalId);
      assert.equal(created.appId, ctx.sb.app.appId);
      assert.equal(created.attemptNumber, 0);
      assert.equal(created.changeFlag, 'NEW');
      assert.equal(created.changeSource, 'INTEGRATION');
      assert.equal(created.sourceId, String(ctx.sb.app.appId));
      assert.equal(typeof created.occurredAt, 'number');

      const changes = byType('contact.propertyChange');
      assert.deepEqual(changes.map((e) => [e.propertyName, e.propertyValue, e.changeSource, e.sourceId]), [
        ['firstname', 'W', 'INTEGRATION', String(ctx.sb.app.appId)],
        ['firstname', 'Human', 'CRM_UI', `userId:${ctx.sb.portal.userId}`],
      ]);
      assert.equal(byType('company.creation').length, 1);
      const assoc = byType('contact.associationChange');
      assert.ok(assoc.some((e) => e.associationType === 'CONTACT_TO_COMPANY' && e.fromObjectId === Number(c.id) && e.toObjectId === Number(co.id) && e.isPrimaryAssociation === true && e.associationRemoved === false));
      assert.equal(byType('contact.deletion')[0].changeFlag, 'DELETED');

      for (const d of rx.deliveries) {
        const timestamp = Number(d.headers['x-hubspot-request-timestamp']);
        assert.ok(Signature.isValid({
          signatureVersion: 'v3', signature: String(d.headers['x-hubspot-signature-v3']), clientSecret: ctx.sb.app.clientSecret,
          requestBody: d.body, url: rx.url, method: 'POST', timestamp,
        }));
        assert.ok(Signature.isValid({ signatureVersion: 'v1', signature: String(d.headers['x-hubspot-signature']), clientSecret: ctx.sb.app.clientSecret, requestBody: d.body }));
        assert.equal(d.headers['content-type'], 'application/json');
      }
    } finally {
      await rx.close();
    }
  });

  it('retries on 500 with an incremented attemptNumber, bounded by maxAttempts', async () => {
    const rx = await receiver([500, 503]);
    try {
      await configure(rx.url, [{ eventType: 'deal.creation' }]);
      const deal = await client(ctx.sb).crm.deals.basicApi.create({ properties: { dealname: 'R' }, associations: [] });
      await ctx.sb.webhooks.idle();
      assert.deepEqual(rx.deliveries.map((d) => d.events[0].attemptNumber), [0, 1, 2]);
      assert.ok(rx.deliveries.every((d) => d.events[0].objectId === Number(deal.id) && d.events[0].eventId === rx.deliveries[0].events[0].eventId));
    } finally {
      await rx.close();
    }
    const rx2 = await receiver([500, 500, 500, 500]);
    try {
      await configure(rx2.url, []);
      await client(ctx.sb).crm.deals.basicApi.create({ properties: { dealname: 'Gives up' }, associations: [] });
      await ctx.sb.webhooks.idle();
      assert.equal(rx2.deliveries.length, 3, 'maxAttempts = 3');
    } finally {
      await rx2.close();
    }
  });

  it('retries when the receiver is unreachable, and caps a POST at 100 events', async () => {
    await configure('http://127.0.0.1:1/unreachable', [{ eventType: 'contact.creation' }]);
    await client(ctx.sb).crm.contacts.basicApi.create({ properties: { email: 'u@example.com' }, associations: [] });
    await ctx.sb.webhooks.idle(); // resolves after the bounded retries give up
    const stats = (await raw(ctx.sb, 'GET', '/__sandbox/webhooks', undefined, null)).body.stats;
    assert.equal(stats.failedAttempts, 3);

    const rx = await receiver();
    try {
      await configure(rx.url, []);
      const inputs = Array.from({ length: 100 }, (_, i) => ({ properties: { email: `m${i}@example.com` }, associations: [] }));
      await client(ctx.sb).crm.contacts.batchApi.create({ inputs });
      await client(ctx.sb).crm.contacts.batchApi.create({ inputs: inputs.slice(0, 50).map((x, i) => ({ ...x, properties: { email: `n${i}@example.com` } })) });
      await ctx.sb.webhooks.idle();
      assert.equal(rx.deliveries.flatMap((d) => d.events).length, 150);
      assert.ok(rx.deliveries.every((d) => d.events.length <= 100));
    } finally {
      await rx.close();
    }
  });
});
