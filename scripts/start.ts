/**
 * `npm start`.
 *
 * Demo (the default with no HubSpot app configured): starts both sandboxes and the sync server (SQLite in
 * DATA_DIR, default ./data; PORT, default 3000), creates and connects a demo tenant, registers both systems'
 * webhooks at the server, seeds a few records, and prints how to try it. `-- --json` prints exactly one JSON
 * line instead: { hubspot, dataverse, server: { url }, tenant: { id, apiKey } }.
 *
 * Real services: when HUBSPOT_CLIENT_ID is set (a real HubSpot app), or SYNC_SANDBOX=0, no sandbox and no
 * demo: it is `tsx server/src/main.ts`, configured by the environment. SYNC_SANDBOX=1 forces the demo.
 *
 * Demo-only environment: SANDBOX_HUBSPOT_PORT (4010), SANDBOX_DATAVERSE_PORT (4020), SANDBOX_IDENTITY_PORT (4021);
 * 0 = any free port. Logs go to stderr, so stdout carries only the banner or the JSON line.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { describeSandboxes, startSandboxes, type Sandboxes } from '../sandbox/start.ts';
import { sandboxTenantInput } from './sandbox-tenant.ts';
import { seedContactActivity } from '../sandbox/hubspot/demo-activity.ts';
import { connectRequests } from '../dynamics-solution/connect.ts';
import { buildSolutionPackages } from '../dynamics-solution/generate.ts';
import { issueEmbedCredential } from '../server/src/embed/credential.ts';
import { ConfigError, loadConfig, type Config } from '../server/src/config.ts';
import { createLogger } from '../server/src/observability/logger.ts';
import { startServer, type RunningServer } from '../server/src/main.ts';
import { createTenant, connectTenant, registerDataverseWebhook, registerHubSpotAppWebhooks } from '../server/src/tenants/index.ts';

const DEMO_TENANT_ID = 'demo';

function useSandboxes(env: NodeJS.ProcessEnv): boolean {
  if (env.SYNC_SANDBOX === '0' || env.SYNC_SANDBOX === 'false') return false;
  if (env.SYNC_SANDBOX === '1' || env.SYNC_SANDBOX === 'true') return true;
  return !env.HUBSPOT_CLIENT_ID;
}

function port(env: NodeJS.ProcessEnv, name: string, def: number): number {
  const v = env[name];
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new ConfigError([`${name} must be a port number from 0 to 65535, got ${JSON.stringify(v)}`]);
  return n;
}

/** Demo records, created as a *person* (user tokens), so they sync like users' changes do. */
async function seed(sb: Sandboxes): Promise<void> {
  const hs = async (path: string, body: unknown) => {
    const res = await fetch(`${sb.hubspot.baseUrl}${path}`, {
      method: 'POST', headers: { authorization: `Bearer ${sb.hubspot.portal.userToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`seeding HubSpot ${path} failed: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as { id: string };
  };
  const dv = async (set: string, body: unknown) => {
    const res = await fetch(`${sb.dataverse.orgUrl}/api/data/v9.2/${set}`, {
      method: 'POST', headers: { authorization: `Bearer ${sb.dataverse.userToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`seeding Dataverse ${set} failed: HTTP ${res.status} ${await res.text()}`);
    return /\(([0-9a-f-]{36})\)/i.exec(res.headers.get('odata-entityid') ?? '')?.[1] ?? '';
  };
  // HubSpot side: a company with two contacts and a deal. Names and emails carry the UAT markers
  // ("SyncSmart", "ss.test"), so the same demo also works with the tenant switched to UAT mode.
  const company = await hs('/crm/v3/objects/companies', { properties: { name: 'Contoso SyncSmart Demo', domain: 'contoso.example', city: 'Seattle' } });
  const COMPANY_TO_CONTACT = 280; // HubSpot-defined association type ids (contact→company 279, company→contact 280)
  for (const c of [
    { firstname: 'Ada', lastname: 'Lovelace', email: 'ada.lovelace@ss.test.contoso.example', jobtitle: 'CTO', lifecyclestage: 'salesqualifiedlead', hs_lead_status: 'NEW' },
    { firstname: 'Alan', lastname: 'Turing', email: 'alan.turing@ss.test.contoso.example', jobtitle: 'Researcher', lifecyclestage: 'lead' },
  ]) {
    const contact = await hs('/crm/v3/objects/contacts', {
      properties: c, associations: [{ to: { id: company.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: COMPANY_TO_CONTACT - 1 }] }],
    });
    // History for the HubSpot tab on the lead these contacts become in Dynamics.
    await seedContactActivity({ baseUrl: sb.hubspot.baseUrl, portalId: sb.hubspot.portal.portalId, userToken: sb.hubspot.portal.userToken }, contact.id);
  }
  await hs('/crm/v3/objects/deals', {
    properties: { dealname: 'Contoso SyncSmart renewal', amount: '12000', pipeline: 'default', dealstage: 'appointmentscheduled' },
    associations: [{ to: { id: company.id }, types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: 341 }] }],
  });
  // Dynamics side: an account with a contact, a lead and an opportunity.
  const account = await dv('accounts', { name: 'Fabrikam SyncSmart Demo', websiteurl: 'https://www.fabrikam.example', address1_city: 'Redmond' });
  await dv('contacts', { firstname: 'Grace', lastname: 'Hopper', emailaddress1: 'grace.hopper@ss.test.fabrikam.example', 'parentcustomerid_account@odata.bind': `/accounts(${account})` });
  await dv('leads', { firstname: 'Katherine', lastname: 'Johnson', emailaddress1: 'katherine.johnson@ss.test.example', companyname: 'NASA SyncSmart' });
  await dv('opportunities', { name: 'Fabrikam SyncSmart expansion', estimatedvalue: 25000, 'parentaccountid@odata.bind': `/accounts(${account})` });
}

/**
 * The Dynamics solution as a customer installs it: the managed zip (built for this server's URL) imported,
 * then connected — the webhook endpoint gets the tenant's URL and key, the HubSpot tab's config.js the embed
 * credential. It goes in before the tenant is connected, so the solution owns the columns and the endpoint
 * that connecting and webhook registration then find and reuse.
 */
async function installSolution(sb: Sandboxes, o: { serverUrl: string; tenantId: string; webhookKey: string; embedCredential: string }): Promise<void> {
  const call = async (method: string, path: string, body: unknown) => {
    const res = await fetch(`${sb.dataverse.orgUrl}/api/data/v9.2/${path}`, {
      method, headers: { authorization: `Bearer ${sb.dataverse.userToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`installing the Dynamics solution: ${method} ${path} failed: HTTP ${res.status} ${await res.text()}`);
  };
  const [managed] = (await buildSolutionPackages({ serverUrl: o.serverUrl })).packages;
  await call('POST', 'ImportSolution', { OverwriteUnmanagedCustomizations: false, PublishWorkflows: true, CustomizationFile: managed.bytes.toString('base64'), ImportJobId: randomUUID() });
  for (const r of connectRequests(o)) await call(r.method, r.path, r.body);
}

async function demo(json: boolean): Promise<void> {
  const env = process.env;
  // stdout is for the banner / JSON line; the sandboxes' own loggers write there, so quiet them in JSON mode.
  if (json) {
    env.HUBSPOT_SANDBOX_LOG_LEVEL ??= 'error';
    env.SANDBOX_LOG_LEVEL ??= 'error';
  }
  const sandboxes = await startSandboxes({
    host: '127.0.0.1',
    hubspotPort: port(env, 'SANDBOX_HUBSPOT_PORT', 4010),
    dataversePort: port(env, 'SANDBOX_DATAVERSE_PORT', 4020),
    identityPort: port(env, 'SANDBOX_IDENTITY_PORT', 4021),
  });
  let server: RunningServer | undefined;
  const stopAll = async () => {
    await server?.close();
    await sandboxes.close();
  };
  try {
    const info = describeSandboxes(sandboxes);
    const config: Config = loadConfig({
      ...env,
      HUBSPOT_CLIENT_ID: info.hubspot.clientId,
      HUBSPOT_CLIENT_SECRET: info.hubspot.clientSecret,
      HUBSPOT_APP_ID: String(info.hubspot.appId),
    });
    const logger = createLogger({ level: config.logLevel === 'info' && json ? 'warn' : config.logLevel, destination: pino.destination(2) });
    server = await startServer({ config, logger, host: '127.0.0.1' });
    const publicUrl = config.publicUrl ?? server.url;
    const { store, contexts } = server;

    // Each start is a fresh pair of sandboxes: a demo tenant left in DATA_DIR by the last run points at
    // services that no longer exist, so it is replaced (with its links, jobs and errors).
    await store.tenants.delete(DEMO_TENANT_ID);
    const stale = await store.tenants.findByPortalId(String(info.hubspot.portalId));
    if (stale) await store.tenants.delete(stale.id);
    contexts.invalidate(DEMO_TENANT_ID);

    const created = await createTenant(store, sandboxTenantInput(info, { id: DEMO_TENANT_ID }));
    await installSolution(sandboxes, { serverUrl: publicUrl, tenantId: DEMO_TENANT_ID, webhookKey: created.webhookKey, embedCredential: await issueEmbedCredential(store, DEMO_TENANT_ID) });
    const connected = await connectTenant(store, contexts, DEMO_TENANT_ID, { publicUrl });
    const ctx = await contexts.get(DEMO_TENANT_ID);
    await registerDataverseWebhook(ctx.dynamics, { url: connected.webhookUrls.dynamics, key: created.webhookKey });
    await registerHubSpotAppWebhooks({
      basePath: info.hubspot.baseUrl, appId: info.hubspot.appId, developerApiKey: info.hubspot.developerApiKey, targetUrl: connected.webhookUrls.hubspot,
    });
    // The first poll sets the safety nets' baselines before the seeded records exist (they arrive by webhook).
    await server.scheduler.pollNow(DEMO_TENANT_ID);
    await seed(sandboxes);

    if (json) {
      process.stdout.write(`${JSON.stringify({ hubspot: info.hubspot, dataverse: info.dataverse, server: { url: server.url }, tenant: { id: DEMO_TENANT_ID, apiKey: created.apiKey } })}\n`);
    } else {
      const api = `${server.url}/api/tenants/${DEMO_TENANT_ID}`;
      process.stdout.write(
        [
          '',
          'HubSpot ⇄ Dynamics 365 Sync — demo is running (Ctrl-C to stop).',
          '',
          `Sync server   ${server.url}   (data in ${config.dataDir})`,
          `  health        ${server.url}/healthz     metrics ${server.url}/metrics`,
          `  webhooks      ${connected.webhookUrls.hubspot}`,
          `                ${connected.webhookUrls.dynamics}`,
          `Demo tenant   "${DEMO_TENANT_ID}"  production mode, main switch on`,
          `  API key       ${created.apiKey}   (shown once)`,
          '',
          `HubSpot sandbox     ${info.hubspot.baseUrl}   portal ${info.hubspot.portalId}`,
          `  user token        ${info.hubspot.userToken}`,
          `Dataverse sandbox   ${info.dataverse.orgUrl}/api/data/v9.2/`,
          `  user token        ${info.dataverse.userToken}`,
          `  HubSpot tab       ${info.dataverse.orgUrl}/main.aspx?etn=lead&id=<lead id>&pagetype=entityrecord`,
          '                    (the form of a synced lead or contact; Ada Lovelace and Alan Turing come with HubSpot activity)',
          '',
          'Seeded: a company with two contacts and a deal in HubSpot; an account, a contact, a lead and an',
          'opportunity in Dynamics. They are syncing now. Try:',
          '',
          `  curl -s -H 'Authorization: Bearer ${created.apiKey}' ${api}`,
          `  curl -s -H 'Authorization: Bearer ${info.dataverse.userToken}' '${info.dataverse.orgUrl}/api/data/v9.2/contacts?$select=fullname,emailaddress1,hds_hubspotid'`,
          `  curl -s -H 'Authorization: Bearer ${info.hubspot.userToken}' '${info.hubspot.baseUrl}/crm/v3/objects/contacts?properties=email,dynamics_id'`,
          `  curl -s -X PATCH -H 'Authorization: Bearer ${created.apiKey}' -H 'content-type: application/json' -d '{"mainSwitch":false}' ${api}`,
          `  curl -s -H 'Authorization: Bearer ${created.apiKey}' ${api}/errors`,
          '',
        ].join('\n'),
      );
    }
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
  handleSignals(stopAll, json);
}

function handleSignals(stop: () => Promise<void>, quiet: boolean): void {
  let stopping = false;
  const onSignal = (signal: string) => {
    if (stopping) return;
    stopping = true;
    if (!quiet) process.stdout.write(`\n${signal}: stopping…\n`);
    stop().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`Error while stopping: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
}

async function serverOnly(): Promise<void> {
  const config = loadConfig(process.env);
  const server = await startServer({ config });
  handleSignals(() => server.close(), true);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { json: { type: 'boolean' }, help: { type: 'boolean' } }, strict: true });
  if (values.help) {
    process.stdout.write('Usage: npm start [-- --json]\n\nWith no HubSpot app configured (HUBSPOT_CLIENT_ID unset) or SYNC_SANDBOX=1: sandboxes + server + demo tenant.\nWith SYNC_SANDBOX=0 or HUBSPOT_CLIENT_ID set: the server only, configured by the environment.\n');
    return;
  }
  if (useSandboxes(process.env)) await demo(Boolean(values.json));
  else await serverOnly();
}

main().catch((err) => {
  if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
  else process.stderr.write(`Start failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
