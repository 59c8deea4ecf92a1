import assert from 'node:assert/strict';
import { startDataverseSandbox, type DataverseSandbox } from '../../../sandbox/dataverse/index.ts';
import { ConnectorError } from '../../../server/src/connectors/errors.ts';
import type { ApiCallObserver } from '../../../server/src/connectors/http-retry.ts';
import { createDataverseTokenSource, DataverseConnector } from '../../../server/src/connectors/dataverse/index.ts';

interface Call { operation: string; status: number | 'network' }

const CREATE_MESSAGE = '9ebdbb1b-ea3e-db11-86a7-000a3a5473e8';

describe('Dataverse connector (against the Dataverse sandbox)', function () {
  this.timeout(30_000);
  let sb: DataverseSandbox;
  let dv: DataverseConnector;
  let calls: Call[];

  before(async () => {
    sb = await startDataverseSandbox();
    // The product's token path: msal client credentials, trusting the sandbox CA only for msal's own requests.
    const tokens = createDataverseTokenSource({
      orgUrl: sb.orgUrl, authorityUrl: sb.authorityUrl, clientId: sb.clientId, clientSecret: sb.clientSecret,
      sandbox: { caCert: sb.caCert, authorityMetadata: sb.authorityMetadata, cloudDiscoveryMetadata: sb.cloudDiscoveryMetadata },
    });
    const observer: ApiCallObserver = (system, operation, status) => {
      assert.equal(system, 'dataverse');
      calls.push({ operation, status });
    };
    dv = new DataverseConnector({ orgUrl: sb.orgUrl, tokens, observer, retry: { baseDelayMs: 5, maxDelayMs: 50, maxAttempts: 8 } });
  });
  beforeEach(() => { calls = []; });
  afterEach(() => sb.faults.reset());
  after(async () => { await sb.close(); });

  it('authenticates with an msal token and knows its application user (echo suppression)', async () => {
    const me = await dv.whoAmI();
    assert.equal(me.userId, sb.applicationUserId);
    assert.ok(me.organizationId && me.businessUnitId);
  });

  it('creates the HubSpot id column and alternate key once, then upserts by key idempotently', async () => {
    const first = await dv.ensureHubSpotIdColumn('contact');
    assert.deepEqual({ ...first, keyStatus: undefined }, { column: 'hds_hubspotid', columnCreated: true, keyCreated: true, keyStatus: undefined });
    const second = await dv.ensureHubSpotIdColumn('contact');
    assert.equal(second.columnCreated, false);
    assert.equal(second.keyCreated, false);
    assert.equal((await dv.getAttributes('contact')).get('hds_hubspotid')?.type, 'String');

    const a = await dv.upsertByKey('contact', { hds_hubspotid: '123' }, { lastname: 'Keyed', emailaddress1: 'keyed@example.com' });
    const b = await dv.upsertByKey('contact', { hds_hubspotid: '123' }, { firstname: 'Kay' });
    const rows = await dv.retrieveAll('contact', { select: ['fullname', 'emailaddress1'], filter: "hds_hubspotid eq '123'" });
    assert.equal(rows.length, 1, 'created once');
    assert.equal(rows[0].fullname, 'Kay Keyed');
    assert.equal(rows[0].emailaddress1, 'keyed@example.com');
    if (a.id && b.id) assert.equal(a.id, b.id);
    const byKey = await dv.retrieve('contact', { hds_hubspotid: '123' }, ['contactid']);
    assert.equal(byKey?.contactid, rows[0].contactid);
    // O'Brien-style values are quoted correctly in the key.
    await dv.upsertByKey('contact', { hds_hubspotid: "o'1" }, { lastname: "O'Brien" });
    assert.equal((await dv.retrieve('contact', { hds_hubspotid: "o'1" }, ['lastname']))?.lastname, "O'Brien");
  });

  it('reads a record with formatted-value annotations, and null for a missing one', async () => {
    const id = await dv.create('lead', { subject: 'Annotated', lastname: 'Lead', leadsourcecode: 8 });
    const lead = await dv.retrieve('lead', id, ['subject', 'leadsourcecode', 'statuscode']);
    assert.equal(lead?.['leadsourcecode@OData.Community.Display.V1.FormattedValue'], 'Web');
    assert.equal(lead?.leadsourcecode_Formatted, undefined, 'client aliases removed');
    assert.equal(await dv.retrieve('lead', '00000000-0000-0000-0000-000000000001'), null);
  });

  it('runs a continue-on-error $batch of mixed writes with per-item results', async () => {
    const existing = await dv.create('account', { name: 'Existing' });
    const results = await dv.executeBatch([
      { op: 'create', entity: 'account', data: { name: 'Batch A' } },
      { op: 'update', entity: 'account', id: existing, data: { name: 'Existing (renamed)' } },
      { op: 'update', entity: 'account', id: '00000000-0000-0000-0000-0000000000aa', data: { name: 'Ghost' } },
      { op: 'create', entity: 'account', data: { name: 'Bad', numberofemployees: 'lots' } },
      { op: 'create', entity: 'contact', data: { lastname: 'Batch', 'parentcustomerid_account@odata.bind': `/accounts(${existing})` } },
    ]);
    assert.deepEqual(results.map((r) => r.ok), [true, true, false, false, true]);
    const [created, , ghost, bad, contact] = results;
    assert.ok(created.ok && created.id && contact.ok && contact.id);
    assert.ok(!ghost.ok && ghost.error.status === 404 && ghost.error.record === 'account(00000000-0000-0000-0000-0000000000aa)');
    assert.ok(!bad.ok && bad.error.status === 400 && !bad.error.retryable);
    assert.match(bad.error.message, /^Dynamics 365 \(Dataverse\) create in \$batch new account failed: HTTP 400/);
    assert.equal((await dv.retrieve('account', existing, ['name']))?.name, 'Existing (renamed)');
    assert.equal((await dv.retrieve('account', created.id!, ['name']))?.name, 'Batch A');
    assert.equal(calls.filter((c) => c.operation === '$batch').length, 1);
  });

  it('rolls an atomic change set back as a whole', async () => {
    const before = (await dv.retrieveAll('account', { select: ['name'] })).length;
    const results = await dv.executeBatch([
      { op: 'create', entity: 'account', data: { name: 'Atomic 1' } },
      { op: 'create', entity: 'account', data: { name: 'Atomic 2', numberofemployees: 'lots' } },
    ], { atomic: true });
    assert.ok(results.every((r) => !r.ok && /change set rolled back/.test(r.error.message)));
    assert.equal((await dv.retrieveAll('account', { select: ['name'] })).length, before);
    const ok = await dv.executeBatch([
      { op: 'create', entity: 'account', data: { name: 'Atomic 3' } },
      { op: 'upsert', entity: 'account', key: '11111111-1111-1111-1111-111111111111', data: { name: 'Atomic 4' } },
    ], { atomic: true });
    assert.ok(ok.every((r) => r.ok));
  });

  it('describes option sets of picklist, multi-select, boolean, state and status columns', async () => {
    const lead = await dv.getOptionSets('lead');
    const source = lead.get('leadsourcecode')!;
    assert.equal(source.kind, 'picklist');
    assert.deepEqual(source.options.find((o) => o.value === 8), { value: 8, label: 'Web' });
    const status = lead.get('statuscode')!;
    assert.equal(status.kind, 'status');
    assert.deepEqual(status.options.find((o) => o.value === 3), { value: 3, label: 'Qualified', state: 1 });
    assert.equal(lead.get('statecode')?.kind, 'state');
    const contact = await dv.getOptionSets('contact');
    assert.deepEqual(contact.get('donotemail'), { attribute: 'donotemail', kind: 'boolean', options: [{ value: 1, label: 'Do Not Allow' }, { value: 0, label: 'Allow' }] });
    assert.equal(contact.get('hds_interests')?.kind, 'multiselect');
    assert.equal(contact.get('hds_interests')?.options.length, 4);
    const attrs = await dv.getAttributes('contact');
    assert.equal(attrs.get('parentcustomerid')?.type, 'Customer');
    assert.equal(attrs.get('hds_interests')?.typeName, 'MultiSelectPicklistType');
    // Cached: no further metadata calls until an explicit refresh.
    const n = calls.length;
    await dv.getOptionSets('lead');
    assert.equal(calls.length, n);
    await dv.getOptionSets('lead', { refresh: true });
    assert.ok(calls.length > n);
  });

  it('tracks changes: initial read, then changed and deleted ids with a new delta link', async () => {
    const keep = await dv.create('opportunity', { name: 'Keep' });
    const drop = await dv.create('opportunity', { name: 'Drop' });
    const initial = await dv.trackChanges('opportunity', { select: ['name'] });
    assert.deepEqual([...initial.changedIds].sort(), [keep, drop].sort());
    assert.match(initial.deltaLink, /\$deltatoken=/);
    await dv.update('opportunity', keep, { name: 'Kept' });
    await dv.delete('opportunity', drop);
    const added = await dv.create('opportunity', { name: 'New' });
    const delta = await dv.trackChanges('opportunity', { select: ['name'], deltaLink: initial.deltaLink });
    assert.deepEqual([...delta.changedIds].sort(), [keep, added].sort());
    assert.deepEqual(delta.deletedIds, [drop]);
    assert.equal(delta.changed.find((r) => r.opportunityid === keep)?.name, 'Kept');
    const quiet = await dv.trackChanges('opportunity', { deltaLink: delta.deltaLink });
    assert.deepEqual([quiet.changedIds, quiet.deletedIds], [[], []]);
  });

  it('retries service-protection 429s after Retry-After, and injected 5xx', async () => {
    const set = (body: unknown) => fetch(`${sb.orgUrl}/__sandbox/service-protection`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    await dv.whoAmI();
    assert.equal((await set({ requestsPerWindow: 3, windowMs: 1_000 })).status, 200);
    try {
      const id = await dv.create('account', { name: 'Limited' });
      for (let i = 0; i < 5; i++) assert.equal((await dv.retrieve('account', id, ['name']))?.name, 'Limited');
    } finally {
      await set({ requestsPerWindow: 6_000, windowMs: 300_000 });
    }
    assert.ok(calls.some((c) => c.status === 429), 'service protection refused some calls');
    calls = [];
    sb.faults.set({ rate502: 0.3, rate500: 0.1 });
    for (let i = 0; i < 8; i++) await dv.create('account', { name: `Flaky ${i}` });
    sb.faults.reset();
    assert.ok(calls.some((c) => c.status === 502 || c.status === 500), 'saw 5xx');
    assert.equal(calls.filter((c) => c.status === 204).length, 8);
  });

  it('fails with a clear, non-retryable error for a bad request', async () => {
    const err = await dv.retrieveAll('contact', { select: ['no_such_column'] }).then(() => assert.fail('expected 400'), (e: unknown) => e);
    assert.ok(err instanceof ConnectorError);
    assert.equal(err.status, 400);
    assert.equal(err.retryable, false);
    assert.match(err.message, /^Dynamics 365 \(Dataverse\) query contact contact failed: HTTP 400 \[0x[0-9a-f]+\]: .*no_such_column.*\(not retryable/i);
  });

  it('disables and enables SDK steps and repoints the service endpoint', async () => {
    const endpointId = await dv.create('serviceendpoint', {
      name: 'HubSpot sync', contract: 8, connectionmode: 1, authtype: 4, authvalue: 'k1', messageformat: 2, namespaceformat: 2, userclaim: 1,
      url: 'https://sync.example.com/webhooks/dynamics/t1', path: '', solutionnamespace: '',
    });
    const filters = await dv.retrieveAll('sdkmessagefilter', { select: ['sdkmessagefilterid'], filter: `_sdkmessageid_value eq ${CREATE_MESSAGE} and primaryobjecttypecode eq 'contact'` });
    const stepId = await dv.create('sdkmessageprocessingstep', {
      name: 'HubSpot sync: Create of contact', stage: 40, mode: 1, rank: 1, supporteddeployment: 0, asyncautodelete: false,
      'sdkmessageid@odata.bind': `/sdkmessages(${CREATE_MESSAGE})`,
      'sdkmessagefilterid@odata.bind': `/sdkmessagefilters(${filters[0].sdkmessagefilterid})`,
      'eventhandler_serviceendpoint@odata.bind': `/serviceendpoints(${endpointId})`,
    });
    assert.equal((await dv.getStep(stepId))?.enabled, true);
    await dv.setStepEnabled(stepId, false);
    const disabled = await dv.retrieve('sdkmessageprocessingstep', stepId, ['statecode', 'statuscode']);
    assert.deepEqual([disabled?.statecode, disabled?.statuscode], [1, 2]);
    assert.ok((await dv.listSteps("startswith(name,'HubSpot sync')")).every((s) => !s.enabled));
    await dv.setStepEnabled(stepId, true);
    assert.deepEqual(await dv.getStep(stepId), { id: stepId, name: 'HubSpot sync: Create of contact', enabled: true, statecode: 0, statuscode: 1 });

    await dv.updateServiceEndpoint(endpointId, { url: 'https://prod.example.com/webhooks/dynamics/t1', authvalue: 'k2' });
    const ep = await dv.getServiceEndpoint(endpointId);
    assert.equal(ep?.url, 'https://prod.example.com/webhooks/dynamics/t1');
  });
});
