import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { listen, type RunningServer } from '../../../sandbox/common/listen.ts';
import { parseEmbedResponse, type EmbedResponse } from '../../../dynamics-solution/webresource/embed-contract.ts';
import { activityEntry, shortTitle } from '../../../server/src/embed/activity.ts';
import { createHttpApp } from '../../../server/src/http/app.ts';
import { generateApiKey } from '../../../server/src/tenants/create.ts';
import { SECRET_NAMES } from '../../../server/src/tenants/settings.ts';
import { startSyncHarness, type SyncHarness } from '../sync/harness.ts';
import { intakeFor, makeTenant, silent } from './harness.ts';

/**
 * The embed API the HubSpot tab calls, over real HTTP: a tenant wired to both sandboxes, records synced by the
 * real worker, HubSpot read live through the connector. Asserts what the panel receives for each case.
 */
describe('embed API GET /embed/v1/records/:entity/:id', function () {
  this.timeout(60_000);
  let h: SyncHarness;
  let server: RunningServer;
  let apiKey: string;
  let orgOrigin: string;
  let other: Awaited<ReturnType<typeof makeTenant>>;

  const call = (path: string, o: { key?: string; origin?: string; method?: string; headers?: Record<string, string> } = {}) => fetch(`${server.url}${path}`, {
    method: o.method ?? 'GET',
    headers: { ...(o.key ? { authorization: `Bearer ${o.key}` } : {}), ...(o.origin ? { origin: o.origin } : {}), ...o.headers },
  });
  const issue = async (tenantId: string, key: string) => {
    const res = await call(`/api/tenants/${tenantId}/embed-credential`, { key, method: 'POST' });
    assert.equal(res.status, 201);
    return ((await res.json()) as { embedCredential: string }).embedCredential;
  };
  const hsUser = async (path: string, body: unknown) => {
    const res = await fetch(`${h.sb.hubspot.baseUrl}${path}`, {
      method: 'POST', headers: { authorization: `Bearer ${h.sb.hubspot.portal.userToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(res.ok, `${path}: ${res.status} ${text}`);
    return JSON.parse(text) as { id: string };
  };
  /** A HubSpot contact synced to a new Dynamics lead by the real worker; returns both ids. */
  const syncedContact = async (properties: Record<string, string>) => {
    const contact = await hsUser('/crm/v3/objects/contacts', { properties });
    await h.enqueue('hubspot', 'contacts', contact.id);
    await h.drain();
    const link = await h.store.links.findByHubSpot(h.tenantId, { object: 'contacts', id: contact.id });
    assert.ok(link, 'the worker linked the contact');
    return { hubspotId: contact.id, leadId: link.dynamics.id };
  };
  const view = async (entity: string, id: string, key: string): Promise<EmbedResponse> => {
    const res = await call(`/embed/v1/records/${entity}/${id}`, { key, origin: orgOrigin });
    assert.equal(res.status, 200, await res.clone().text());
    return parseEmbedResponse(await res.json());
  };

  before(async () => {
    h = await startSyncHarness();
    const { intake, queue, metrics } = intakeFor(h.store);
    const scheduler = { pollNow: async () => { throw new Error('unused'); }, lastResult: () => undefined };
    server = await listen(createHttpApp({ store: h.store, metrics, logger: silent, intake, queue, scheduler, contexts: h.contexts }));
    apiKey = generateApiKey();
    await h.store.secrets.put(h.tenantId, SECRET_NAMES.apiKey, apiKey);
    orgOrigin = new URL(h.sb.dataverse.orgUrl).origin;
    other = await makeTenant(h.store);
  });
  after(async () => {
    await server?.close();
    await h?.close();
  });

  it('issues a credential through the admin API, returns it once, and a new one replaces the old at once', async () => {
    assert.equal((await call(`/api/tenants/${h.tenantId}/embed-credential`, { method: 'POST' })).status, 401, 'needs the tenant API key');
    const first = await issue(h.tenantId, apiKey);
    assert.match(first, /^hdse_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/);
    assert.equal(await h.store.secrets.get(h.tenantId, SECRET_NAMES.embedCredential), first, 'kept as an encrypted tenant secret');
    const id = randomUUID();
    assert.equal((await call(`/embed/v1/records/contact/${id}`, { key: first })).status, 200);
    const second = await issue(h.tenantId, apiKey);
    assert.notEqual(second, first);
    const old = await call(`/embed/v1/records/contact/${id}`, { key: first, origin: orgOrigin });
    assert.equal(old.status, 401);
    assert.equal(((await old.json()) as { error: { code: string } }).error.code, 'invalid_credential');
    assert.equal((await call(`/embed/v1/records/contact/${id}`, { key: second })).status, 200);
  });

  it('grants nothing else: the admin API refuses the embed credential, the embed API refuses the API key', async () => {
    const credential = await issue(h.tenantId, apiKey);
    assert.equal((await call(`/api/tenants/${h.tenantId}`, { key: credential })).status, 403);
    assert.equal((await call(`/api/tenants/${h.tenantId}/errors`, { key: credential })).status, 403);
    assert.equal((await call(`/embed/v1/records/contact/${randomUUID()}`, { key: apiKey })).status, 401);
    const none = await call(`/embed/v1/records/contact/${randomUUID()}`);
    assert.equal(none.status, 401);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer /);
    const forged = `hdse_${Buffer.from(h.tenantId).toString('base64url')}.${'A'.repeat(43)}`;
    assert.equal((await call(`/embed/v1/records/contact/${randomUUID()}`, { key: forged })).status, 401);
  });

  it('answers CORS preflights from the org, allowing the Authorization header, and only from the org', async () => {
    const path = `/embed/v1/records/lead/${randomUUID()}`;
    const pre = await call(path, { method: 'OPTIONS', origin: orgOrigin, headers: { 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization,accept' } });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), orgOrigin);
    assert.match(pre.headers.get('access-control-allow-headers') ?? '', /Authorization/);
    assert.match(pre.headers.get('access-control-allow-methods') ?? '', /GET/);
    assert.match(pre.headers.get('vary') ?? '', /Origin/);
    const stranger = await call(path, { method: 'OPTIONS', origin: 'https://evil.example.com', headers: { 'access-control-request-method': 'GET' } });
    assert.equal(stranger.status, 403);
    assert.equal(stranger.headers.get('access-control-allow-origin'), null);
    // A refused credential is still readable by the panel (so it can say "no access" rather than "unreachable").
    const denied = await call(path, { key: 'hdse_bogus.x', origin: orgOrigin });
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get('access-control-allow-origin'), orgOrigin);
  });

  it('a linked record: lifecycle stage and lead status as labels, owner, recent activity, analytics, the HubSpot link, synced', async () => {
    const credential = await issue(h.tenantId, apiKey);
    const owner = await (await fetch(`${h.sb.hubspot.baseUrl}/__sandbox/portals/${h.sb.hubspot.portal.portalId}/owners`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ firstName: 'Dana', lastName: 'Sales', email: 'dana.sales@sandbox.example.com' }), // the Dynamics person user, so owner sync matches
    })).json() as { id: string };
    const { hubspotId, leadId } = await syncedContact({
      email: 'pat.embed@example.com', firstname: 'Pat', lastname: 'Embed', lifecyclestage: 'marketingqualifiedlead', hs_lead_status: 'NEW', hubspot_owner_id: owner.id,
    });
    const activity: Array<[string, number, Record<string, string>]> = [
      ['emails', 198, { hs_email_subject: 'Re: pricing for 50 seats', hs_timestamp: '2026-11-05T10:00:00Z' }],
      ['calls', 194, { hs_call_title: 'Discovery call', hs_timestamp: '2026-11-04T10:00:00Z' }],
      ['meetings', 200, { hs_meeting_title: 'Product demo', hs_timestamp: '2026-11-06T15:00:00Z' }],
      ['notes', 202, { hs_note_body: '<p>Budget approved &amp; <b>signed</b> off</p>', hs_timestamp: '2026-11-03T09:00:00Z' }],
      ['tasks', 204, { hs_task_subject: 'Send the quote', hs_timestamp: '2026-11-07T09:00:00Z' }],
    ];
    for (const [type, typeId, properties] of activity) {
      await hsUser(`/crm/v3/objects/${type}`, { properties, associations: [{ to: { id: hubspotId }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: typeId }] }] });
    }
    await hsUser(`/__sandbox/portals/${h.sb.hubspot.portal.portalId}/contacts/${hubspotId}/activity`, {
      visits: [{ at: '2026-11-01T08:00:00Z', pages: ['https://example.com/', 'https://example.com/pricing'] }, { at: '2026-11-02T08:00:00Z', pages: ['https://example.com/pricing/enterprise'] }],
      formSubmissions: [{ form: 'Contact sales', at: '2026-11-02T08:05:00Z' }],
      marketingEmails: [{ name: 'November news', at: '2026-11-01T07:00:00Z', opened: true, clicked: true }, { name: 'Webinar', at: '2026-11-02T07:00:00Z', opened: true }],
    });

    const body = await view('lead', leadId.toUpperCase(), credential);
    assert.equal(body.status, 'linked');
    const hs = body.hubspot!;
    assert.equal(hs.id, hubspotId);
    assert.equal(hs.url, `https://app.hubspot.com/contacts/${h.sb.hubspot.portal.portalId}/record/0-1/${hubspotId}`);
    assert.equal(hs.lifecyclestage, 'Marketing Qualified Lead');
    assert.equal(hs.hs_lead_status, 'New');
    assert.deepEqual(hs.owner, { name: 'Dana Sales', email: 'dana.sales@sandbox.example.com' });
    assert.deepEqual(hs.recentEngagement.map((e) => `${e.type}|${e.title}|${e.occurredAt}`), [
      'task|Send the quote|2026-11-07T09:00:00.000Z',
      'meeting|Product demo|2026-11-06T15:00:00.000Z',
      'email|Re: pricing for 50 seats|2026-11-05T10:00:00.000Z',
      'call|Discovery call|2026-11-04T10:00:00.000Z',
      'note|Budget approved & signed off|2026-11-03T09:00:00.000Z',
      'form_submission|Contact sales|2026-11-02T08:05:00.000Z',
      'page_view|https://example.com/pricing/enterprise|2026-11-02T08:00:00.000Z',
    ]);
    assert.deepEqual(hs.analytics, { pageViews: 3, formSubmissions: 1, emailsOpened: 2, emailsClicked: 1, lastVisit: '2026-11-02T08:00:00.000Z' });
    assert.equal(body.sync.status, 'synced');
    assert.deepEqual(body.sync.errors, []);
    assert.ok(body.sync.lastSyncedAt && Date.now() - Date.parse(body.sync.lastSyncedAt) < 60_000);
  });

  it('a record whose sync failed shows each stored error with what, why and how to fix', async () => {
    const credential = await issue(h.tenantId, apiKey);
    const sam = (await (await fetch(`${h.sb.hubspot.baseUrl}/crm/v3/owners/?email=sam.seller@example.com`, { headers: { authorization: `Bearer ${h.sb.hubspot.portal.accessToken}` } })).json() as { results: Array<{ id: string }> }).results[0];
    const { leadId } = await syncedContact({ email: 'lee.broken@example.com', lastname: 'Broken', hs_lead_status: 'ATTEMPTED_TO_CONTACT', hubspot_owner_id: sam.id });
    const body = await view('lead', leadId, credential);
    assert.equal(body.status, 'linked');
    assert.equal(body.sync.status, 'error');
    const texts = body.sync.errors.map((e) => `${e.what} / ${e.why} / ${e.fix}`).join('\n');
    assert.match(texts, /Dropdown values without a matching option in Dynamics were not sent \/ Unmatched: .*ATTEMPTED_TO_CONTACT.* \/ Add an option/);
    assert.match(texts, /sam\.seller@example\.com has no Dynamics user with the same email/);
    assert.ok(body.sync.errors.every((e) => e.what && e.why && e.fix));
  });

  it('an unknown record is not_synced (never 404); in UAT mode a record without the marker is excluded', async () => {
    const credential = await issue(h.tenantId, apiKey);
    assert.deepEqual(await view('contact', randomUUID(), credential), { status: 'not_synced', sync: { lastSyncedAt: null, status: 'pending', errors: [] } });
    await h.store.tenants.update(h.tenantId, { mode: 'uat' });
    try {
      const create = async (data: Record<string, string>) =>
        ((await h.dynamicsUser.create({ collection: 'contacts', data, returnRepresentation: true })) as { contactid: string }).contactid;
      const outside = await create({ lastname: 'Outside', emailaddress1: 'outside@example.com' });
      const inside = await create({ lastname: 'Inside', emailaddress1: 'inside@ss.test.example.com' });
      assert.equal((await view('contact', outside, credential)).sync.status, 'excluded');
      assert.equal((await view('contact', inside, credential)).sync.status, 'pending');
    } finally {
      await h.store.tenants.update(h.tenantId, { mode: 'production' });
    }
  });

  it('keeps tenants apart: another tenant\'s credential reads none of these records, and is refused on this org\'s pages', async () => {
    const mine = await issue(h.tenantId, apiKey);
    const theirs = await issue(other.tenant.id, other.apiKey);
    const { leadId } = await syncedContact({ email: 'kept.apart@example.com', lastname: 'Apart' });
    assert.equal((await view('lead', leadId, mine)).status, 'linked');
    const fromOrg = await call(`/embed/v1/records/lead/${leadId}`, { key: theirs, origin: orgOrigin });
    assert.equal(fromOrg.status, 403);
    assert.equal(((await fromOrg.json()) as { error: { code: string } }).error.code, 'other_organization');
    const direct = await call(`/embed/v1/records/lead/${leadId}`, { key: theirs });
    assert.equal(direct.status, 200);
    assert.equal(((await direct.json()) as EmbedResponse).status, 'not_synced', 'the other tenant has no such link');
  });

  it('refuses tables the sync does not cover (403) and ids that are not GUIDs (400)', async () => {
    const credential = await issue(h.tenantId, apiKey);
    const table = await call(`/embed/v1/records/incident/${randomUUID()}`, { key: credential });
    assert.equal(table.status, 403);
    assert.equal(((await table.json()) as { error: { code: string } }).error.code, 'table_not_synced');
    assert.equal((await call('/embed/v1/records/contact/not-a-guid', { key: credential })).status, 400);
  });

  it('says so when HubSpot cannot be read, instead of failing silently', async () => {
    const credential = await issue(h.tenantId, apiKey);
    const { leadId } = await syncedContact({ email: 'hubspot.down@example.com', lastname: 'Down' });
    await fetch(`${h.sb.hubspot.baseUrl}/__sandbox/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rate500: 1 }) });
    try {
      const res = await call(`/embed/v1/records/lead/${leadId}`, { key: credential, origin: orgOrigin });
      assert.ok(res.status === 502 || res.status === 504, `got ${res.status}`);
      assert.equal(res.headers.get('access-control-allow-origin'), orgOrigin);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, /^HubSpot (could not be read|did not answer)/);
    } finally {
      await fetch(`${h.sb.hubspot.baseUrl}/__sandbox/faults`, { method: 'DELETE' });
    }
  });

  it('shortens activity titles for the panel: plain text of HTML bodies, one line, at most 120 characters', () => {
    assert.equal(shortTitle('<div>Line one<br>line&nbsp;two &lt;ok&gt;</div>\n\n'), 'Line one line two <ok>');
    const long = shortTitle(`Subject ${'x'.repeat(200)}`);
    assert.equal(long.length, 120);
    assert.ok(long.endsWith('…'));
    assert.deepEqual(activityEntry('notes', { hs_timestamp: '1767225600000', hs_note_body: '' }), { type: 'note', title: '(empty note)', occurredAt: '2026-01-01T00:00:00.000Z' });
    assert.equal(activityEntry('calls', { hs_call_title: 'No time' }), null, 'an activity without hs_timestamp has no place on the timeline');
  });
});
