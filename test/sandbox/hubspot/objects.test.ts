import assert from 'node:assert/strict';
import { client, failure, raw, useSandbox } from './helpers.ts';

describe('hubspot sandbox: CRM objects', () => {
  const ctx = useSandbox({ rateLimits: { enabled: false } });

  it('creates (201), reads, updates, archives a contact with server-set properties', async () => {
    const hs = client(ctx.sb);
    const created = await hs.crm.contacts.basicApi.create({ properties: { email: 'Ada@Example.com', firstname: 'Ada' }, associations: [] });
    assert.match(created.id, /^\d+$/);
    assert.equal(created.properties.email, 'ada@example.com');
    assert.equal(created.properties.hs_object_id, created.id);
    assert.ok(created.properties.createdate && created.properties.lastmodifieddate && created.properties.hs_lastmodifieddate);
    assert.ok(created.createdAt instanceof Date);

    const read = await hs.crm.contacts.basicApi.getById(created.id, ['email', 'firstname', 'phone']);
    assert.deepEqual(read.properties, { email: 'ada@example.com', firstname: 'Ada', phone: null });

    const byEmail = await hs.crm.contacts.basicApi.getById('ada@example.com', undefined, undefined, undefined, false, 'email');
    assert.equal(byEmail.id, created.id);

    await new Promise((r) => setTimeout(r, 5));
    const updated = await hs.crm.contacts.basicApi.update(created.id, { properties: { firstname: '', lastname: 'Lovelace', phone: 123 as unknown as string } });
    assert.equal(updated.properties.firstname, undefined, 'empty string clears');
    assert.equal(updated.properties.lastname, 'Lovelace');
    assert.equal(updated.properties.phone, '123', 'values are strings');
    assert.ok(updated.updatedAt.getTime() > created.updatedAt.getTime());

    await hs.crm.contacts.basicApi.archive(created.id);
    const gone = await failure(hs.crm.contacts.basicApi.getById(created.id));
    assert.equal(gone.code, 404);
    assert.equal(gone.body.category, 'OBJECT_NOT_FOUND');
  });

  it('lists with limit/after paging', async () => {
    const hs = client(ctx.sb);
    for (let i = 0; i < 5; i++) await hs.crm.companies.basicApi.create({ properties: { name: `Co ${i}` }, associations: [] });
    const first = await hs.crm.companies.basicApi.getPage(2);
    assert.equal(first.results.length, 2);
    assert.ok(first.paging?.next?.after);
    const names: string[] = first.results.map((r) => r.properties.name!);
    let after: string | undefined = first.paging?.next?.after;
    while (after) {
      const page = await hs.crm.companies.basicApi.getPage(2, after);
      names.push(...page.results.map((r) => r.properties.name!));
      after = page.paging?.next?.after;
    }
    assert.deepEqual(names, ['Co 0', 'Co 1', 'Co 2', 'Co 3', 'Co 4']);
    const all = await hs.crm.companies.getAll();
    assert.equal(all.length, 5);
  });

  it('answers a duplicate email with 409 CONFLICT naming the existing id, and with 400 on update', async () => {
    const hs = client(ctx.sb);
    const a = await hs.crm.contacts.basicApi.create({ properties: { email: 'dup@example.com' }, associations: [] });
    const err = await failure(hs.crm.contacts.basicApi.create({ properties: { email: 'DUP@example.com' }, associations: [] }));
    assert.equal(err.code, 409);
    assert.equal(err.body.category, 'CONFLICT');
    assert.equal(err.body.message, `Contact already exists. Existing ID: ${a.id}`);
    assert.match(err.body.correlationId, /^[0-9a-f-]{36}$/);

    const b = await hs.crm.contacts.basicApi.create({ properties: { email: 'other@example.com' }, associations: [] });
    const upd = await failure(hs.crm.contacts.basicApi.update(b.id, { properties: { email: 'dup@example.com' } }));
    assert.equal(upd.code, 400);
    assert.equal(upd.body.category, 'VALIDATION_ERROR');
    assert.match(upd.body.message, new RegExp(`propertyName=email, value=dup@example.com\\} on ${b.id}\\. ${a.id} already has that value`));
  });

  it('rejects unknown properties, invalid options, bad numbers and dates with VALIDATION_ERROR', async () => {
    const hs = client(ctx.sb);
    const unknown = await failure(hs.crm.contacts.basicApi.create({ properties: { email: 'x@example.com', favourite_colour: 'red' }, associations: [] }));
    assert.equal(unknown.code, 400);
    assert.equal(unknown.body.category, 'VALIDATION_ERROR');
    assert.match(unknown.body.message, /^Property values were not valid: /);
    const details = JSON.parse(unknown.body.message.replace('Property values were not valid: ', ''));
    assert.deepEqual(details[0].error, 'PROPERTY_DOESNT_EXIST');
    assert.equal(details[0].name, 'favourite_colour');

    const option = await failure(hs.crm.contacts.basicApi.create({ properties: { lifecyclestage: 'hot' }, associations: [] }));
    assert.equal(option.code, 400);
    assert.match(option.body.message, /INVALID_OPTION/);
    assert.match(option.body.message, /hot was not one of the allowed options/);

    const number = await failure(hs.crm.companies.basicApi.create({ properties: { numberofemployees: 'many' }, associations: [] }));
    assert.match(number.body.message, /INVALID_LONG/);
    const date = await failure(hs.crm.deals.basicApi.create({ properties: { closedate: 'tomorrow' }, associations: [] }));
    assert.match(date.body.message, /INVALID_DATETIME/);
    const owner = await failure(hs.crm.deals.basicApi.create({ properties: { hubspot_owner_id: '1' }, associations: [] }));
    assert.match(owner.body.message, /INVALID_OWNER_ID/);
    const readOnly = await failure(hs.crm.deals.basicApi.create({ properties: { hs_object_id: '1' }, associations: [] }));
    assert.match(readOnly.body.message, /READ_ONLY_VALUE/);

    const ok = await hs.crm.deals.basicApi.create({
      properties: { dealname: 'D', amount: '10.5', dealstage: 'closedwon', closedate: '1700000000000', hubspot_owner_id: ctx.sb.portal.ownerId },
      associations: [],
    });
    assert.equal(ok.properties.pipeline, 'default');
    assert.equal(ok.properties.closedate, new Date(1700000000000).toISOString());
  });

  it('batch create (201), read with 207 for missing ids, update, archive (204)', async () => {
    const hs = client(ctx.sb);
    const created = await hs.crm.contacts.batchApi.create({
      inputs: [1, 2, 3].map((i) => ({ properties: { email: `b${i}@example.com` }, associations: [] })),
    });
    assert.equal(created.results.length, 3);
    const ids = created.results.map((r) => r.id);

    const read = await hs.crm.contacts.batchApi.read({ inputs: [...ids, '999999'].map((id) => ({ id })), properties: ['email'], propertiesWithHistory: [] });
    assert.equal(read.results.length, 3);
    assert.equal((read as any).numErrors, 1);
    assert.equal((read as any).errors[0].category, 'OBJECT_NOT_FOUND');
    assert.deepEqual((read as any).errors[0].context.ids, ['999999']);

    const byEmail = await hs.crm.contacts.batchApi.read({ inputs: [{ id: 'b1@example.com' }], idProperty: 'email', properties: ['email'], propertiesWithHistory: [] });
    assert.equal(byEmail.results[0].id, ids[0]);

    const updated = await hs.crm.contacts.batchApi.update({ inputs: ids.map((id) => ({ id, properties: { jobtitle: 'CTO' } })) });
    assert.ok(updated.results.every((r) => r.properties.jobtitle === 'CTO'));

    await hs.crm.contacts.batchApi.archive({ inputs: [{ id: ids[0] }] });
    assert.equal((await failure(hs.crm.contacts.basicApi.getById(ids[0]))).code, 404);
  });

  it('rejects a batch of 101 inputs with 400 VALIDATION_ERROR', async () => {
    const hs = client(ctx.sb);
    const inputs = Array.from({ length: 101 }, (_, i) => ({ properties: { email: `n${i}@example.com` }, associations: [] }));
    const err = await failure(hs.crm.contacts.batchApi.create({ inputs }));
    assert.equal(err.code, 400);
    assert.equal(err.body.category, 'VALIDATION_ERROR');
    assert.match(err.body.message, /size must be between 0 and 100/);
    const read = await raw(ctx.sb, 'POST', '/crm/v3/objects/contacts/batch/read', { inputs: Array.from({ length: 101 }, (_, i) => ({ id: String(i) })) });
    assert.equal(read.status, 400);
    // Exactly 100 is fine.
    const ok = await hs.crm.contacts.batchApi.create({ inputs: inputs.slice(0, 100) });
    assert.equal(ok.results.length, 100);
  });

  it('batch upsert by email reports new: true/false', async () => {
    const hs = client(ctx.sb);
    const existing = await hs.crm.contacts.basicApi.create({ properties: { email: 'up@example.com', firstname: 'Old' }, associations: [] });
    const res = await hs.crm.contacts.batchApi.upsert({
      inputs: [
        { id: 'UP@example.com', idProperty: 'email', properties: { firstname: 'New' } },
        { id: 'fresh@example.com', idProperty: 'email', properties: { firstname: 'Fresh' } },
      ],
    });
    const byEmail = new Map(res.results.map((r) => [r.properties.email, r]));
    assert.equal(byEmail.get('up@example.com')!.id, existing.id);
    assert.equal(byEmail.get('up@example.com')!._new, false);
    assert.equal(byEmail.get('up@example.com')!.properties.firstname, 'New');
    assert.equal(byEmail.get('fresh@example.com')!._new, true);
  });

  it('batch create with duplicate email fails whole (409), or per input (207) with objectWriteTraceId', async () => {
    const hs = client(ctx.sb);
    const a = await hs.crm.contacts.basicApi.create({ properties: { email: 'taken@example.com' }, associations: [] });
    const whole = await failure(hs.crm.contacts.batchApi.create({
      inputs: [{ properties: { email: 'free@example.com' }, associations: [] }, { properties: { email: 'taken@example.com' }, associations: [] }],
    }));
    assert.equal(whole.code, 409);
    const page = await hs.crm.contacts.basicApi.getPage(10);
    assert.equal(page.results.length, 1, 'nothing written');

    const partial = await raw(ctx.sb, 'POST', '/crm/v3/objects/contacts/batch/create', {
      inputs: [
        { properties: { email: 'free@example.com' }, objectWriteTraceId: 't1' },
        { properties: { email: 'taken@example.com' }, objectWriteTraceId: 't2' },
      ],
    });
    assert.equal(partial.status, 207);
    assert.equal(partial.body.numErrors, 1);
    assert.equal(partial.body.results.length, 1);
    assert.equal(partial.body.errors[0].message, `Contact already exists. Existing ID: ${a.id}`);
    assert.deepEqual(partial.body.errors[0].context.objectWriteTraceId, ['t2']);
  });

  it('answers malformed JSON, unknown routes, unknown object types and missing auth in HubSpot shape', async () => {
    const bad = await raw(ctx.sb, 'POST', '/crm/v3/objects/contacts', '{"properties": ');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.status, 'error');
    assert.equal(bad.body.category, 'VALIDATION_ERROR');
    const unknown = await raw(ctx.sb, 'GET', '/crm/v3/nothing/here');
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.status, 'error');
    assert.ok(unknown.body.correlationId);
    const type = await raw(ctx.sb, 'GET', '/crm/v3/objects/widgets');
    assert.equal(type.status, 400);
    const noAuth = await raw(ctx.sb, 'GET', '/crm/v3/objects/contacts', undefined, null);
    assert.equal(noAuth.status, 401);
    assert.equal(noAuth.body.category, 'INVALID_AUTHENTICATION');
    const props = await raw(ctx.sb, 'POST', '/crm/v3/objects/contacts', { properties: 'nope' });
    assert.equal(props.status, 400);
  });
});
