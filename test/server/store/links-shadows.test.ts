import assert from 'node:assert/strict';
import { LinkConflictError } from '../../../server/src/store/repositories/links.ts';
import { fieldHash } from '../../../server/src/sync/rules/echo.ts';
import { forEachDialect } from './harness.ts';

forEachDialect('store: links', (h) => {
  it('finds a link from either side; Dataverse GUIDs match case-insensitively', async () => {
    const { store } = h();
    const t = await store.tenants.create();
    const l = await store.links.create(t.id, { entity: 'contact', id: 'AB12-CD' }, { object: 'contacts', id: '901' });
    assert.equal((await store.links.findByDynamics(t.id, { entity: 'contact', id: 'ab12-cd' }))?.id, l.id);
    assert.deepEqual((await store.links.findByHubSpot(t.id, { object: 'contacts', id: '901' }))?.dynamics, { entity: 'contact', id: 'ab12-cd' });
  });

  it('is unique both ways per tenant, but the same ids may link in another tenant', async () => {
    const { store } = h();
    const t = await store.tenants.create();
    const other = await store.tenants.create();
    await store.links.create(t.id, { entity: 'lead', id: 'L1' }, { object: 'contacts', id: '1' });
    await assert.rejects(store.links.create(t.id, { entity: 'lead', id: 'L1' }, { object: 'contacts', id: '2' }), LinkConflictError);
    await assert.rejects(store.links.create(t.id, { entity: 'contact', id: 'C9' }, { object: 'contacts', id: '1' }), LinkConflictError);
    await store.links.create(other.id, { entity: 'lead', id: 'L1' }, { object: 'contacts', id: '1' });
    assert.equal(await store.links.count(t.id), 1);
    assert.equal(await store.links.findByHubSpot(other.id, { object: 'contacts', id: '2' }), undefined);
  });

  it('createMany links a group in one statement and leaves out pairs whose either side is taken', async () => {
    const { store } = h();
    const t = await store.tenants.create();
    await store.links.create(t.id, { entity: 'contact', id: 'C1' }, { object: 'contacts', id: '1' });
    const made = await store.links.createMany(t.id, [
      { dynamics: { entity: 'contact', id: 'C2' }, hubspot: { object: 'contacts', id: '2' } },
      { dynamics: { entity: 'contact', id: 'C1' }, hubspot: { object: 'contacts', id: '9' } },
      { dynamics: { entity: 'lead', id: 'L3' }, hubspot: { object: 'contacts', id: '1' } },
      { dynamics: { entity: 'lead', id: 'L4' }, hubspot: { object: 'contacts', id: '4' } },
    ]);
    assert.deepEqual(made.map((l) => `${l.dynamics.id}>${l.hubspot.id}`).sort(), ['c2>2', 'l4>4']);
    assert.equal(await store.links.count(t.id), 3);
    assert.deepEqual([...(await store.links.linkedHubSpotIds(t.id, 'contacts', ['1', '3', '4']))].sort(), ['1', '4']);
  });

  it('lead qualification moves the Dynamics side and keeps the link and its shadows', async () => {
    const { store } = h();
    const t = await store.tenants.create();
    const l = await store.links.create(t.id, { entity: 'lead', id: 'L1' }, { object: 'contacts', id: '1' });
    await store.shadows.record(t.id, l.id, 'to_dynamics', { email: fieldHash('a@ss.test') });
    const moved = await store.links.moveDynamicsSide(t.id, l.id, { entity: 'contact', id: 'C1' });
    assert.equal(moved?.id, l.id);
    assert.equal(await store.links.findByDynamics(t.id, { entity: 'lead', id: 'L1' }), undefined);
    assert.equal((await store.shadows.forLink(t.id, l.id)).size, 1);
    await store.links.create(t.id, { entity: 'contact', id: 'C2' }, { object: 'contacts', id: '2' });
    await assert.rejects(store.links.moveDynamicsSide(t.id, l.id, { entity: 'contact', id: 'C2' }), LinkConflictError);
    assert.equal(await store.links.moveDynamicsSide('other-tenant', l.id, { entity: 'contact', id: 'C3' }), undefined);
  });
});

forEachDialect('store: shadows', (h) => {
  it('recordMany saves the shadows of a group, skipping links of another tenant', async () => {
    const { store } = h();
    const t = await store.tenants.create();
    const other = await store.tenants.create();
    const a = await store.links.create(t.id, { entity: 'contact', id: 'A' }, { object: 'contacts', id: '1' });
    const b = await store.links.create(t.id, { entity: 'contact', id: 'B' }, { object: 'contacts', id: '2' });
    const foreign = await store.links.create(other.id, { entity: 'contact', id: 'X' }, { object: 'contacts', id: '3' });
    await store.shadows.recordMany(t.id, 'to_hubspot', new Map<number, Record<string, string>>([[a.id, { 'hs:email': 'h1', 'hs:firstname': 'h2' }], [b.id, { 'hs:email': 'h3' }], [foreign.id, { 'hs:email': 'h4' }]]));
    assert.equal((await store.shadows.forLink(t.id, a.id)).size, 2);
    assert.equal((await store.shadows.forLink(t.id, b.id)).get('hs:email')?.valueHash, 'h3');
    assert.equal((await store.shadows.forLink(other.id, foreign.id)).size, 0);
    assert.deepEqual([...(await store.shadows.linksHolding(t.id, 'contacts', 'hs:email', ['h3', 'h4']))], [['h3', b.id]]);
  });

  it('keeps one hash per link and field (last write wins), scoped by tenant', async () => {
    const { store, now } = h();
    const t = await store.tenants.create();
    const intruder = await store.tenants.create();
    const l = await store.links.create(t.id, { entity: 'account', id: 'A' }, { object: 'companies', id: '5' });
    await store.shadows.record(t.id, l.id, 'to_hubspot', { name: fieldHash('Acme'), domain: fieldHash('acme.com') });
    now.value += 5;
    await store.shadows.record(t.id, l.id, 'to_dynamics', { name: fieldHash('Acme Ltd') });
    const s = await store.shadows.forLink(t.id, l.id);
    assert.equal(s.get('name')?.valueHash, fieldHash(' Acme Ltd '));
    assert.equal(s.get('name')?.direction, 'to_dynamics');
    assert.equal(s.get('name')?.writtenAt, now.value);
    assert.equal(s.get('domain')?.direction, 'to_hubspot');
    // Another tenant can neither read nor write this link's shadows.
    assert.equal((await store.shadows.forLink(intruder.id, l.id)).size, 0);
    await store.shadows.record(intruder.id, l.id, 'to_hubspot', { name: 'x' });
    assert.equal((await store.shadows.forLink(t.id, l.id)).get('name')?.valueHash, fieldHash('Acme Ltd'));
    await store.shadows.clear(intruder.id, l.id);
    assert.equal((await store.shadows.forLink(t.id, l.id)).size, 2);
    await store.shadows.clear(t.id, l.id);
    assert.equal((await store.shadows.forLink(t.id, l.id)).size, 0);
  });

});
