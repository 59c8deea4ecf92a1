import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import express from 'express';
import pino from 'pino';
import { listen } from '../../../sandbox/common/listen.ts';
import type { AttributeKind, ChangeFeed, OrgInfo, Principal, RecordChange, StepRegistry, WebhookStep } from '../../../sandbox/dataverse/contracts.ts';
import { parseSettings, startWebhookDispatcher, type WebhookDispatcher } from '../../../sandbox/dataverse/plugins/index.ts';
import { DynamicsWebApi } from 'dynamics-web-api';
import { startDataverseSandbox, type DataverseSandbox } from '../../../sandbox/dataverse/index.ts';
import { createDataverseTokenSource } from '../../../server/src/connectors/dataverse/token.ts';

/** What the receiver saw of one POST. */
interface Received {
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  raw: string;
  body: any;
}

/** A local endpoint that records requests and answers with scripted statuses (200 once the script runs out). */
async function startReceiver() {
  const received: Received[] = [];
  const script: number[] = [];
  let delayMs = 0;
  const app = express();
  app.use(express.text({ type: '*/*', limit: '2mb' }));
  app.post('/{*path}', async (req, res) => {
    received.push({ path: req.path, query: req.query as Record<string, string>, headers: req.headers, raw: req.body as string, body: JSON.parse(req.body as string) });
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    res.status(script.shift() ?? 200).end();
  });
  const server = await listen(app);
  return {
    server,
    received,
    respondWith: (...statuses: number[]) => script.push(...statuses),
    setDelay: (ms: number) => (delayMs = ms),
  };
}

const kinds: Record<string, AttributeKind> = {
  contactid: 'Uniqueidentifier', firstname: 'String', lastname: 'String', emailaddress1: 'String', jobtitle: 'String',
  preferredcontactmethodcode: 'Picklist', statecode: 'State', statuscode: 'Status', creditlimit: 'Money', donotemail: 'Boolean',
  birthdate: 'DateTime', createdon: 'DateTime', modifiedon: 'DateTime', createdby: 'Lookup', modifiedby: 'Lookup', ownerid: 'Owner',
  parentcustomerid: 'Customer', numberofchildren: 'Integer', hs_interests: 'MultiSelectPicklist',
};
const labels: Record<string, Record<number, string>> = {
  preferredcontactmethodcode: { 1: 'Any', 2: 'Email', 3: 'Phone' },
  statecode: { 0: 'Active', 1: 'Inactive' },
  statuscode: { 1: 'Active', 2: 'Inactive' },
  donotemail: { 0: 'Allow', 1: 'Do Not Allow' },
  hs_interests: { 100000000: 'Sailing', 100000001: 'Chess' },
};
const org: OrgInfo = {
  organizationId: '0a9f3c51-7d2e-4b8a-9c1f-5e6d7a8b9c0d',
  organizationName: 'sandbox.crm.dynamics.com',
  businessUnitId: '1b2c3d4e-5f60-4718-8293-a4b5c6d7e8f9',
  attributeKind: (entity, column) => (entity === 'contact' ? kinds[column] : undefined),
  optionLabel: (_entity, column, value) => labels[column]?.[value],
  primaryNameColumn: (entity) => (entity === 'contact' ? 'fullname' : undefined),
};

const person: Principal = { systemUserId: '7f1c2d3e-4b5a-4c6d-8e7f-901a2b3c4d5e', azureObjectId: '3d280606-3712-4759-b6b9-7302f8d1a3b0', kind: 'user' };

function createFeed() {
  const listeners = new Set<(c: RecordChange) => void>();
  const feed: ChangeFeed = { onChange: (l) => (listeners.add(l), () => listeners.delete(l)) };
  return { feed, emit: (c: RecordChange) => listeners.forEach((l) => l(c)) };
}

