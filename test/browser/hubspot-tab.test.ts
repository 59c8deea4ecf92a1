import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { FrameLocator, Page } from 'playwright-core';
import { connectRequests } from '../../dynamics-solution/connect.ts';
import { buildSolutionPackages } from '../../dynamics-solution/generate.ts';
import { describeSandboxes, startSandboxes, type Sandboxes } from '../../sandbox/start.ts';
import { loadConfig } from '../../server/src/config.ts';
import { startServer, type RunningServer } from '../../server/src/main.ts';
import { connectTenant, createTenant, registerHubSpotAppWebhooks } from '../../server/src/tenants/index.ts';
import { artifact, launchChromium, type Browser } from './chromium.ts';

/**
 * The HubSpot tab as a Dynamics user sees it, in headless Chromium: both sandboxes and the sync server run
 * here, the generated managed solution is imported into the Dataverse sandbox and connected the way a
 * customer does it (connect.ts), a HubSpot contact with activity syncs to a Dynamics lead through the real
 * webhooks, and the sandbox's model-driven form page (main.aspx) hosts the web resource with PassParameters.
 * Every state is checked by what the panel shows; screenshots land in test-artifacts/.
 */
describe('browser: the HubSpot tab on a Dynamics form', function () {
  this.timeout(120_000);
  const TENANT = 'tab';
  let browser: Browser;
  let sb: Sandboxes;
  let server: RunningServer;
  let dataDir: string;
  let apiKey: string;
  let webhookKey: string;
  let linked: { hubspotId: string; leadId: string };

  const dv = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${sb.dataverse.orgUrl}/api/data/v9.2/${path}`, {
      method, headers: { authorization: `Bearer ${sb.dataverse.userToken}`, 'content-type': 'application/json', accept: 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(res.ok, `Dataverse ${method} ${path}: HTTP ${res.status} ${text}`);
    return { headers: res.headers, json: text ? JSON.parse(text) : undefined };
  };
  const hs = async (path: string, body: unknown) => {
    const res = await fetch(`${sb.hubspot.baseUrl}${path}`, {
      method: 'POST', headers: { authorization: `Bearer ${sb.hubspot.portal.userToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(res.ok, `HubSpot ${path}: HTTP ${res.status} ${text}`);
    return JSON.parse(text) as { id: string };
  };
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}/api/tenants/${TENANT}${path}`, {
      method, headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(res.ok, `admin ${method} ${path}: HTTP ${res.status} ${text}`);
    return JSON.parse(text);
  };
  /** What the connect step writes into Dynamics: the endpoint's URL and key, the tab's config.js, and publishes it. */
  const connectDynamics = async (embedCredential: string) => {
    for (const r of connectRequests({ serverUrl: server.url, tenantId: TENANT, webhookKey, embedCredential })) await dv(r.method, r.path, r.body);
  };
  const until = async (what: string, check: () => Promise<boolean>, timeoutMs = 30_000) => {
    const end = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  /**
   * Opens the record's form, waits until the tab has rendered, screenshots the page and returns the tab, with
   * the URLs the tab asked the sync server's embed API for (they carry what the tab read from the record).
   */
  const openTab = async (entity: 'lead' | 'contact', id: string, shot: string): Promise<{ page: Page; tab: FrameLocator; text: string; embedCalls: URL[] }> => {
    const page = await browser.context.newPage();
    const embedCalls: URL[] = [];
    // Frames' requests are reported on their page too.
    page.on('request', (r) => {
      if (r.url().startsWith(server.url) && r.method() === 'GET') embedCalls.push(new URL(r.url()));
    });
    const res = await page.goto(`${sb.dataverse.orgUrl}/main.aspx?etn=${entity}&id=${id}&pagetype=entityrecord`);
    assert.equal(res?.status(), 200);
    const tab = page.frameLocator(`iframe#WebResource_hds_hubspot`);
    await tab.locator('main#app[aria-busy="false"]').waitFor({ timeout: 20_000 });
    await page.screenshot({ path: artifact(shot), fullPage: true });
    const text = await tab.locator('main#app').innerText();
    // Every form open signs in, so the tab's own read of the record never fails here, whatever the panel shows.
    assert.doesNotMatch(text, /Could not read/);
    return { page, tab, text, embedCalls };
  };

  before(async () => {
    browser = await launchChromium();
    sb = await startSandboxes({ host: '127.0.0.1', hubspotPort: 0, dataversePort: 0, identityPort: 0 });
    const info = describeSandboxes(sb);
    dataDir = mkdtempSync(join(tmpdir(), 'hds-tab-'));
    server = await startServer({
      config: loadConfig({ PORT: '0', DATA_DIR: dataDir, HUBSPOT_CLIENT_ID: info.hubspot.clientId, HUBSPOT_CLIENT_SECRET: info.hubspot.clientSecret, HUBSPOT_APP_ID: String(info.hubspot.appId) }),
      logger: pino({ level: 'silent' }), host: '127.0.0.1',
    });
    const created = await createTenant(server.store, {
      id: TENANT, mode: 'production', mainSwitch: true,
      settings: {
        hubspot: { portalId: info.hubspot.portalId, basePath: info.hubspot.baseUrl, appId: String(info.hubspot.appId), clientId: info.hubspot.clientId },
        dynamics: {
          orgUrl: info.dataverse.orgUrl, authorityUrl: info.dataverse.authorityUrl, tenantId: info.dataverse.tenantId, clientId: info.dataverse.clientId,
          sandbox: { caCert: info.dataverse.caCert, authorityMetadata: info.dataverse.authorityMetadata, cloudDiscoveryMetadata: info.dataverse.cloudDiscoveryMetadata },
        },
      },
      secrets: { hubspotClientSecret: info.hubspot.clientSecret, hubspotRefreshToken: info.hubspot.refreshToken, hubspotAccessToken: info.hubspot.accessToken, dynamicsClientSecret: info.dataverse.clientSecret },
    });
    ({ apiKey, webhookKey } = created);

    // The customer's part in Dynamics: import the managed zip built for this server, then connect it.
    const [managed] = (await buildSolutionPackages({ serverUrl: server.url })).packages;
    await dv('POST', 'ImportSolution', { OverwriteUnmanagedCustomizations: false, PublishWorkflows: true, CustomizationFile: managed.bytes.toString('base64'), ImportJobId: randomUUID() });
    await connectDynamics((await admin('POST', '/embed-credential')).embedCredential);
    await connectTenant(server.store, server.contexts, TENANT, { publicUrl: server.url });
    await registerHubSpotAppWebhooks({ basePath: info.hubspot.baseUrl, appId: info.hubspot.appId, developerApiKey: info.hubspot.developerApiKey, targetUrl: `${server.url}/webhooks/hubspot` });
    await server.scheduler.pollNow(TENANT);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await sb?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows a synced contact: lifecycle stage, lead status, owner, recent activity, page views, the HubSpot link, "Synced"', async () => {
    // The owner is also a Dynamics user (same email), so owner sync has nothing to complain about.
    const owner = await hs(`/__sandbox/portals/${sb.hubspot.portal.portalId}/owners`, { firstName: 'Dana', lastName: 'Sales', email: 'dana.sales@sandbox.example.com' });
    const contact = await hs('/crm/v3/objects/contacts', {
      properties: { firstname: 'Casey', lastname: 'Tab', email: 'casey.tab@example.com', lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'NEW', hubspot_owner_id: owner.id },
    });
    const activity: Array<[string, number, Record<string, string>]> = [
      ['emails', 198, { hs_email_subject: 'Pricing for 50 seats', hs_timestamp: '2026-11-02T10:00:00Z' }],
      ['calls', 194, { hs_call_title: 'Discovery call', hs_timestamp: '2026-11-03T10:00:00Z' }],
      ['meetings', 200, { hs_meeting_title: 'Product demo', hs_timestamp: '2026-11-05T15:00:00Z' }],
      ['notes', 202, { hs_note_body: '<p>Budget <b>approved</b></p>', hs_timestamp: '2026-11-04T09:00:00Z' }],
    ];
    for (const [type, toContact, properties] of activity) {
      await hs(`/crm/v3/objects/${type}`, { properties, associations: [{ to: { id: contact.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: toContact }] }] });
    }
    await hs(`/__sandbox/portals/${sb.hubspot.portal.portalId}/contacts/${contact.id}/activity`, {
      visits: [{ at: '2026-11-01T08:00:00Z', pages: ['https://example.com/', 'https://example.com/pricing'] }, { at: '2026-11-04T08:00:00Z', pages: ['https://example.com/pricing/enterprise'] }],
      formSubmissions: [{ form: 'Request a demo', at: '2026-11-01T08:03:00Z' }],
      marketingEmails: [{ name: 'November news', at: '2026-11-01T07:00:00Z', opened: true, clicked: true }],
    });

    // Through the real webhooks: HubSpot → server → worker → a new Dynamics lead, linked.
    await until('the contact to become a linked Dynamics lead', async () => Boolean(await server.store.links.findByHubSpot(TENANT, { object: 'contacts', id: contact.id })));
    await until('the queue to settle', async () => {
      const c = await server.store.jobs.counts(TENANT);
      return c.pending + c.active === 0;
    });
    const link = (await server.store.links.findByHubSpot(TENANT, { object: 'contacts', id: contact.id }))!;
    linked = { hubspotId: contact.id, leadId: link.dynamics.id };

    const { page, tab, text, embedCalls } = await openTab('lead', linked.leadId, 'hubspot-tab-linked');
    // Opening the form signed the browser in, as a real org's sign-in does: an HttpOnly session cookie.
    const session = (await browser.context.cookies(sb.dataverse.orgUrl)).find((c) => c.name === 'CrmOwinAuth');
    assert.ok(session, 'main.aspx left a session cookie');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Lax');
    // With it the tab read the lead from the Web API: no warning, and the lead's own HubSpot id and email went to the server.
    assert.doesNotMatch(text, /Could not read/);
    assert.equal(await tab.locator('p.note').count(), 0);
    assert.equal(embedCalls.length, 1, embedCalls.join(' '));
    assert.equal(embedCalls[0].searchParams.get('hubspotId'), contact.id);
    assert.equal(embedCalls[0].searchParams.get('email'), 'casey.tab@example.com');
    const fact = async (label: string) => (await tab.locator('.facts div', { has: page.locator(`dt:text-is("${label}")`) }).locator('dd').innerText()).trim();
    assert.equal(await fact('HubSpot ID'), contact.id);
    assert.equal(await fact('Lifecycle stage'), 'Sales Qualified Lead');
    assert.equal(await fact('Lead status'), 'New');
    assert.equal(await fact('Owner'), 'Dana Sales (dana.sales@sandbox.example.com)');
    assert.equal(await fact('Page views'), '3');
    assert.equal(await fact('Form submissions'), '1');
    assert.equal(await fact('Emails opened'), '1');
    assert.equal(await fact('Status'), 'Synced');
    const activityLines = (await tab.locator('ol.activity li').allInnerTexts()).map((t) => t.replace(/\s+/g, ' '));
    assert.match(activityLines[0], /^Meeting Product demo /, 'newest first');
    for (const expected of [/^Note Budget approved /, /^Call Discovery call /, /^Email Pricing for 50 seats /, /^Form submission Request a demo /, /^Page view https:\/\/example\.com\/pricing\/enterprise /]) {
      assert.ok(activityLines.some((l) => expected.test(l)), `activity shows ${expected}: ${activityLines.join(' | ')}`);
    }
    const open = tab.getByRole('link', { name: /Open in HubSpot/ });
    assert.equal(await open.getAttribute('href'), `https://app.hubspot.com/contacts/${sb.hubspot.portal.portalId}/record/0-1/${contact.id}`);
    assert.equal(await open.getAttribute('target'), '_blank');
    assert.doesNotMatch(text, /No access|unreachable|Sync error/);
    await page.close();
  });

  it('shows the record\'s sync errors: what failed, why, and how to fix it', async () => {
    // HubSpot's "Attempted to Contact" has no Dynamics lead status of that label: the rest syncs, the field is reported.
    const contact = await hs('/crm/v3/objects/contacts', { properties: { firstname: 'Robin', lastname: 'Unmatched', email: 'robin.unmatched@example.com', hs_lead_status: 'ATTEMPTED_TO_CONTACT' } });
    await until('the contact to become a linked Dynamics lead', async () => Boolean(await server.store.links.findByHubSpot(TENANT, { object: 'contacts', id: contact.id })));
    await until('the queue to settle', async () => {
      const c = await server.store.jobs.counts(TENANT);
      return c.pending + c.active === 0;
    });
    const { dynamics } = (await server.store.links.findByHubSpot(TENANT, { object: 'contacts', id: contact.id }))!;
    const { page, tab } = await openTab('lead', dynamics.id, 'hubspot-tab-sync-error');
    assert.equal((await tab.locator('.badge').innerText()).trim(), 'Sync error');
    assert.equal(await tab.locator('.facts div', { has: page.locator('dt:text-is("Lead status")') }).locator('dd').innerText(), 'Attempted to Contact');
    const [error] = await tab.getByRole('list', { name: 'Sync errors' }).locator('li').allInnerTexts();
    assert.match(error, /^Dropdown values without a matching option in Dynamics were not sent\n/);
    assert.match(error, /\nWhy: Unmatched: .*"ATTEMPTED_TO_CONTACT"/);
    assert.match(error, /\nHow to fix: Add an option whose label equals the value/);
    await page.close();
  });

  it('says "not synced yet" (waiting) for a Dynamics record the sync has not written', async () => {
    // Main switch off: the new contact's event is kept, nothing is written, so it stays unlinked.
    await admin('PATCH', '', { mainSwitch: false });
    const created = await dv('POST', 'contacts', { firstname: 'Noor', lastname: 'Pending', emailaddress1: 'noor.pending@example.com' });
    const id = /\(([0-9a-f-]{36})\)/i.exec(created.headers.get('odata-entityid') ?? '')![1];
    const { page, tab, text } = await openTab('contact', id, 'hubspot-tab-not-synced');
    assert.match(text, /Not synced yet/);
    assert.match(text, /no HubSpot counterpart yet/);
    // The email comes from the record as the tab read it from Dynamics (the server has never seen this contact).
    assert.match(text, /it will be matched to HubSpot by email \(noor\.pending@example\.com\)/);
    assert.doesNotMatch(text, /Could not read/);
    assert.equal((await tab.locator('.badge').innerText()).trim(), 'Waiting to sync');
    assert.equal(await tab.getByRole('link', { name: /Open in HubSpot/ }).count(), 0);
    await page.close();
    await admin('PATCH', '', { mainSwitch: true });
  });

  it('says "no access" when the credential in Dynamics was replaced, and works again once Dynamics is reconnected', async () => {
    const { embedCredential } = await admin('POST', '/embed-credential');
    const denied = await openTab('lead', linked.leadId, 'hubspot-tab-no-access');
    assert.match(denied.text, /No access/);
    assert.match(denied.text, /refused the panel's credential \(HTTP 401\)/);
    assert.match(denied.text, /replaced by a newer one/);
    assert.match(denied.text, /reconnect Dynamics/);
    assert.equal(await denied.tab.locator('[role="alert"]').count(), 1);
    await denied.page.close();

    await connectDynamics(embedCredential);
    const again = await openTab('lead', linked.leadId, 'hubspot-tab-reconnected');
    assert.match(again.text, /Sales Qualified Lead/);
    await again.page.close();
  });

  it('says "sync server unreachable" when the server is down, while the form itself still works', async () => {
    await server.close();
    const { page, text } = await openTab('lead', linked.leadId, 'hubspot-tab-unreachable');
    assert.match(text, /Sync server unreachable/);
    assert.match(text, new RegExp(`The sync server at ${server.url.replace(/[.:/]/g, '\\$&')} could not be reached`));
    assert.match(text, /syncing is not affected by this panel/);
    assert.match(await page.locator('h1').innerText(), /^Lead: Casey Tab$/, 'the Dynamics form is unaffected');
    await page.close();
  });
});
