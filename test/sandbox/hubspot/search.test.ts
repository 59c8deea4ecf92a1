import assert from 'node:assert/strict';
import { client, failure, raw, useSandbox } from './helpers.ts';

describe('hubspot sandbox: CRM search', () => {
  const ctx = useSandbox({ rateLimits: { enabled: false } });

  async function seed() {
    const hs = client(ctx.sb);
    const people: Array<Record<string, string>> = [
      { email: 'ann@alpha.com', firstname: 'Ann', lastname: 'Archer', lifecyclestage: 'lead', company: 'Alpha Corp' },
      { email: 'bob@beta.com', firstname: 'Bob', lastname: 'Baker', lifecyclestage: 'customer', company: 'Beta Ltd' },
      { email: 'cy@gamma.com', firstname: 'Cy', lastname: 'Carter', lifecyclestage: 'customer' },
      { email: 'di@delta.com', firstname: 'Di', lastname: 'Dunn', lifecyclestage: 'subscriber', company: 'Delta Alpha' },
    ];
    await hs.crm.contacts.batchApi.create({ inputs: people.map((properties) => ({ properties, associations: [] })) });
    const deals: Array<Record<string, string>> = [
      { dealname: 'Small', amount: '100', closedate: '2024-01-10T00:00:00.000Z' },
      { dealname: 'Medium', amount: '500', closedate: '2024-02-10T00:00:00.000Z' },
      { dealname: 'Large', amount: '2500', closedate: '2024-03-10T00:00:00.000Z' },
      { dealname: 'Unpriced' },
    ];
    await hs.crm.deals.batchApi.create({ inputs: deals.map((properties) => ({ properties, associations: [] })) });
    return hs;
  }

  const search = (hs: ReturnType<typeof client>, type: 'contacts' | 'deals', body: Record<string, unknown>) =>
    (hs.crm[type].searchApi.doSearch as (b: unknown) => Promise<{ total: number; results: Array<{ id: string; properties: Record<string, string | null> }>; paging?: { next?: { after: string } } }>)(body);
  const names = (r: { results: Array<{ properties: Record<string, string | null> }> }, p = 'firstname') => r.results.map((x) => x.properties[p]);

  it('supports every operator', async () => {
    const hs = await seed();
    const one = async (filter: Record<string, unknown>) =>
      names(await search(hs, 'contacts', { filterGroups: [{ filters: [filter] }], properties: ['firstname'], sorts: ['firstname'] }));
    assert.deepEqual(await one({ propertyName: 'email', operator: 'EQ', value: 'BOB@beta.com' }), ['Bob']);
    assert.deepEqual(await one({ propertyName: 'lifecyclestage', operator: 'NEQ', value: 'customer' }), ['Ann', 'Di']);
    assert.deepEqual(await one({ propertyName: 'lifecyclestage', operator: 'IN', values: ['lead', 'subscriber'] }), ['Ann', 'Di']);
    assert.deepEqual(await one({ propertyName: 'lifecyclestage', operator: 'NOT_IN', values: ['lead', 'subscriber'] }), ['Bob', 'Cy']);
    assert.deepEqual(await one({ propertyName: 'company', operator: 'HAS_PROPERTY' }), ['Ann', 'Bob', 'Di']);
    assert.deepEqual(await one({ propertyName: 'company', operator: 'NOT_HAS_PROPERTY' }), ['Cy']);
    assert.deepEqual(await one({ propertyName: 'company', operator: 'CONTAINS_TOKEN', value: 'alpha' }), ['Ann', 'Di']);
    assert.deepEqual(await one({ propertyName: 'company', operator: 'NOT_CONTAINS_TOKEN', value: 'alpha' }), ['Bob', 'Cy']);
    assert.deepEqual(await one({ propertyName: 'email', operator: 'CONTAINS_TOKEN', value: '*@beta.com' }), ['Bob']);
    assert.deepEqual(await one({ propertyName: 'lastname', operator: 'LT', value: 'c' }), ['Ann', 'Bob']);

    const deal = async (filter: Record<string, unknown>) =>
      names(await search(hs, 'deals', { filterGroups: [{ filters: [filter] }], properties: ['dealname'], sorts: ['amount'] }), 'dealname');
    // Numbers compare numerically (as strings "2500" < "500").
    assert.deepEqual(await deal({ propertyName: 'amount', operator: 'GT', value: '400' }), ['Medium', 'Large']);
    assert.deepEqual(await deal({ propertyName: 'amount', operator: 'GTE', value: 500 }), ['Medium', 'Large']);
    assert.deepEqual(await deal({ propertyName: 'amount', operator: 'LTE', value: '500' }), ['Small', 'Medium']);
    assert.deepEqual(await deal({ propertyName: 'amount', operator: 'BETWEEN', value: '100', highValue: '500' }), ['Small', 'Medium']);
    // Dates as ms epoch or ISO.
    const feb1 = Date.parse('2024-02-01T00:00:00Z');
    assert.deepEqual(await deal({ propertyName: 'closedate', operator: 'GTE', value: String(feb1) }), ['Medium', 'Large']);
    assert.deepEqual(await deal({ propertyName: 'closedate', operator: 'LT', value: '2024-02-01T00:00:00Z' }), ['Small']);
  });

  it('ORs filter groups, ANDs filters, sorts by objects and "-prop" strings, and searches query text', async () => {
    const hs = await seed();
    const res = await search(hs, 'contacts', {
      filterGroups: [
        { filters: [{ propertyName: 'lifecyclestage', operator: 'EQ', value: 'customer' }, { propertyName: 'company', operator: 'HAS_PROPERTY' }] },
        { filters: [{ propertyName: 'firstname', operator: 'EQ', value: 'di' }] },
      ],
      sorts: [{ propertyName: 'firstname', direction: 'DESCENDING' }],
      properties: ['firstname'],
    });
    assert.deepEqual(names(res), ['Di', 'Bob']);
    assert.equal(res.total, 2);
    const desc = await search(hs, 'contacts', { sorts: ['-lastname'], properties: ['firstname'], limit: 2 });
    assert.deepEqual(names(desc), ['Di', 'Cy']);
    const q = await search(hs, 'contacts', { query: 'carter', properties: ['firstname'] });
    assert.deepEqual(names(q), ['Cy']);
    // Default properties when none are named.
    const all = await search(hs, 'contacts', {});
    assert.equal(all.total, 4);
    assert.deepEqual(Object.keys(all.results[0].properties).sort(), ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname']);
  });

  it('pages with after and total, and checks limits and filter caps', async () => {
    const hs = await seed();
    const seen: string[] = [];
    let after: string | undefined = '0';
    while (after !== undefined) {
      const page = await search(hs, 'contacts', { limit: 3, after, sorts: ['email'], properties: ['email'] });
      assert.equal(page.total, 4);
      seen.push(...names(page, 'email').map(String));
      after = page.paging?.next?.after;
    }
    assert.deepEqual(seen, ['ann@alpha.com', 'bob@beta.com', 'cy@gamma.com', 'di@delta.com']);

    const f = { propertyName: 'email', operator: 'HAS_PROPERTY' };
    const tooManyGroups = await failure(search(hs, 'contacts', { filterGroups: Array.from({ length: 6 }, () => ({ filters: [f] })) }));
    assert.equal(tooManyGroups.code, 400);
    assert.equal(tooManyGroups.body.category, 'VALIDATION_ERROR');
    const tooManyInGroup = await failure(search(hs, 'contacts', { filterGroups: [{ filters: Array.from({ length: 7 }, () => f) }] }));
    assert.equal(tooManyInGroup.code, 400);
    const tooManyTotal = await failure(search(hs, 'contacts', { filterGroups: Array.from({ length: 4 }, () => ({ filters: Array.from({ length: 5 }, () => f) })) }));
    assert.equal(tooManyTotal.code, 400);
    assert.match(tooManyTotal.body.message, /18/);
    const okCaps = await search(hs, 'contacts', { filterGroups: Array.from({ length: 3 }, () => ({ filters: Array.from({ length: 6 }, () => f) })) });
    assert.equal(okCaps.total, 4);
    assert.equal((await failure(search(hs, 'contacts', { limit: 201 }))).code, 400);
    assert.equal((await search(hs, 'contacts', { limit: 200 })).results.length, 4);
    const beyond = await failure(search(hs, 'contacts', { after: '10000', limit: 10 }));
    assert.equal(beyond.code, 400);
    assert.equal(beyond.body.category, 'VALIDATION_ERROR');
    assert.equal((await failure(search(hs, 'contacts', { after: '9995', limit: 10 }))).code, 400);
    assert.equal((await search(hs, 'contacts', { after: '9990', limit: 10 })).results.length, 0);
    const badOp = await raw(ctx.sb, 'POST', '/crm/v3/objects/contacts/search', { filterGroups: [{ filters: [{ propertyName: 'email', operator: 'LIKE', value: 'x' }] }] });
    assert.equal(badOp.status, 400);
  });

  it('does not page past 10,000 results even when more match', async () => {
    const hs = client(ctx.sb);
    // 10,050 contacts through batch create (101 requests of ≤100).
    for (let start = 0; start < 10_050; start += 100) {
      const inputs = Array.from({ length: Math.min(100, 10_050 - start) }, (_, i) => ({ properties: { email: `c${start + i}@bulk.com` }, associations: [] }));
      await hs.crm.contacts.batchApi.create({ inputs });
    }
    const last = await search(hs, 'contacts', { after: '9800', limit: 200 });
    assert.equal(last.total, 10_050);
    assert.equal(last.results.length, 200);
    assert.equal(last.paging?.next?.after, '10000');
    const past = await failure(search(hs, 'contacts', { after: last.paging!.next!.after, limit: 200 }));
    assert.equal(past.code, 400);
  });
});