const contactId = 'e0a1b2c3-d4e5-4f60-8172-83940a1b2c3d';
const me = { id: person.systemUserId, logicalName: 'systemuser' };
const createdOn = '2024-05-01T10:00:00Z';

function createChange(): RecordChange {
  const post = {
    contactid: contactId, firstname: 'Ada', lastname: 'Lovelace', emailaddress1: 'ada@example.com', jobtitle: null,
    preferredcontactmethodcode: 2, statecode: 0, statuscode: 1, creditlimit: 2154.32, donotemail: false, birthdate: '1815-12-10T00:00:00Z',
    hs_interests: [100000000, 100000001], parentcustomerid: { id: '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d', logicalName: 'account' },
    ownerid: me, createdby: me, modifiedby: me, createdon: createdOn, modifiedon: createdOn,
  };
  return {
    message: 'Create', entity: 'contact', id: contactId, changed: post, post, principal: person, depth: 1,
    correlationId: randomUUID(), requestId: randomUUID(), operationCreatedOn: new Date(createdOn),
  };
}

function updateChange(columns: Record<string, string | number | null>): RecordChange {
  const base = createChange();
  const modifiedon = '2024-05-02T11:30:00Z';
  const changed = { ...columns, modifiedon, modifiedby: me, contactid: contactId };
  return { ...base, message: 'Update', changed, pre: base.post, post: { ...base.post, ...changed }, operationCreatedOn: new Date(modifiedon) };
}

