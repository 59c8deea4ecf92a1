import assert from 'node:assert/strict';
import { Keyring, DecryptionError } from '../../../server/src/security/encryption.ts';
import { SecretsRepository } from '../../../server/src/store/repositories/secrets.ts';
import { forEachDialect } from './harness.ts';

forEachDialect('store: tenants', (h) => {
  it('creates in UAT with the main switch off, finds by portal, updates and round-trips settings JSON', async () => {
    const { store, now } = h();
    const t = await store.tenants.create({ hubspotPortalId: '4711', settings: { newContactPolicy: 'lead', markers: ['ss.test'] } });
    assert.equal(t.mode, 'uat');
    assert.equal(t.mainSwitch, false);
    assert.equal((await store.tenants.findByPortalId('4711'))?.id, t.id);
    now.value += 1000;
    const u = await store.tenants.update(t.id, { mode: 'production', mainSwitch: true, dataverseOrgUrl: 'https://org.crm.dynamics.com' });
    assert.equal(u?.mode, 'production');
    assert.equal(u?.mainSwitch, true);
    assert.equal(u?.updatedAt, t.createdAt + 1000);
    assert.deepEqual((await store.tenants.get(t.id))?.settings, { newContactPolicy: 'lead', markers: ['ss.test'] });
    assert.equal(await store.tenants.update('missing', { mode: 'uat' }), undefined);
  });

  it('refuses a second tenant for the same HubSpot portal and an unknown mode', async () => {
    const { store } = h();
    await store.tenants.create({ hubspotPortalId: '1' });
    await assert.rejects(store.tenants.create({ hubspotPortalId: '1' }));
    await assert.rejects(store.tenants.create({ mode: 'staging' as 'uat' }));
  });
});

forEachDialect('store: secrets', (h) => {
  it('stores only ciphertext (raw row has no plaintext) and reads it back', async () => {
    const { store } = h();
    const t = await store.tenants.create();
    const secret = 'pat-na1-11111111-2222-3333-4444-555555555555';
    await store.secrets.put(t.id, 'hubspot.access_token', secret);
    const raw = await store.db.kysely.selectFrom('secrets').selectAll().executeTakeFirstOrThrow();
    assert.ok(!raw.ciphertext.includes(secret) && !raw.ciphertext.includes('pat-na1'));
    assert.ok(!raw.ciphertext.includes(Buffer.from(secret).toString('base64').slice(0, 12)));
    assert.match(raw.ciphertext, /^v1:test1:/);
    assert.equal(raw.key_id, 'test1');
    assert.equal(await store.secrets.get(t.id, 'hubspot.access_token'), secret);
    assert.equal(await store.secrets.get(t.id, 'absent'), undefined);
    await store.secrets.put(t.id, 'hubspot.access_token', 'second');
    assert.equal(await store.secrets.get(t.id, 'hubspot.access_token'), 'second');
    assert.deepEqual(await store.secrets.names(t.id), ['hubspot.access_token']);
  });

  it('a ciphertext copied to another tenant does not decrypt (tenant isolation)', async () => {
    const { store } = h();
    const a = await store.tenants.create();
    const b = await store.tenants.create();
    await store.secrets.put(a.id, 'dynamics.client_secret', 'A-secret');
    await store.secrets.put(b.id, 'dynamics.client_secret', 'B-secret');
    const rowA = await store.db.kysely.selectFrom('secrets').select('ciphertext').where('tenant_id', '=', a.id).executeTakeFirstOrThrow();
    await store.db.kysely.updateTable('secrets').set({ ciphertext: rowA.ciphertext }).where('tenant_id', '=', b.id).execute();
    await assert.rejects(store.secrets.get(b.id, 'dynamics.client_secret'), (e: unknown) => e instanceof DecryptionError && e.code === 'tampered');
  });

  it('rotation: old key still reads, reencryptAll moves every row to the new key', async () => {
    const { store, now } = h();
    const t = await store.tenants.create();
    await store.secrets.put(t.id, 'one', '1');
    await store.secrets.put(t.id, 'two', '2');
    const rotated = new Keyring({ id: 'test2', key: Buffer.alloc(32, 9) }, [{ id: 'test1', key: Buffer.alloc(32, 7) }]);
    const repo = new SecretsRepository(store.db.kysely, rotated, () => now.value);
    assert.equal(await repo.get(t.id, 'one'), '1');
    assert.equal(await repo.reencryptAll(1), 2);
    const ids = await store.db.kysely.selectFrom('secrets').select('key_id').execute();
    assert.deepEqual(ids.map((r) => r.key_id), ['test2', 'test2']);
    const newOnly = new SecretsRepository(store.db.kysely, new Keyring({ id: 'test2', key: Buffer.alloc(32, 9) }), () => now.value);
    assert.equal(await newOnly.get(t.id, 'two'), '2');
    // The original keyring no longer knows the key the rows are under.
    await assert.rejects(store.secrets.get(t.id, 'one'), (e: unknown) => e instanceof DecryptionError && e.code === 'unknown-key');
  });
});
