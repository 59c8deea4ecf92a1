import assert from 'node:assert/strict';
import { errorOf, get, start, type Ctx } from './helpers.ts';

describe('dataverse sandbox: CRUD, lookups, errors', () => {
  let c: Ctx;
  beforeEach(async () => { c = await start(); });
  afterEach(async () => { await c.sb.close(); });

  it('creates with 204 + OData-EntityId, or 201 with return=representation', async () => {
    const res = await c.raw('accounts', { method: 'POST', body: JSON.stringify({ name: 'Contoso', revenue: 1000.5, industrycode: 7 }) });
    assert.equal(res.status, 204);
    assert.match(res.headers.get('odata-entityid')!, /\/api\/data\/v9\.2\/accounts\([0-9a-f-]{36}\)$/);
    const rep = await c.raw('accounts?$select=name', { method: 'POST', headers: { Prefer: 'return=representation' }, body: JSON.stringify({ name: 'Fabrikam' }) });
    assert.equal(rep.status, 201);
    const body = await rep.json();
    assert.equal(body.name, 'Fabrikam');
    assert.match(body['@odata.etag'], /^W\/"\d+"$/);
  });

  it('reads lookups as _x_value with annotations, writes them with @odata.bind, and records createdby', async () => {
    const accountid = await c.client.create({ collection: 'accounts', data: { name: 'Contoso' } }) as string;
    const contactid = await c.client.create({
      collection: 'contacts',
      data: { firstname: 'Ann', lastname: 'Lee', 'parentcustomerid_account@odata.bind': `/accounts(${accountid})`, preferredcontactmethodcode: 2 },
    }) as string;
    const res = await c.raw(`contacts(${contactid})?$select=fullname,_parentcustomerid_value,preferredcontactmethodcode,_createdby_value`, {
      headers: { Prefer: 'odata.include-annotations="*"' },
    });
    const row = await res.json();
    assert.equal(row._parentcustomerid_value, accountid);
    assert.equal(row['_parentcustomerid_value@Microsoft.Dynamics.CRM.lookuplogicalname'], 'account');
    assert.equal(row['_parentcustomerid_value@Microsoft.Dynamics.CRM.associatednavigationproperty'], 'parentcustomerid_account');
    assert.equal(row['_parentcustomerid_value@OData.Community.Display.V1.FormattedValue'], 'Contoso');
    assert.equal(row['preferredcontactmethodcode@OData.Community.Display.V1.FormattedValue'], 'Email');
    assert.equal(row._createdby_value, c.sb.applicationUserId);
    // A person's token attributes the change to that person.
    const upd = await get(`${c.sb.orgUrl}/api/data/v9.2/contacts(${contactid})`, {
      method: 'PATCH', headers: { Authorization: `Bearer ${c.sb.userToken}`, 'Content-Type': 'application/json', 'If-Match': '*' }, body: JSON.stringify({ jobtitle: 'CEO' }),
    });
    assert.equal(upd.status, 204);
    const after = await c.client.retrieve({ collection: 'contacts', key: contactid, select: ['_modifiedby_value', '_createdby_value', 'jobtitle'] });
    assert.equal(after._modifiedby_value, c.sb.userId);
    assert.equal(after._createdby_value, c.sb.applicationUserId);
  });

  it('answers a missing record with 404 and the OData error body', async () => {
    const res = await c.raw('contacts(6f3b1c8e-1111-4a4a-9b9b-222233334444)');
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: { code: '0x80040217', message: "Entity 'contact' With Id = 6f3b1c8e-1111-4a4a-9b9b-222233334444 Does Not Exist" } });
    const err = await errorOf(c.client.retrieve({ collection: 'contacts', key: '6f3b1c8e-1111-4a4a-9b9b-222233334444' }));
    assert.equal(err.status, 404);
    assert.equal(err.code, '0x80040217');
  });

  it('upserts with PATCH and honours If-Match / If-None-Match', async () => {
    const id = '6f3b1c8e-1111-4a4a-9b9b-222233334444';
    const created = await c.raw(`contacts(${id})`, { method: 'PATCH', body: JSON.stringify({ lastname: 'Upserted' }) });
    assert.equal(created.status, 204);
    const again = await c.raw(`contacts(${id})`, { method: 'PATCH', headers: { 'If-None-Match': '*' }, body: JSON.stringify({ lastname: 'X' }) });
    assert.equal(again.status, 412);
    assert.equal((await again.json()).error.code, '0x80040237');
    const updateOnly = await c.raw('contacts(6f3b1c8e-1111-4a4a-9b9b-999999999999)', { method: 'PATCH', headers: { 'If-Match': '*' }, body: JSON.stringify({ lastname: 'X' }) });
    assert.equal(updateOnly.status, 404);
    const current = await (await c.raw(`contacts(${id})?$select=lastname`)).json();
    const stale = await c.raw(`contacts(${id})`, { method: 'PATCH', headers: { 'If-Match': 'W/"1"' }, body: JSON.stringify({ lastname: 'Y' }) });
    assert.equal(stale.status, 412);
    assert.equal((await stale.json()).error.code, '0x80060882');
    const fresh = await c.raw(`contacts(${id})`, { method: 'PATCH', headers: { 'If-Match': current['@odata.etag'], Prefer: 'return=representation' }, body: JSON.stringify({ lastname: 'Z' }) });
    assert.equal(fresh.status, 200);
    assert.equal((await fresh.json()).lastname, 'Z');
    // dynamics-web-api turns the 412 of a create-only upsert into null ("already exists").
    assert.equal(await c.client.upsert({ collection: 'contacts', key: id, data: { lastname: 'W' }, ifnonematch: '*' }), null);
  });

  it('deletes with 204 and then 404s', async () => {
    const id = await c.client.create({ collection: 'leads', data: { lastname: 'Gone', subject: 'x' } }) as string;
    const del = await c.raw(`leads(${id})`, { method: 'DELETE' });
    assert.equal(del.status, 204);
    assert.equal((await c.raw(`leads(${id})`, { method: 'DELETE' })).status, 404);
  });

  it('rejects bad JSON, wrong types, unknown columns and tables with Dataverse bodies', async () => {
    const bad = await c.raw('contacts', { method: 'POST', body: '{"lastname": ' });
    assert.equal(bad.status, 400);
    assert.equal((await bad.json()).error.code, '0x80048d19');
    const wrongType = await c.raw('accounts', { method: 'POST', body: JSON.stringify({ name: 'A', numberofemployees: 'many' }) });
    assert.equal(wrongType.status, 400);
    assert.match((await wrongType.json()).error.message, /Cannot convert the literal 'many' to the expected type 'Edm.Int32'/);
    const unknownCol = await c.raw('contacts', { method: 'POST', body: JSON.stringify({ nope: 1 }) });
    assert.equal(unknownCol.status, 400);
    assert.match((await unknownCol.json()).error.message, /Invalid property 'nope'/);
    const unknownTable = await c.raw('widgets');
    assert.equal(unknownTable.status, 404);
    assert.deepEqual(await unknownTable.json(), { error: { code: '0x80060888', message: "Resource not found for the segment 'widgets'." } });
    const badChoice = await c.raw('leads', { method: 'POST', body: JSON.stringify({ lastname: 'L', leadsourcecode: 999 }) });
    assert.equal(badChoice.status, 400);
    const tooLong = await c.raw('contacts', { method: 'POST', body: JSON.stringify({ firstname: 'x'.repeat(51) }) });
    assert.equal((await tooLong.json()).error.code, '0x80044331');
    const missingBind = await c.raw('contacts', { method: 'POST', body: JSON.stringify({ 'parentcustomerid_account@odata.bind': '/accounts(6f3b1c8e-1111-4a4a-9b9b-222233334444)' }) });
    assert.equal(missingBind.status, 404);
    const selectUnknown = await c.raw('contacts?$select=nope');
    assert.equal(selectUnknown.status, 400);
    assert.match((await selectUnknown.json()).error.message, /Could not find a property named 'nope'/);
  });

  it('clears a lookup with DELETE …/$ref and keeps state and status consistent', async () => {
    const a = await c.client.create({ collection: 'accounts', data: { name: 'P' } }) as string;
    const o = await c.client.create({ collection: 'opportunities', data: { name: 'Deal', 'parentaccountid@odata.bind': `accounts(${a})`, estimatedvalue: 5000, salesstage: 1 } }) as string;
    assert.equal((await c.raw(`opportunities(${o})/parentaccountid/$ref`, { method: 'DELETE' })).status, 204);
    await c.client.update({ collection: 'opportunities', key: o, data: { statuscode: 3 } });
    const row = await c.client.retrieve({ collection: 'opportunities', key: o, select: ['statecode', 'statuscode', '_parentaccountid_value', 'estimatedvalue'] });
    assert.equal(row._parentaccountid_value, null);
    assert.equal(row.statecode, 1);
    assert.equal(row.statuscode, 3);
    assert.equal(row.estimatedvalue, 5000);
  });
});