describe('Dataverse sandbox plug-in pipeline (webhook steps)', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let registered: WebhookStep[];
  let feedHandle: ReturnType<typeof createFeed>;
  let dispatcher: WebhookDispatcher;

  const endpoint = (over: Partial<WebhookStep['endpoint']> = {}): WebhookStep['endpoint'] => ({
    id: randomUUID(), name: 'HubSpot sync', url: `${receiver.server.url}/api/dataverse/webhook`, authType: 4, authValue: 'k3y/with+chars', ...over,
  });
  const step = (over: Partial<WebhookStep> = {}): WebhookStep => ({
    id: randomUUID(), name: 'HubSpot sync: Update of contact', message: 'Update', entity: 'contact', stage: 40, mode: 1,
    filteringAttributes: [], enabled: true, endpoint: endpoint(), ...over,
  });

  before(async () => {
    receiver = await startReceiver();
  });
  after(() => receiver.server.close());
  beforeEach(() => {
    receiver.received.length = 0;
    registered = [];
    feedHandle = createFeed();
    const steps: StepRegistry = { stepsFor: (message, entity) => registered.filter((s) => s.message === message && s.entity === entity) };
    dispatcher = startWebhookDispatcher({ feed: feedHandle.feed, steps, org, timeoutMs: 2_000, logger: pino({ level: 'silent' }) });
  });
  afterEach(() => dispatcher.stop());

  it('posts a Create context serialised like Dataverse, with its headers and ?code=', async () => {
    const s = step({ message: 'Create', name: 'HubSpot sync: Create of contact' });
    registered.push(s);
    const change = createChange();
    feedHandle.emit(change);
    await dispatcher.idle();

    assert.equal(receiver.received.length, 1);
    const [got] = receiver.received as [Received];
    assert.equal(got.path, '/api/dataverse/webhook');
    assert.equal(got.query.code, 'k3y/with+chars');
    assert.equal(got.headers['content-type'], 'application/json');
    assert.equal(got.headers['x-ms-dynamics-organization'], 'sandbox.crm.dynamics.com');
    assert.equal(got.headers['x-ms-dynamics-entity-name'], 'contact');
    assert.equal(got.headers['x-ms-dynamics-request-name'], 'Create');
    assert.equal(got.headers['x-ms-correlation-request-id'], change.correlationId);
    assert.match(String(got.headers['x-request-id']), /^[0-9a-f-]{36}$/);

    // DataContractJsonSerializer escapes every slash.
    assert.ok(got.raw.includes('"__type":"Entity:http:\\/\\/schemas.microsoft.com\\/xrm\\/2011\\/Contracts"'));
    assert.ok(got.raw.includes(`"OperationCreatedOn":"\\/Date(${Date.parse(createdOn)})\\/"`));
    assert.ok(!/[^\\]\//.test(got.raw), 'no unescaped slash');

    const ctx = got.body;
    assert.deepEqual(Object.keys(ctx), [
      'BusinessUnitId', 'CorrelationId', 'Depth', 'InitiatingUserAgent', 'InitiatingUserAzureActiveDirectoryObjectId', 'InitiatingUserId',
      'InputParameters', 'IsExecutingOffline', 'IsInTransaction', 'IsOfflinePlayback', 'IsolationMode', 'MessageName', 'Mode',
      'OperationCreatedOn', 'OperationId', 'OrganizationId', 'OrganizationName', 'OutputParameters', 'OwningExtension', 'ParentContext',
      'PostEntityImages', 'PreEntityImages', 'PrimaryEntityId', 'PrimaryEntityName', 'RequestId', 'SecondaryEntityName', 'SharedVariables',
      'Stage', 'UserAzureActiveDirectoryObjectId', 'UserId',
    ]);
    assert.equal(ctx.MessageName, 'Create');
    assert.equal(ctx.Stage, 40);
    assert.equal(ctx.Mode, 1);
    assert.equal(ctx.Depth, 1);
    assert.equal(ctx.IsInTransaction, false);
    assert.equal(ctx.InitiatingUserId, person.systemUserId);
    assert.equal(ctx.UserId, person.systemUserId);
    assert.equal(ctx.InitiatingUserAzureActiveDirectoryObjectId, person.azureObjectId);
    assert.equal(ctx.BusinessUnitId, org.businessUnitId);
    assert.equal(ctx.OrganizationId, org.organizationId);
    assert.equal(ctx.OrganizationName, 'sandbox');
    assert.equal(ctx.PrimaryEntityId, contactId);
    assert.equal(ctx.PrimaryEntityName, 'contact');
    assert.equal(ctx.SecondaryEntityName, 'none');
    assert.equal(ctx.CorrelationId, change.correlationId);
    assert.equal(ctx.RequestId, change.requestId);
    assert.equal(ctx.OperationId, dispatcher.systemJobs()[0]!.id);
    assert.deepEqual(ctx.OutputParameters, [{ key: 'id', value: contactId }]);
    assert.deepEqual(ctx.OwningExtension, { Id: s.id, KeyAttributes: [], LogicalName: 'sdkmessageprocessingstep', Name: s.name, RowVersion: null });
    assert.deepEqual(ctx.PreEntityImages, []);
    assert.deepEqual(ctx.PostEntityImages, []);
    assert.equal(ctx.ParentContext.Stage, 30);
    assert.equal(ctx.ParentContext.ParentContext, null);
    assert.deepEqual(ctx.ParentContext.InputParameters[1], { key: 'SuppressDuplicateDetection', value: false });

    const [target] = ctx.InputParameters;
    assert.equal(target.key, 'Target');
    const entity = target.value;
    assert.deepEqual(Object.keys(entity), ['__type', 'Attributes', 'EntityState', 'FormattedValues', 'Id', 'KeyAttributes', 'LogicalName', 'RelatedEntities', 'RowVersion']);
    assert.equal(entity.Id, contactId);
    assert.equal(entity.LogicalName, 'contact');
    const attr = Object.fromEntries(entity.Attributes.map((a: { key: string; value: unknown }) => [a.key, a.value]));
    assert.equal(attr.firstname, 'Ada');
    assert.equal(attr.jobtitle, null);
    assert.equal(attr.donotemail, false);
    assert.equal(attr.contactid, contactId);
    assert.deepEqual(attr.preferredcontactmethodcode, { __type: 'OptionSetValue:http://schemas.microsoft.com/xrm/2011/Contracts', Value: 2 });
    assert.deepEqual(attr.creditlimit, { __type: 'Money:http://schemas.microsoft.com/xrm/2011/Contracts', Value: 2154.32 });
    assert.deepEqual(attr.hs_interests, [100000000, 100000001].map((Value) => ({ __type: 'OptionSetValue:http://schemas.microsoft.com/xrm/2011/Contracts', Value })));
    assert.equal(attr.birthdate, `/Date(${Date.parse('1815-12-10T00:00:00Z')})/`);
    assert.deepEqual(attr.parentcustomerid, {
      __type: 'EntityReference:http://schemas.microsoft.com/xrm/2011/Contracts', Id: '5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d', KeyAttributes: [], LogicalName: 'account', Name: null, RowVersion: null,
    });
    const formatted = Object.fromEntries(entity.FormattedValues.map((a: { key: string; value: string }) => [a.key, a.value]));
    assert.equal(formatted.preferredcontactmethodcode, 'Email');
    assert.equal(formatted.statecode, 'Active');
    assert.equal(formatted.donotemail, 'Allow');
    assert.equal(formatted.hs_interests, 'Sailing; Chess');
    assert.equal(formatted.createdon, '2024-05-01T10:00:00+00:00');
    assert.equal(formatted.firstname, undefined);
  });

  it('sends only the changed columns (plus modifiedon, modifiedby and the key) in an Update Target', async () => {
    registered.push(step());
    feedHandle.emit(updateChange({ jobtitle: 'Analyst', preferredcontactmethodcode: null }));
    await dispatcher.idle();
    assert.equal(receiver.received.length, 1);
    const ctx = receiver.received[0]!.body;
    assert.equal(ctx.MessageName, 'Update');
    assert.deepEqual(ctx.OutputParameters, []);
    const entity = ctx.InputParameters[0].value;
    assert.deepEqual(entity.Attributes.map((a: { key: string }) => a.key), ['jobtitle', 'preferredcontactmethodcode', 'modifiedon', 'modifiedby', 'contactid']);
    assert.deepEqual(entity.Attributes[1], { key: 'preferredcontactmethodcode', value: null });
    assert.equal(entity.Attributes[2].value, `/Date(${Date.parse('2024-05-02T11:30:00Z')})/`);
    assert.equal(entity.Attributes[3].value.LogicalName, 'systemuser');
    assert.equal(receiver.received[0]!.headers['x-ms-dynamics-request-name'], 'Update');
  });

  it('honours filtering attributes on Update, ignores disabled and non-post-operation steps', async () => {
    registered.push(
      step({ name: 'email only', filteringAttributes: ['emailaddress1', 'lastname'] }),
      step({ name: 'disabled', enabled: false }),
      step({ name: 'pre-operation', stage: 20 }),
    );
    feedHandle.emit(updateChange({ jobtitle: 'Analyst' }));
    await dispatcher.idle();
    assert.equal(receiver.received.length, 0);

    feedHandle.emit(updateChange({ LastName: 'Byron' } as Record<string, string>));
    feedHandle.emit(updateChange({ lastname: 'King' }));
    await dispatcher.idle();
    assert.equal(receiver.received.length, 2);
    assert.ok(receiver.received.every((r) => r.body.OwningExtension.Name === 'email only'));
    // Create ignores filtering attributes.
    registered.push(step({ message: 'Create', name: 'create filtered', filteringAttributes: ['emailaddress1'] }));
    feedHandle.emit(createChange());
    await dispatcher.idle();
    assert.equal(receiver.received.length, 3);
  });

  it('retries once on 503, never on 500, and records failed system jobs', async () => {
    registered.push(step());
    receiver.respondWith(503, 200);
    feedHandle.emit(updateChange({ jobtitle: 'A' }));
    await dispatcher.idle();
    assert.equal(receiver.received.length, 2);
    assert.equal(receiver.received[0]!.raw, receiver.received[1]!.raw);
    assert.deepEqual(dispatcher.failedJobs(), []);
    assert.equal(dispatcher.systemJobs()[0]!.attempts, 2);

    receiver.received.length = 0;
    receiver.respondWith(500);
    feedHandle.emit(updateChange({ jobtitle: 'B' }));
    await dispatcher.idle();
    assert.equal(receiver.received.length, 1);

    receiver.received.length = 0;
    receiver.respondWith(504, 502);
    feedHandle.emit(updateChange({ jobtitle: 'C' }));
    await dispatcher.idle();
    assert.equal(receiver.received.length, 2);

    const failed = dispatcher.failedJobs();
    assert.deepEqual(failed.map((j) => [j.httpStatus, j.attempts]), [[500, 1], [502, 2]]);
    assert.equal(failed[0]!.recordId, contactId);
    assert.match(failed[0]!.error!, /HTTP 500/);
  });

  it('gives up after the timeout without retrying', async () => {
    dispatcher.stop();
    const steps: StepRegistry = { stepsFor: () => registered };
    dispatcher = startWebhookDispatcher({ feed: feedHandle.feed, steps, org, timeoutMs: 150, logger: pino({ level: 'silent' }) });
    registered.push(step());
    receiver.setDelay(400);
    try {
      feedHandle.emit(updateChange({ jobtitle: 'slow' }));
      await dispatcher.idle();
    } finally {
      receiver.setDelay(0);
    }
    assert.equal(receiver.received.length, 1);
    const [job] = dispatcher.failedJobs();
    assert.match(job!.error!, /timed out/);
    assert.equal(job!.attempts, 1);
  });

  it('sends HttpHeader settings as headers and HttpQueryString settings as query parameters', async () => {
    const settings = '<settings><setting name="x-hs-key" value="s3cr&amp;t" /><setting name="x-tenant" value="t1"/></settings>';
    registered.push(
      step({ name: 'header', endpoint: endpoint({ authType: 5, authValue: settings }) }),
      step({ name: 'query', endpoint: endpoint({ authType: 6, authValue: settings, url: `${receiver.server.url}/hook?existing=1` }) }),
    );
    feedHandle.emit(updateChange({ jobtitle: 'x' }));
    await dispatcher.idle();
    const byName = Object.fromEntries(receiver.received.map((r) => [r.body.OwningExtension.Name, r]));
    assert.equal(byName.header!.headers['x-hs-key'], 's3cr&t');
    assert.equal(byName.header!.headers['x-tenant'], 't1');
    assert.equal(byName.header!.query.code, undefined);
    assert.deepEqual({ ...byName.query!.query }, { existing: '1', 'x-hs-key': 's3cr&t', 'x-tenant': 't1' });
    assert.equal(byName.query!.headers['x-hs-key'], undefined);
  });

  it('parses settings regardless of attribute order and quotes', () => {
    assert.deepEqual(parseSettings(`<settings><setting value='v1' name='n1'/><setting name="n2" value=""/></settings>`), [['n1', 'v1'], ['n2', '']]);
    assert.deepEqual(parseSettings(null), []);
  });

  it('stop() unsubscribes: later changes are not delivered', async () => {
    registered.push(step());
    dispatcher.stop();
    feedHandle.emit(updateChange({ jobtitle: 'after stop' }));
    await dispatcher.idle();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(receiver.received.length, 0);
  });
});

