import assert from 'node:assert/strict';
import { start, type Ctx } from './helpers.ts';

describe('dataverse sandbox: queries', () => {
  let c: Ctx;
  beforeEach(async () => { c = await start(); });
  afterEach(async () => { await c.sb.close(); });

  async function seed(): Promise<string> {
    const acct = await c.client.create({ collection: 'accounts', data: { name: "O'Neil Ltd", numberofemployees: 50 } }) as string;
    const people: Array<[string, string, number | null]> = [['Ann', 'ann@x.com', 1], ['Bob', 'bob@y.com', 2], ['Cid', 'cid@x.com', null], ['Dee', null as unknown as string, 2]];
    for (const [first, email, pref] of people) {
      await c.client.create({ collection: 'contacts', data: { firstname: first, lastname: 'T', emailaddress1: email, preferredcontactmethodcode: pref, 'parentcustomerid_account@odata.bind': `/accounts(${acct})` } });
    }
    return acct;
  }

  const names = (rows: Array<Record<string, unknown>>) => rows.map((r) => r.firstname).sort();

  it('filters with comparison, logical, string functions, null, guids and escaped quotes', async () => {
    const acct = await seed();
    const q = async (filter: string) => (await c.client.retrieveMultiple({ collection: 'contacts', select: ['firstname'], filter })).value as Array<Record<string, unknown>>;
    assert.deepEqual(names(await q("endswith(emailaddress1,'@x.com')")), ['Ann', 'Cid']);
    assert.deepEqual(names(await q("contains(emailaddress1,'OB@') or firstname eq 'Dee'")), ['Bob', 'Dee']);
    assert.deepEqual(names(await q('emailaddress1 eq null')), ['Dee']);
    assert.deepEqual(names(await q('not (preferredcontactmethodcode eq 2) and preferredcontactmethodcode ne null')), ['Ann']);
    assert.deepEqual(names(await q(`_parentcustomerid_value eq ${acct} and startswith(firstname,'b')`)), ['Bob']);
    assert.deepEqual(names(await q('preferredcontactmethodcode ge 2')), ['Bob', 'Dee']);
    const accounts = await c.client.retrieveMultiple({ collection: 'accounts', select: ['name'], filter: "name eq 'O''Neil Ltd' and numberofemployees gt 10" });
    assert.equal(accounts.value.length, 1);
    const bad = await c.raw(`contacts?$filter=${encodeURIComponent("numberofemployees eq 'x'")}`);
    assert.equal(bad.status, 400);
    const typeMismatch = await c.raw(`contacts?$filter=${encodeURIComponent("preferredcontactmethodcode eq 'x'")}`);
    assert.equal(typeMismatch.status, 400);
    assert.match((await typeMismatch.json()).error.message, /incompatible types/);
    const syntax = await c.raw(`contacts?$filter=${encodeURIComponent('firstname eq')}`);
    assert.equal(syntax.status, 400);
  });

  it('orders, tops, counts and expands single-valued lookups with nested $select', async () => {
    await seed();
    const res = await c.client.retrieveMultiple({
      collection: 'contacts', select: ['firstname'], orderBy: ['firstname desc'], top: 2, count: true,
      expand: [{ property: 'parentcustomerid_account', select: ['name'] }],
    });
    assert.deepEqual(res.value.map((r: Record<string, unknown>) => r.firstname), ['Dee', 'Cid']);
    assert.equal(res.oDataCount, 4);
    assert.equal((res.value[0] as { parentcustomerid_account: { name: string } }).parentcustomerid_account.name, "O'Neil Ltd");
  });

  it('rejects $skip with the Dataverse error', async () => {
    const res = await c.raw('contacts?$skip=10');
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { error: { code: '0x80060888', message: 'The query parameter $skip is not supported' } });
  });

  it('pages with odata.maxpagesize and nextLink; retrieveAll follows it', async () => {
    for (let i = 0; i < 25; i++) await c.client.create({ collection: 'leads', data: { lastname: `L${i}`, subject: 's' } });
    const first = await c.raw('leads?$select=lastname', { headers: { Prefer: 'odata.maxpagesize=10' } });
    assert.equal(first.headers.get('preference-applied'), 'odata.maxpagesize=10');
    const page = await first.json();
    assert.equal(page.value.length, 10);
    assert.match(page['@odata.nextLink'], /\$skiptoken=/);
    const all = await c.client.retrieveAll({ collection: 'leads', select: ['lastname'], maxPageSize: 10 });
    assert.equal(all.value.length, 25);
    assert.equal(new Set(all.value.map((r: Record<string, unknown>) => r.lastname)).size, 25);
  });

  it('reads and filters multi-select choices as comma-separated values', async () => {
    const id = await c.client.create({ collection: 'contacts', data: { lastname: 'M', hds_interests: '100000000,100000002' } }) as string;
    await c.client.create({ collection: 'contacts', data: { lastname: 'N', hds_interests: '100000001' } });
    const row = await c.client.retrieve({ collection: 'contacts', key: id, select: ['hds_interests'], includeAnnotations: 'OData.Community.Display.V1.FormattedValue' });
    assert.equal(row.hds_interests, '100000000,100000002');
    assert.equal(row['hds_interests@OData.Community.Display.V1.FormattedValue'], 'Software; Services');
    const res = await c.client.retrieveMultiple({ collection: 'contacts', select: ['lastname'], filter: "Microsoft.Dynamics.CRM.ContainValues(PropertyName='hds_interests',PropertyValues=['100000002'])" });
    assert.deepEqual(res.value.map((r: Record<string, unknown>) => r.lastname), ['M']);
  });
});
