import assert from 'node:assert/strict';
import { startSandboxes, type Sandboxes } from '../../../sandbox/start.ts';
import { createMetrics } from '../../../server/src/observability/metrics.ts';
import { TenantContexts } from '../../../server/src/sync/tenant-context.ts';
import { createTenant, TenantInputError } from '../../../server/src/tenants/create.ts';
import { connectTenant } from '../../../server/src/tenants/connect.ts';
import { hubspotSubscriptions, registerDataverseWebhook, registerHubSpotAppWebhooks } from '../../../server/src/tenants/webhooks.ts';
import { SECRET_NAMES } from '../../../server/src/tenants/settings.ts';
import { makeTenant, silent, sqliteStore, type TempStore } from '../http/harness.ts';

describe('tenants', function () {
  this.timeout(30_000);
  let t: TempStore;
  beforeEach(async () => (t = await sqliteStore()));
  afterEach(async () => t.close());

  it('createTenant validates, encrypts the secrets, and returns the two generated keys once', async () => {
    const { tenant, apiKey, webhookKey } = await makeTenant(t.store);
    assert.match(apiKey, /^hds_[\w-]{43}$/);
    assert.match(webhookKey, /^[\w-]{43}$/);
    assert.equal(tenant.mode, 'uat');
    assert.equal(tenant.mainSwitch, false);
    assert.equal(await t.store.secrets.get(tenant.id, SECRET_NAMES.apiKey), apiKey);
    assert.equal(await t.store.secrets.get(tenant.id, SECRET_NAMES.dynamicsWebhookKey), webhookKey);
    const rows = await t.store.db.kysely.selectFrom('secrets').select(['name', 'ciphertext']).where('tenant_id', '=', tenant.id).execute();
    assert.equal(rows.length, 5);
    for (const r of rows) for (const plain of [apiKey, webhookKey, 'hs-secret', 'dv-secret', 'refresh']) assert.ok(!r.ciphertext.includes(plain));
    assert.equal((tenant.settings as { prefix: string }).prefix, 'hds', 'defaults applied');
  });

  it('createTenant refuses bad settings, missing secrets and a portal that already has a tenant', async () => {
    await assert.rejects(
      createTenant(t.store, { settings: { hubspot: { portalId: -1, appId: '', clientId: 'c' } } as never, secrets: { hubspotClientSecret: '', hubspotRefreshToken: 'r' } }),
      (err: unknown) => err instanceof TenantInputError && /settings\.hubspot\.portalId/.test(err.message) && /hubspotClientSecret is required/.test(err.message),
    );
    await assert.rejects(
      createTenant(t.store, { settings: { hubspot: { portalId: 5, appId: '1', clientId: 'c' }, dynamics: { orgUrl: 'https://x.crm.dynamics.com', clientId: 'd' } }, secrets: { hubspotClientSecret: 's', hubspotRefreshToken: 'r' } }),
      /dynamicsClientSecret is required/,
    );
    const first = await createTenant(t.store, { settings: { hubspot: { portalId: 6, appId: '1', clientId: 'c' } }, secrets: { hubspotClientSecret: 's', hubspotRefreshToken: 'r' } });
    await assert.rejects(createTenant(t.store, { settings: { hubspot: { portalId: 6, appId: '1', clientId: 'c' } }, secrets: { hubspotClientSecret: 's', hubspotRefreshToken: 'r' } }), /already belongs/);
    assert.equal((await t.store.tenants.list()).length, 1);
    assert.ok(first.tenant.id);
  });

  describe('against the sandboxes', () => {
    let sb: Sandboxes;
    before(async () => {
      process.env.HUBSPOT_SANDBOX_LOG_LEVEL ??= 'silent';
      sb = await startSandboxes({ hubspotPort: 0, dataversePort: 0, identityPort: 0 });
    });
    after(async () => sb?.close());

    it('connectTenant creates the link properties, the HubSpot id columns + keys, and saves the application user', async () => {
      const { tenant, webhookKey } = await createTenant(t.store, {
        settings: {
          hubspot: { portalId: sb.hubspot.portal.portalId, basePath: sb.hubspot.baseUrl, appId: String(sb.hubspot.app.appId), clientId: sb.hubspot.app.clientId },
          dynamics: {
            orgUrl: sb.dataverse.orgUrl, authorityUrl: sb.dataverse.authorityUrl, clientId: sb.dataverse.clientId,
            sandbox: { caCert: sb.dataverse.caCert, authorityMetadata: sb.dataverse.authorityMetadata, cloudDiscoveryMetadata: sb.dataverse.cloudDiscoveryMetadata },
          },
        },
        secrets: {
          hubspotClientSecret: sb.hubspot.app.clientSecret, hubspotRefreshToken: sb.hubspot.portal.refreshToken, hubspotAccessToken: sb.hubspot.portal.accessToken,
          dynamicsClientSecret: sb.dataverse.clientSecret,
        },
      });
      const contexts = new TenantContexts({ store: t.store, metrics: createMetrics(), logger: silent });
      const r = await connectTenant(t.store, contexts, tenant.id, { publicUrl: 'https://sync.example.com/' });
      assert.equal(r.applicationUserId, sb.dataverse.applicationUserId.toLowerCase());
      assert.deepEqual(r.hubspotPropertiesCreated.contacts.sort(), ['dynamics_entity', 'dynamics_id', 'dynamics_url']);
      assert.equal(r.dynamicsColumns.lead.column, 'hds_hubspotid');
      assert.deepEqual(r.webhookUrls, { hubspot: 'https://sync.example.com/webhooks/hubspot', dynamics: `https://sync.example.com/webhooks/dynamics/${tenant.id}` });
      assert.equal(((await t.store.tenants.get(tenant.id))!.settings as { dynamics: { applicationUserId: string } }).dynamics.applicationUserId, r.applicationUserId);

      const again = await connectTenant(t.store, contexts, tenant.id, { publicUrl: 'https://sync.example.com' });
      assert.deepEqual(again.hubspotPropertiesCreated.deals, [], 'idempotent');
      assert.equal(again.dynamicsColumns.account.columnCreated, false);

      // Webhook registration (demo / self-hosting helpers), idempotent too.
      const ctx = await contexts.get(tenant.id);
      const reg = await registerDataverseWebhook(ctx.dynamics, { url: r.webhookUrls.dynamics, key: webhookKey });
      assert.equal(Object.keys(reg.steps).length, 8);
      const reg2 = await registerDataverseWebhook(ctx.dynamics, { url: r.webhookUrls.dynamics, key: webhookKey });
      assert.deepEqual(reg2, reg);
      // Update steps fire for the columns the sync reads, never for our own HubSpot id column (that is our echo).
      const update = await ctx.dynamics.retrieve('sdkmessageprocessingstep', reg.steps['Update of contact'], ['filteringattributes']);
      const watched = String(update?.filteringattributes).split(',');
      assert.ok(watched.includes('emailaddress1') && watched.includes('parentcustomerid') && watched.includes('statecode'), watched.join(','));
      assert.ok(!watched.includes('hds_hubspotid'));
      const hs = { basePath: sb.hubspot.baseUrl, appId: sb.hubspot.app.appId, developerApiKey: sb.hubspot.app.developerApiKey, targetUrl: r.webhookUrls.hubspot };
      const subs = await registerHubSpotAppWebhooks(hs);
      assert.equal(subs.created, hubspotSubscriptions().length);
      assert.ok(hubspotSubscriptions().some((s) => s.eventType === 'contact.propertyChange' && s.propertyName === 'email'));
      assert.deepEqual(await registerHubSpotAppWebhooks(hs), { created: 0, existing: subs.created });
      await assert.rejects(registerHubSpotAppWebhooks({ ...hs, developerApiKey: 'wrong' }), /HTTP 401/);
    });
  });
});