describe('Dataverse sandbox end to end: steps registered through the Web API fire webhooks', () => {
  const CREATE = '9ebdbb1b-ea3e-db11-86a7-000a3a5473e8';
  const UPDATE = '20bebb1b-ea3e-db11-86a7-000a3a5473e8';
  const KEY = 'per-tenant-webhook-key';
  let sb: DataverseSandbox;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let admin: DynamicsWebApi;
  let person: DynamicsWebApi;
  let steps: { create: string; update: string; disabled: string };
  const savedLogLevel = process.env.SANDBOX_LOG_LEVEL;

  /** The message filter of (message, table), as the Plug-in Registration Tool looks it up. */
  async function filterId(messageId: string, entity: string): Promise<string> {
    const res = await admin.retrieveMultiple({
      collection: 'sdkmessagefilters', select: ['sdkmessagefilterid'],
      filter: `primaryobjecttypecode eq '${entity}' and _sdkmessageid_value eq ${messageId}`,
    });
    return res.value![0]!.sdkmessagefilterid as string;
  }

  const fromStep = (id: string) => receiver.received.filter((r) => r.body.OwningExtension.Id === id);

  before(async () => {
    process.env.SANDBOX_LOG_LEVEL = 'silent'; // failed deliveries below are on purpose
    receiver = await startReceiver();
    sb = await startDataverseSandbox();
    // The product's own token path (msal + the sandbox CA), not a hand-made token request.
    const tokens = createDataverseTokenSource({
      orgUrl: sb.orgUrl, authorityUrl: sb.authorityUrl, clientId: sb.clientId, clientSecret: sb.clientSecret,
      sandbox: { caCert: sb.caCert, authorityMetadata: sb.authorityMetadata, cloudDiscoveryMetadata: sb.cloudDiscoveryMetadata },
    });
    admin = new DynamicsWebApi({ serverUrl: sb.orgUrl, onTokenRefresh: () => tokens.getToken() });
    person = new DynamicsWebApi({ serverUrl: sb.orgUrl, onTokenRefresh: async () => sb.userToken });

    const endpointId = (await admin.create({
      collection: 'serviceendpoints',
      data: {
        name: 'HubSpot sync', contract: 8, connectionmode: 1, authtype: 4, authvalue: KEY, messageformat: 2, namespaceformat: 2,
        userclaim: 1, url: `${receiver.server.url}/api/webhooks/dataverse`, path: '', solutionnamespace: '',
      },
    })) as string;
    const register = async (name: string, messageId: string, extra: Record<string, unknown> = {}) =>
      (await admin.create({
        collection: 'sdkmessageprocessingsteps',
        data: {
          name, stage: 40, mode: 1, rank: 1, supporteddeployment: 0, asyncautodelete: false,
          'sdkmessageid@odata.bind': `/sdkmessages(${messageId})`,
          'sdkmessagefilterid@odata.bind': `/sdkmessagefilters(${await filterId(messageId, 'contact')})`,
          'eventhandler_serviceendpoint@odata.bind': `/serviceendpoints(${endpointId})`,
          ...extra,
        },
      })) as string;
    steps = {
      create: await register('HubSpot sync: Create of contact', CREATE),
      update: await register('HubSpot sync: Update of contact', UPDATE, { filteringattributes: 'lastname,emailaddress1' }),
      disabled: await register('Disabled: Update of contact', UPDATE),
    };
    await admin.update({ collection: 'sdkmessageprocessingsteps', key: steps.disabled, data: { statecode: 1, statuscode: 2 } });
  });
  after(async () => {
    await sb?.close();
    await receiver?.server.close();
    if (savedLogLevel === undefined) delete process.env.SANDBOX_LOG_LEVEL;
    else process.env.SANDBOX_LOG_LEVEL = savedLogLevel;
  });

  it('fires Create and filtered Update as the calling user, with the key, and only changed columns', async () => {
    const contactId = (await person.create({
      collection: 'contacts', data: { firstname: 'Grace', lastname: 'Hopper', emailaddress1: 'grace@example.com', preferredcontactmethodcode: 2 },
    })) as string;
    await sb.webhooks.idle();
    const [created] = fromStep(steps.create);
    assert.ok(created, 'Create webhook received');
    assert.equal(created.query.code, KEY);
    assert.equal(created.path, '/api/webhooks/dataverse');
    assert.equal(created.headers['x-ms-dynamics-entity-name'], 'contact');
    assert.equal(created.headers['x-ms-dynamics-request-name'], 'Create');
    assert.equal(created.headers['x-ms-dynamics-organization'], 'sandbox.crm.dynamics.com');
    assert.equal(created.headers['x-ms-correlation-request-id'], created.body.CorrelationId);
    assert.equal(created.body.InitiatingUserId, sb.userId);
    assert.equal(created.body.UserId, sb.userId);
    assert.equal(created.body.PrimaryEntityId, contactId);
    assert.deepEqual(created.body.OutputParameters, [{ key: 'id', value: contactId }]);
    const createTarget = created.body.InputParameters[0].value;
    const createAttrs = Object.fromEntries(createTarget.Attributes.map((a: { key: string; value: unknown }) => [a.key, a.value]));
    assert.equal(createAttrs.firstname, 'Grace');
    assert.deepEqual(createAttrs.preferredcontactmethodcode, { __type: 'OptionSetValue:http://schemas.microsoft.com/xrm/2011/Contracts', Value: 2 });
    assert.match(String(createAttrs.createdon), /^\/Date\(\d+\)\/$/);
    assert.ok(created.raw.includes('\\/Date('));
    assert.equal(createTarget.FormattedValues.find((f: { key: string }) => f.key === 'preferredcontactmethodcode')?.value, 'Email');
    assert.equal(fromStep(steps.update).length, 0, 'an Update step does not fire on Create');

    // jobtitle is not among the filtering attributes: nothing is sent.
    await person.update({ collection: 'contacts', key: contactId, data: { jobtitle: 'Rear Admiral' } });
    await sb.webhooks.idle();
    assert.equal(fromStep(steps.update).length, 0);

    await person.update({ collection: 'contacts', key: contactId, data: { lastname: 'Murray Hopper' } });
    await sb.webhooks.idle();
    const updates = fromStep(steps.update);
    assert.equal(updates.length, 1);
    const update = updates[0]!.body;
    assert.equal(update.MessageName, 'Update');
    assert.equal(update.InitiatingUserId, sb.userId);
    const keys = update.InputParameters[0].value.Attributes.map((a: { key: string }) => a.key).sort();
    // What the request set plus modifiedon/modifiedby and the key (and the store's derived fullname): no untouched columns.
    for (const column of ['contactid', 'lastname', 'modifiedby', 'modifiedon']) assert.ok(keys.includes(column), column);
    for (const column of ['firstname', 'emailaddress1', 'jobtitle', 'preferredcontactmethodcode', 'createdon']) assert.ok(!keys.includes(column), column);
    assert.equal(fromStep(steps.disabled).length, 0, 'a disabled step is silent');

    // The application user's own writes carry its id, which is how the product recognises its echo.
    await admin.update({ collection: 'contacts', key: contactId, data: { emailaddress1: 'grace@navy.example.com' } });
    await sb.webhooks.idle();
    assert.equal(fromStep(steps.update).at(-1)!.body.InitiatingUserId, sb.applicationUserId);
  });

  it('retries once on 503 but not on 500', async () => {
    const contactId = (await person.create({ collection: 'contacts', data: { lastname: 'Retry' } })) as string;
    await sb.webhooks.idle();
    receiver.received.length = 0;

    receiver.respondWith(503, 200);
    await person.update({ collection: 'contacts', key: contactId, data: { lastname: 'Retry 503' } });
    await sb.webhooks.idle();
    assert.equal(fromStep(steps.update).length, 2);

    receiver.received.length = 0;
    receiver.respondWith(500);
    await person.update({ collection: 'contacts', key: contactId, data: { lastname: 'Retry 500' } });
    await sb.webhooks.idle();
    assert.equal(fromStep(steps.update).length, 1);
  });
});
