import assert from 'node:assert/strict';
import { forEachDialect } from './harness.ts';

forEachDialect('store: inbox', (h) => {
  it('dedupes by (tenant, source, event id) and keeps only keys, never values', async () => {
    const { store, now } = h();
    const t = await store.tenants.create();
    const other = await store.tenants.create();
    const event = { objectType: 'contacts', recordId: '51', changeType: 'contact.propertyChange', propertyName: 'email', propertyValue: 'secret@customer.com' };
    const first = await store.inbox.record(t.id, 'hubspot', '100', event);
    assert.equal(first.inserted, true);
    assert.deepEqual(await store.inbox.record(t.id, 'hubspot', '100', event), { inserted: false });
    assert.equal((await store.inbox.record(t.id, 'dynamics', '100', event)).inserted, true, 'other source');
    assert.equal((await store.inbox.record(other.id, 'hubspot', '100', event)).inserted, true, 'other tenant');
    const raw = await store.db.kysely.selectFrom('inbox').select('payload').execute();
    assert.ok(raw.every((r) => !r.payload.includes('secret@customer.com')));
    const [latest] = await store.inbox.list(t.id, 1);
    assert.deepEqual(latest.keys, { objectType: 'contacts', recordId: '51', changeType: 'contact.propertyChange', propertyName: 'email' });
    now.value += 10;
    assert.equal(await store.inbox.pruneOlderThan(now.value), 3);
  });
});

forEachDialect('store: sync errors', (h) => {
  const ref = { system: 'hubspot' as const, objectType: 'contacts', recordId: '7' };
  it('records what/why/how, counts repeats, clears on success', async () => {
    const { store, now } = h();
    const t = await store.tenants.create();
    const e = { ...ref, code: 'dropdown_unmatched', what: 'lead_status not synced', why: '"Hott" has no Dynamics option', howToFix: 'Add option "Hott" to leadqualitycode' };
    await store.errors.record(t.id, e);
    now.value += 100;
    await store.errors.record(t.id, { ...e, why: '"Hot2" has no Dynamics option' });
    await store.errors.record(t.id, { ...e, code: 'owner_unmatched' });
    const list = await store.errors.forRecord(t.id, ref);
    assert.equal(list.length, 2);
    assert.equal(list[0].occurrences, 2);
    assert.equal(list[0].why, '"Hot2" has no Dynamics option');
    assert.equal(list[0].lastSeenAt - list[0].firstSeenAt, 100);
    assert.equal((await store.errors.list(t.id)).length, 2);
    assert.equal((await store.errors.list('other')).length, 0);
    await store.errors.record(t.id, { ...e, recordId: '8' });
    assert.equal(await store.errors.clearMany(t.id, 'hubspot', 'contacts', ['7', '9']), 2, 'both problems of record 7, none of 8');
    assert.deepEqual((await store.errors.list(t.id)).map((x) => x.recordId), ['8']);
  });
});
