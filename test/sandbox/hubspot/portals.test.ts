import assert from 'node:assert/strict';
import { client, failure, raw, useSandbox } from './helpers.ts';

describe('hubspot sandbox: portals, control routes and faults', () => {
  const ctx = useSandbox({ rateLimits: { enabled: false } });

  it('keeps several portals isolated', async () => {
    const other = ctx.sb.createPortal();
    assert.notEqual(other.portalId, ctx.sb.portal.portalId);
    const a = client(ctx.sb);
    const b = client(ctx.sb, other.accessToken);
    const inA = await a.crm.contacts.basicApi.create({ properties: { email: 'same@example.com' }, associations: [] });
    const inB = await b.crm.contacts.basicApi.create({ properties: { email: 'same@example.com' }, associations: [] }); // no 409 across portals
    assert.notEqual(inA.id, inB.id);
    assert.equal((await failure(b.crm.contacts.basicApi.getById(inA.id))).code, 404);
    assert.equal((await b.crm.contacts.basicApi.getPage()).results.length, 1);
    await b.crm.properties.coreApi.create('contacts', { name: 'only_b', label: 'B', type: 'string' as any, fieldType: 'text' as any, groupName: 'contactinformation' });
    assert.equal((await failure(a.crm.properties.coreApi.getByName('contacts', 'only_b'))).code, 404);
    const ownersA = (await a.crm.owners.ownersApi.getPage()).results.map((o) => o.id);
    const ownersB = (await b.crm.owners.ownersApi.getPage()).results.map((o) => o.id);
    assert.ok(ownersA.every((id) => !ownersB.includes(id)));
    // An owner id of portal A is not valid in portal B.
    assert.equal((await failure(b.crm.contacts.basicApi.update(inB.id, { properties: { hubspot_owner_id: ctx.sb.portal.ownerId } }))).code, 400);
  });

  it('exposes control over HTTP: describe, create portals, add owners', async () => {
    const info = await raw(ctx.sb, 'GET', '/__sandbox', undefined, null);
    assert.equal(info.body.app.appId, ctx.sb.app.appId);
    const created = await raw(ctx.sb, 'POST', '/__sandbox/portals', undefined, null);
    assert.equal(created.status, 201);
    assert.ok(created.body.accessToken && created.body.userToken && created.body.portalId);
    const list = await raw(ctx.sb, 'GET', '/__sandbox/portals', undefined, null);
    assert.equal(list.body.results.length, 2);
    const owner = await raw(ctx.sb, 'POST', `/__sandbox/portals/${created.body.portalId}/owners`, { firstName: 'New', lastName: 'Person', email: 'new.person@example.com' }, null);
    assert.equal(owner.status, 201);
    const found = await client(ctx.sb, created.body.accessToken).crm.owners.ownersApi.getPage('new.person@example.com');
    assert.equal(found.results[0].id, owner.body.id);
    const tokens = await raw(ctx.sb, 'POST', `/__sandbox/portals/${created.body.portalId}/tokens`, undefined, null);
    assert.equal(tokens.body.portalId, created.body.portalId);
  });

  it('injects faults with HubSpot bodies, switchable over HTTP, never on control routes', async () => {
    const set = await raw(ctx.sb, 'PUT', '/__sandbox/faults', { rate500: 1 }, null);
    assert.equal(set.status, 200);
    const res = await raw(ctx.sb, 'GET', '/crm/v3/objects/contacts');
    assert.equal(res.status, 500);
    assert.equal(res.body.status, 'error');
    assert.ok(res.body.correlationId);
    assert.equal((await raw(ctx.sb, 'GET', '/__sandbox', undefined, null)).status, 200);
    ctx.sb.faults.set({ rate500: 0, rate429: 1 });
    const limited = await raw(ctx.sb, 'GET', '/crm/v3/objects/contacts');
    assert.equal(limited.status, 429);
    assert.equal(limited.body.policyName, 'TEN_SECONDLY_ROLLING');
    await raw(ctx.sb, 'DELETE', '/__sandbox/faults', undefined, null);
    assert.equal((await raw(ctx.sb, 'GET', '/crm/v3/objects/contacts')).status, 200);
    assert.equal(ctx.sb.faults.injected['500'], 1);
  });
});
