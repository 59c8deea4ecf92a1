import assert from 'node:assert/strict';
import { parseHubSpotEvents, WebhookPayloadError } from '../../../server/src/intake/hubspot-events.ts';
import { parseDynamicsContext } from '../../../server/src/intake/dynamics-context.ts';
import { intakeFor, makeTenant, sqliteStore, type TempStore } from '../http/harness.ts';

const APP = '3100001';
const GUID = '0a9f3c51-7d2e-4b8a-9c1f-5e6d7a8b9c0d';
const APP_USER = 'a1b2c3d4-0000-4000-8000-000000000001';

function event(portalId: number, over: Record<string, unknown> = {}) {
  return {
    eventId: 100, subscriptionId: 7, portalId, appId: Number(APP), occurredAt: 1_750_000_000_000, subscriptionType: 'contact.propertyChange',
    attemptNumber: 0, objectId: 501, propertyName: 'email', propertyValue: 'secret@example.com', changeSource: 'CRM_UI', sourceId: 'userId:1', ...over,
  };
}

function context(over: Record<string, unknown> = {}) {
  return {
    PrimaryEntityName: 'contact', PrimaryEntityId: GUID, MessageName: 'Update', OperationId: 'op-1', InitiatingUserId: 'b0000000-0000-4000-8000-000000000002',
    Depth: 1, InputParameters: [{ key: 'Target', value: { Attributes: [{ key: 'lastname', value: 'Hopper' }] } }], ...over,
  };
}

describe('intake parsers (fixes)', () => {
  it('keeps a numeric sourceId, so our own app is still recognised', () => {
    const [c] = parseHubSpotEvents([event(1, { changeSource: 'INTEGRATION', sourceId: 3100001 })]);
    assert.equal(c.sourceId, '3100001');
  });

  it('ignores a non-numeric association target instead of queueing garbage', () => {
    const [c] = parseHubSpotEvents([event(1, { subscriptionType: 'contact.associationChange', objectId: undefined, fromObjectId: 5, toObjectId: 'x', associationType: 'CONTACT_TO_COMPANY' })]);
    assert.equal(c.related, undefined);
  });

  it('gives Dataverse contexts without OperationId/RequestId distinct dedupe keys', () => {
    const a = parseDynamicsContext(context({ OperationId: undefined, CorrelationId: 'c1', OperationCreatedOn: '/Date(1)/' }))!;
    const b = parseDynamicsContext(context({ OperationId: undefined, CorrelationId: 'c2', OperationCreatedOn: '/Date(2)/' }))!;
    assert.notEqual(a.eventKey, b.eventKey);
    assert.equal(parseDynamicsContext(context())!.eventKey, parseDynamicsContext(context())!.eventKey, 'a redelivery keeps its key');
  });
});

describe('intake: deliveries → inbox + queue', () => {
  let t: TempStore;
  beforeEach(async () => (t = await sqliteStore()));
  afterEach(async () => t.close());

  it('records HubSpot events, coalesces repeats into one job per record, drops redeliveries', async () => {
    const { intake } = intakeFor(t.store);
    const { tenant, portalId } = await makeTenant(t.store);
    const r1 = await intake.acceptHubSpotDelivery([event(portalId, { eventId: 1 }), event(portalId, { eventId: 2, propertyName: 'firstname' })]);
    assert.deepEqual(r1, { accepted: 2, duplicates: 0, echoes: 0, unknownPortal: 0 });
    const r2 = await intake.acceptHubSpotDelivery([event(portalId, { eventId: 1 })]);
    assert.deepEqual(r2, { accepted: 0, duplicates: 1, echoes: 0, unknownPortal: 0 });
    const jobs = await t.store.db.kysely.selectFrom('jobs').selectAll().execute();
    assert.equal(jobs.length, 1);
    assert.deepEqual([jobs[0].tenant_id, jobs[0].system, jobs[0].object_type, jobs[0].record_id, jobs[0].coalesced_count], [tenant.id, 'hubspot', 'contacts', '501', 1]);
    const inbox = await t.store.inbox.list(tenant.id);
    assert.equal(inbox.length, 2);
    assert.ok(!JSON.stringify(inbox).includes('secret@example.com'), 'no field values in the inbox');
  });

  it('queues both ends of an association change', async () => {
    const { intake } = intakeFor(t.store);
    const { portalId } = await makeTenant(t.store);
    await intake.acceptHubSpotDelivery([event(portalId, {
      subscriptionType: 'contact.associationChange', objectId: undefined, fromObjectId: 11, toObjectId: 22, associationType: 'CONTACT_TO_COMPANY',
    })]);
    const jobs = await t.store.db.kysely.selectFrom('jobs').select(['object_type', 'record_id']).orderBy('id').execute();
    assert.deepEqual(jobs, [{ object_type: 'contacts', record_id: '11' }, { object_type: 'companies', record_id: '22' }]);
  });

  it('drops our own app\'s HubSpot changes and unknown portals, counting echoes', async () => {
    const { intake, metrics } = intakeFor(t.store, { hubspotAppId: APP });
    const { portalId } = await makeTenant(t.store);
    const r = await intake.acceptHubSpotDelivery([
      event(portalId, { eventId: 1, changeSource: 'INTEGRATION', sourceId: APP }),
      event(portalId, { eventId: 2, changeSource: 'INTEGRATION', sourceId: '999' }), // another integration: kept
      event(123, { eventId: 3 }),
    ]);
    assert.deepEqual(r, { accepted: 1, duplicates: 0, echoes: 1, unknownPortal: 1 });
    const echo = (await metrics.echoesSuppressed.get()).values.find((v) => v.labels.layer === 'source');
    assert.equal(echo?.value, 1);
  });

  it('refuses a malformed delivery as a whole, without writing any of it', async () => {
    const { intake } = intakeFor(t.store);
    const { portalId } = await makeTenant(t.store);
    await assert.rejects(intake.acceptHubSpotDelivery([event(portalId), { subscriptionType: 'contact.creation', portalId }]), WebhookPayloadError);
    await assert.rejects(intake.acceptHubSpotDelivery({ not: 'an array' }), /JSON array/);
    assert.equal((await t.store.db.kysely.selectFrom('jobs').selectAll().execute()).length, 0);
  });

  it('records Dataverse changes, drops redeliveries and our application user\'s own writes', async () => {
    const { intake, metrics } = intakeFor(t.store);
    const { tenant } = await makeTenant(t.store, { applicationUserId: APP_USER.toUpperCase() });
    assert.equal((await intake.acceptDynamicsWebhook(tenant, context())).status, 'accepted');
    assert.equal((await intake.acceptDynamicsWebhook(tenant, context())).status, 'duplicate');
    assert.equal((await intake.acceptDynamicsWebhook(tenant, context({ OperationId: 'op-2', InitiatingUserId: APP_USER }))).status, 'echo');
    assert.equal((await intake.acceptDynamicsWebhook(tenant, context({ PrimaryEntityName: 'incident' }))).status, 'ignored');
    const jobs = await t.store.db.kysely.selectFrom('jobs').selectAll().execute();
    assert.deepEqual(jobs.map((j) => [j.system, j.object_type, j.record_id]), [['dynamics', 'contact', GUID]]);
    assert.equal((await metrics.echoesSuppressed.get()).values.find((v) => v.labels.direction === 'toHubSpot')?.value, 1);
  });
});
