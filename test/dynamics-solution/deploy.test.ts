import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import JSZip from 'jszip';
import { defineSolution } from '../../dynamics-solution/definition.ts';
import { startDataverseSandbox } from '../../sandbox/dataverse/index.ts';
import type { CreatedTenant } from '../../server/src/tenants/create.ts';
import { startConnectedServer, type ConnectedServer } from '../server/http/connected-tenant.ts';
import { packagesFor, REPO } from './helpers.ts';

/**
 * `npm run deploy-solution` as a user runs it (a child process, flags and environment), into the Dataverse
 * sandbox, connected to a running sync server: the solution's webhook must deliver a person's change to the
 * server, re-runs must change nothing, a higher version must upgrade, and every mistake must say what to fix.
 */

interface Run { code: number; stdout: string; stderr: string }

const OUR_ENV = /^(DYNAMICS_|SYNC_)/;

describe('npm run deploy-solution into the Dataverse sandbox', function () {
  this.timeout(180_000);
  let c: ConnectedServer;
  let t: CreatedTenant;
  let dir: string;
  let sandboxFile: string;
  const def = defineSolution();

  before(async () => {
    c = await startConnectedServer();
    t = await c.tenant();
    dir = mkdtempSync(join(tmpdir(), 'deploy-solution-'));
    sandboxFile = join(dir, 'sandbox.json');
    const d = c.dataverse;
    writeFileSync(sandboxFile, JSON.stringify({ dataverse: {
      orgUrl: d.orgUrl, tenantId: d.tenantId, authorityUrl: d.authorityUrl, clientId: d.clientId, clientSecret: d.clientSecret,
      caCert: d.caCert, authorityMetadata: d.authorityMetadata, cloudDiscoveryMetadata: d.cloudDiscoveryMetadata,
    } }));
  });
  after(async () => {
    await c?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  function deploy(args: string[], env: Record<string, string> = {}): Promise<Run> {
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !OUR_ENV.test(k)));
    return new Promise((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', join(REPO, 'scripts/deploy-solution.ts'), ...args], { cwd: REPO, env: { ...base, ...env } }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });
  }
  /** The usual run: the sandbox file for trust and app credentials, the server for the tenant's keys. */
  const deployTo = (extra: string[] = [], env: Record<string, string> = {}) =>
    deploy(['--sandbox', sandboxFile, '--server-url', c.server.url, '--sync-tenant', t.tenant.id, ...extra], { SYNC_API_KEY: t.apiKey, ...env });

  /** A Web API read as the sandbox's ordinary user. */
  const dv = async (path: string): Promise<any> =>
    (await fetch(`${c.dataverse.orgUrl}/api/data/v9.2/${path}`, { headers: { authorization: `Bearer ${c.dataverse.userToken}`, accept: 'application/json' } })).json();
  const installed = async () => (await dv(`solutions?$filter=uniquename eq 'HubSpotDynamicsSync'&$select=version,ismanaged`)).value as Array<{ version: string; ismanaged: boolean }>;
  const ourSteps = async () => (await dv(`sdkmessageprocessingsteps?$select=name,statecode&$filter=_eventhandler_value eq ${def.endpoint.id}`)).value as Array<{ sdkmessageprocessingstepid: string; statecode: number }>;
  const endpointUrl = async () => (await dv(`serviceendpoints(${def.endpoint.id})?$select=url`)).url as string;
  const connection = async () => (await (await fetch(`${c.server.url}/api/tenants/${t.tenant.id}/dynamics/connection`, { headers: { authorization: `Bearer ${t.apiKey}` } })).json()) as { embedCredential: string };
  /** The JSON config.js assigns, as the org serves it to the HubSpot tab. */
  const panelConfig = async () => /= (\{.*\});/.exec(await (await fetch(`${c.dataverse.orgUrl}/WebResources/hds_/hubspot/config.js`)).text())?.[1];
  const webhookUrl = () => `${c.server.url}/webhooks/dynamics/${t.tenant.id}`;
  const zipFile = (name: string, bytes: Buffer) => {
    const file = join(dir, name);
    writeFileSync(file, bytes);
    return file;
  };

  describe('options', () => {
    it('with none, lists everything to set and exits 2', async () => {
      const r = await deploy([]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--server-url \(or SYNC_SERVER_URL\) is required/);
      assert.match(r.stderr, /--sync-tenant \(or SYNC_TENANT\) is required/);
      assert.match(r.stderr, /Set SYNC_API_KEY .* or DYNAMICS_WEBHOOK_KEY/);
      assert.equal(r.stdout, '');
    });

    it('refuses secrets as flags, conflicting flags, plain-http servers and missing zips, naming the fix', async () => {
      const r = await deploy(['--server-url', 'http://sync.example.com', '--sync-tenant', 'x', '--client-secret', 's3cret', '--managed', '--unmanaged', '--zip', join(dir, 'nope.zip'), '--version', '1.2'],
        { DYNAMICS_WEBHOOK_KEY: 'k' });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /--client-secret is not accepted.*Set DYNAMICS_CLIENT_SECRET in the environment/);
      assert.match(r.stderr, /--managed and --unmanaged exclude each other/);
      assert.match(r.stderr, /--server-url 'http:\/\/sync.example.com' must use https/);
      assert.match(r.stderr, /--zip .*nope\.zip: no such file/);
      assert.match(r.stderr, /--version '1.2' is invalid/);
      assert.doesNotMatch(r.stderr + r.stdout, /s3cret/, 'the secret is never echoed');
      assert.match((await deploy(['--skip-import', '--version', '1.0.0.0', '--server-url', c.server.url, '--sync-tenant', 'x'], { DYNAMICS_WEBHOOK_KEY: 'k' })).stderr, /--skip-import imports nothing, so --version would be ignored/);
    });

    it('takes the org from the tenant on the server and asks only for what is still missing', async () => {
      const r = await deploy(['--server-url', c.server.url, '--sync-tenant', t.tenant.id], { SYNC_API_KEY: t.apiKey });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stdout, /ok {3}tenant keys +webhook key from the sync server; embed credential issued now by the sync server \(the tenant had none\)/);
      assert.match(r.stderr, /sign in failed:\n {2}Set DYNAMICS_CLIENT_SECRET/);
      assert.doesNotMatch(r.stderr, /--org-url|--client-id|--tenant-id/, 'org URL, client id and tenant came from the server');
    });

    it('a wrong API key or client secret fails with the refusing side\'s reason, exit 1, nothing imported', async () => {
      const key = await deployTo([], { SYNC_API_KEY: 'hds_wrong' });
      assert.equal(key.code, 1);
      assert.match(key.stderr, /The sync server refused SYNC_API_KEY for tenant .* \(HTTP 403: This API key does not grant access/);
      const secret = await deployTo([], { DYNAMICS_CLIENT_SECRET: 'not-the-secret' });
      assert.equal(secret.code, 1);
      assert.match(secret.stderr, /sign in failed:\n {2}Entra refused the client credentials: .*AADSTS7000215: Invalid client secret.*Check DYNAMICS_CLIENT_ID, DYNAMICS_CLIENT_SECRET/s);
      assert.deepEqual(await installed(), []);
    });
  });

  describe('deploying', () => {
    it('installs into a fresh org, connects the endpoint to the server and checks every step', async () => {
      const r = await deployTo();
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /ok {3}sign in +http:\/\/127\.0\.0\.1:\d+ as application user [0-9a-f-]{36}/);
      assert.match(r.stdout, /ok {3}package +HubSpotDynamicsSync_1\.0\.0\.0_managed\.zip \(built now\): managed 1\.0\.0\.0, prefix hds/);
      assert.match(r.stdout, /ok {3}import +installed 1\.0\.0\.0 \(managed\) with ImportSolution in [\d.]+ s \(import job [0-9a-f-]{36}\)/);
      assert.ok(r.stdout.includes(`service endpoint posts to ${webhookUrl()} with the tenant's webhook key`), r.stdout);
      assert.match(r.stdout, /tenant keys +webhook key from the sync server; embed credential from the sync server/);
      assert.ok(r.stdout.includes(`ok   connect      HubSpot tab config points at ${c.server.url} with the embed credential`), r.stdout);
      assert.match(r.stdout, /ok +publish +published the HubSpot tab config \(config.js\)/);
      assert.match(r.stdout, /ok {3}check +8 of 8 SDK steps registered and enabled; endpoint URL as set/);
      assert.match(r.stdout, / {9}enabled +HubSpot sync: Update of opportunity/);
      assert.match(r.stdout, /Done: HubSpotDynamicsSync 1\.0\.0\.0 \(managed\)/);
      const { embedCredential } = await connection();
      assert.match(embedCredential, /^hdse_/);
      for (const secret of [t.webhookKey, embedCredential, t.apiKey]) assert.ok(!(r.stdout + r.stderr).includes(secret), 'no secret is printed');

      assert.deepEqual((await installed()).map((s) => [s.version, s.ismanaged]), [['1.0.0.0', true]]);
      const columns = (await dv(`EntityDefinitions(LogicalName='contact')/Attributes?$select=LogicalName`)).value.map((a: { LogicalName: string }) => a.LogicalName);
      for (const col of ['hds_hubspotid', 'hds_hubspoturl', 'hds_syncstatus', 'hds_lifecyclestage']) assert.ok(columns.includes(col), col);
      const steps = await ourSteps();
      assert.deepEqual(steps.map((s) => s.sdkmessageprocessingstepid).sort(), def.steps.map((s) => s.id).sort());
      assert.ok(steps.every((s) => s.statecode === 0));
      assert.equal(await endpointUrl(), webhookUrl());
      assert.equal(await panelConfig(), JSON.stringify({ serverUrl: c.server.url, embedCredential }), 'the HubSpot tab knows the server and its credential');
    });

    it('a person\'s new record in Dynamics now reaches the server, which accepts it (the key is right)', async () => {
      const id = await c.asUser('POST', 'contacts', { firstname: 'Hedy', lastname: 'Lamarr', emailaddress1: 'hedy@ss.test.example' });
      assert.equal(await c.accepted(t.tenant.id, id), 1);
      const state = await (await fetch(`${c.server.url}/api/tenants/${t.tenant.id}/dynamics/steps`, { headers: { authorization: `Bearer ${t.apiKey}` } })).json() as { steps: Array<{ id: string }> };
      assert.deepEqual(state.steps.map((s) => s.id).sort(), def.steps.map((s) => s.id).sort(), 'the server sees the solution\'s steps');
    });

    it('running it again changes nothing: same solution, one endpoint, eight steps, one delivery per change', async () => {
      const r = await deployTo();
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /import +re-imported 1\.0\.0\.0 \(already installed; components refreshed\) with ImportSolution/);
      assert.equal((await installed()).length, 1);
      assert.equal((await dv(`serviceendpoints?$select=name&$filter=name eq 'HubSpot sync'`)).value.length, 1);
      assert.equal((await ourSteps()).length, 8);
      const id = await c.asUser('POST', 'accounts', { name: 'Twice SyncSmart' });
      assert.equal(await c.accepted(t.tenant.id, id), 1);
    });

    it('shows Dynamics\' own error text when it refuses the import', async () => {
      const [pkg] = await packagesFor({ serverUrl: c.server.url }, ['managed']);
      const zip = await JSZip.loadAsync(pkg.bytes);
      const config = Object.keys(zip.files).find((n) => n.startsWith('WebResources/hds_hubspotconfigjs'))!;
      zip.remove(config);
      const broken = zipFile('broken.zip', await zip.generateAsync({ type: 'nodebuffer' }));
      const r = await deployTo(['--zip', broken]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /import failed:\n {2}Dynamics refused ImportSolution \(HTTP 400 \[0x80048033\], import job [0-9a-f-]{36}\): .*hubspotconfigjs/);
      assert.deepEqual((await installed()).map((s) => s.version), ['1.0.0.0'], 'nothing changed');
    });

    it('a higher version upgrades with StageAndUpgrade; a lower one or the other package type is refused before upload', async () => {
      const r = await deployTo(['--version', '1.0.1.0']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /import +upgraded 1\.0\.0\.0 → 1\.0\.1\.0 with StageAndUpgrade/);
      assert.deepEqual((await installed()).map((s) => s.version), ['1.0.1.0']);
      assert.equal((await ourSteps()).length, 8);
      assert.equal(await endpointUrl(), webhookUrl());

      const [old] = await packagesFor({ serverUrl: c.server.url }, ['managed']);
      const lower = await deployTo(['--zip', zipFile(old.fileName, old.bytes)]);
      assert.equal(lower.code, 1);
      assert.match(lower.stderr, /HubSpotDynamicsSync 1\.0\.1\.0 is installed and this package is 1\.0\.0\.0: Dynamics refuses a lower version/);
      const unmanaged = await deployTo(['--unmanaged', '--version', '1.0.2.0']);
      assert.equal(unmanaged.code, 1);
      assert.match(unmanaged.stderr, /installed as managed and this package is unmanaged/);
      assert.deepEqual((await installed()).map((s) => s.version), ['1.0.1.0']);
    });

    it('--skip-import only reconnects: a repointed endpoint is set back and deliveries resume', async () => {
      const elsewhere = `${c.server.url}/webhooks/dynamics/someone-else`;
      const patch = await fetch(`${c.dataverse.orgUrl}/api/data/v9.2/serviceendpoints(${def.endpoint.id})`, {
        method: 'PATCH', headers: { authorization: `Bearer ${c.dataverse.userToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ url: elsewhere }),
      });
      assert.equal(patch.status, 204);
      const lost = await c.asUser('POST', 'leads', { lastname: 'Lost', emailaddress1: 'lost@ss.test.example' });
      assert.equal(await c.accepted(t.tenant.id, lost), 0, 'while repointed, nothing arrives');

      const r = await deployTo(['--skip-import']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /skip import +--skip-import: 1\.0\.1\.0 \(managed\) stays as it is/);
      assert.doesNotMatch(r.stdout, /ok {3}package/);
      assert.equal(await endpointUrl(), webhookUrl());
      const found = await c.asUser('POST', 'leads', { lastname: 'Found', emailaddress1: 'found@ss.test.example' });
      assert.equal(await c.accepted(t.tenant.id, found), 1);
    });

    it('installs the unmanaged package into another org, publishing all customizations afterwards', async () => {
      const org = await startDataverseSandbox({ port: 0, identityPort: 0 });
      try {
        const other = await c.tenant({ org });
        const file = join(dir, 'other-sandbox.json');
        writeFileSync(file, JSON.stringify({ dataverse: { caCert: org.caCert, authorityMetadata: org.authorityMetadata, cloudDiscoveryMetadata: org.cloudDiscoveryMetadata } }));
        const r = await deploy(['--sandbox', file, '--server-url', c.server.url, '--sync-tenant', other.tenant.id, '--unmanaged', '--overwrite-unmanaged'],
          { SYNC_API_KEY: other.apiKey, DYNAMICS_CLIENT_SECRET: org.clientSecret });
        assert.equal(r.code, 0, r.stderr);
        assert.ok(r.stdout.includes(`ok   sign in      ${org.orgUrl} as application user`), 'org, tenant and client id came from the tenant on the server');
        assert.match(r.stdout, /import +installed 1\.0\.0\.0 \(unmanaged\) with ImportSolution/);
        assert.match(r.stdout, /ok +publish +published all customizations \(unmanaged import\)/);
        const res = await fetch(`${org.orgUrl}/api/data/v9.2/solutions?$filter=uniquename eq 'HubSpotDynamicsSync'&$select=ismanaged`, { headers: { authorization: `Bearer ${org.userToken}` } });
        assert.deepEqual(((await res.json()) as { value: Array<{ ismanaged: boolean }> }).value.map((x) => x.ismanaged), [false]);
        assert.deepEqual((await installed()).map((x) => x.version), ['1.0.1.0'], 'the first org is untouched');
      } finally {
        await org.close();
      }
    });

    it('reports disabled steps with exit 3 and how to switch them on', async () => {
      const call = (action: string) => fetch(`${c.server.url}/api/tenants/${t.tenant.id}/dynamics/steps/${action}`, { method: 'POST', headers: { authorization: `Bearer ${t.apiKey}` } });
      assert.equal((await call('disable')).status, 200);
      try {
        const r = await deployTo(['--skip-import'], { DYNAMICS_WEBHOOK_KEY: t.webhookKey, SYNC_API_KEY: '' });
        assert.equal(r.code, 3, r.stderr);
        assert.match(r.stdout, /tenant keys +webhook key from DYNAMICS_WEBHOOK_KEY; embed credential not available \(no SYNC_API_KEY\)/);
        assert.match(r.stdout, /warn connect +HubSpot tab config left as it is: no embed credential/);
        assert.match(await panelConfig() ?? '', /"embedCredential":"hdse_/, 'a working tab config is not blanked');
        assert.match(r.stdout, /FAIL check +0 of 8 SDK steps registered and enabled/);
        assert.match(r.stdout, / {9}disabled +HubSpot sync: Create of lead/);
        assert.ok(r.stdout.includes(`enable the steps (POST ${c.server.url}/api/tenants/${t.tenant.id}/dynamics/steps/enable)`), r.stdout);
      } finally {
        assert.equal((await call('enable')).status, 200);
      }
    });
  });
});
