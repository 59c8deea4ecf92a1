import assert from 'node:assert/strict';
import { get, start, type Ctx } from './helpers.ts';

describe('dataverse sandbox: $batch and change tracking', () => {
  let c: Ctx;
  beforeEach(async () => { c = await start(); });
  afterEach(async () => { await c.sb.close(); });

  it('runs a dynamics-web-api batch with a change set and Content-ID references', async () => {
    c.client.startBatch();
    c.client.create({ collection: 'accounts', data: { name: 'Batch Co' }, contentId: '1' });
    c.client.create({ collection: 'contacts', data: { lastname: 'Batch', 'parentcustomerid_account@odata.bind': '$1' } });
    const results = await c.client.executeBatch();
    assert.equal(results.length, 2);
    const contact = await c.client.retrieve({ collection: 'contacts', key: results[1] as string, select: ['_parentcustomerid_value'] });
    assert.equal(contact._parentcustomerid_value, results[0]);
  });

  it('rolls back a failed change set and answers 400; continue-on-error answers 200 per part', async () => {
    const boundary = 'batch_abc';
    const cs = 'changeset_def';
    const body = [
      `--${boundary}`, `Content-Type: multipart/mixed; boundary="${cs}"`, '',
      `--${cs}`, 'Content-Type: application/http', 'Content-Transfer-Encoding: binary', 'Content-ID: 1', '',
      'POST /api/data/v9.2/accounts HTTP/1.1', 'Content-Type: application/json', '', '{"name":"Rolled back"}',
      `--${cs}`, 'Content-Type: application/http', 'Content-Transfer-Encoding: binary', 'Content-ID: 2', '',
      'PATCH /api/data/v9.2/$1 HTTP/1.1', 'Content-Type: application/json', '', '{"numberofemployees":"lots"}',
      `--${cs}--`,
      `--${boundary}`, 'Content-Type: application/http', 'Content-Transfer-Encoding: binary', '',
      'GET /api/data/v9.2/accounts?$select=name HTTP/1.1', 'Accept: application/json', '',
      `--${boundary}--`, '',
    ].join('\r\n');
    const res = await c.raw('$batch', { method: 'POST', headers: { 'Content-Type': `multipart/mixed; boundary="${boundary}"` }, body });
    assert.equal(res.status, 400);
    const text = await res.text();
    assert.match(res.headers.get('content-type')!, /^multipart\/mixed; boundary=batchresponse_/);
    assert.match(text, /HTTP\/1.1 400 Bad Request/);
    assert.doesNotMatch(text, /Rolled back/);
    assert.equal((await c.client.retrieveMultiple({ collection: 'accounts', select: ['name'] })).value.length, 0);
    const cont = await c.raw('$batch', { method: 'POST', headers: { 'Content-Type': `multipart/mixed; boundary="${boundary}"`, Prefer: 'odata.continue-on-error' }, body });
    assert.equal(cont.status, 200);
    const parts = await cont.text();
    assert.match(parts, /HTTP\/1.1 400 Bad Request/);
    assert.match(parts, /HTTP\/1.1 200 OK/);
  });

  it('returns delta links with changed rows and $deletedEntity entries', async () => {
    const keep = await c.client.create({ collection: 'accounts', data: { name: 'Keep' } }) as string;
    const drop = await c.client.create({ collection: 'accounts', data: { name: 'Drop' } }) as string;
    const initial = await c.raw('accounts?$select=name', { headers: { Prefer: 'odata.track-changes' } });
    assert.equal(initial.headers.get('preference-applied'), 'odata.track-changes');
    const first = await initial.json();
    assert.equal(first.value.length, 2);
    assert.match(first['@odata.deltaLink'], /\$deltatoken=/);
    await c.client.update({ collection: 'accounts', key: keep, data: { name: 'Kept' } });
    await c.client.deleteRecord({ collection: 'accounts', key: drop });
    const added = await c.client.create({ collection: 'accounts', data: { name: 'New' } }) as string;
    const delta = await (await get(first['@odata.deltaLink'], { headers: { Authorization: `Bearer ${c.token}`, Prefer: 'odata.track-changes' } })).json();
    assert.match(delta['@odata.context'], /\/\$delta$/);
    const changed = delta.value.filter((v: Record<string, unknown>) => !('reason' in v));
    assert.deepEqual(changed.map((v: { accountid: string }) => v.accountid).sort(), [keep, added].sort());
    const deleted = delta.value.find((v: Record<string, unknown>) => v.reason === 'deleted');
    assert.equal(deleted.id, drop);
    assert.match(deleted['@odata.context'], /\$metadata#accounts\/\$deletedEntity$/);
    const again = await (await get(delta['@odata.deltaLink'], { headers: { Authorization: `Bearer ${c.token}` } })).json();
    assert.equal(again.value.length, 0);
    // The client's own delta support works too.
    const viaClient = await c.client.retrieveMultiple({ collection: 'accounts', select: ['name'], trackChanges: true });
    assert.ok(viaClient.oDataDeltaLink);
    const rejected = await c.raw(`accounts?$select=name&$filter=${encodeURIComponent("name eq 'x'")}`, { headers: { Prefer: 'odata.track-changes' } });
    assert.equal(rejected.status, 400);
    const rejectedTop = await c.raw('accounts?$select=name&$top=1', { headers: { Prefer: 'odata.track-changes' } });
    assert.equal(rejectedTop.status, 400);
  });
});
