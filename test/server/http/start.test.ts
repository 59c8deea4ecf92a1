import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { until } from './harness.ts';

describe('npm start -- --json (demo: sandboxes + server + demo tenant)', function () {
  this.timeout(60_000);

  it('prints one JSON line with a working server and tenant, syncs the seeded records, exits 0 on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sync-start-'));
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', DATA_DIR: dataDir, SANDBOX_HUBSPOT_PORT: '0', SANDBOX_DATAVERSE_PORT: '0', SANDBOX_IDENTITY_PORT: '0' };
    for (const k of ['HUBSPOT_CLIENT_ID', 'HUBSPOT_CLIENT_SECRET', 'HUBSPOT_APP_ID', 'SYNC_SANDBOX', 'DATABASE_URL', 'ENCRYPTION_KEY', 'PUBLIC_URL']) delete env[k];
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const lines: string[] = [];
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).on('line', (l) => (lines.push(l), lines.length === 1 && resolve(l)));
      child.once('exit', (code) => reject(new Error(`exited early with ${code}: ${stderr}`)));
    });
    try {
      const info = JSON.parse(first);
      assert.deepEqual(Object.keys(info).sort(), ['dataverse', 'hubspot', 'server', 'tenant']);
      for (const k of ['baseUrl', 'portalId', 'userToken', 'developerApiKey']) assert.ok(info.hubspot[k], `hubspot.${k}`);
      for (const k of ['orgUrl', 'userToken', 'applicationUserId']) assert.ok(info.dataverse[k], `dataverse.${k}`);
      assert.match(info.server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(info.tenant.id, 'demo');

      assert.equal((await fetch(`${info.server.url}/healthz`)).status, 200);
      const tenant = await fetch(`${info.server.url}/api/tenants/demo`, { headers: { authorization: `Bearer ${info.tenant.apiKey}` } });
      assert.equal(tenant.status, 200);
      const view = (await tenant.json()) as { mode: string; mainSwitch: boolean; settings: { dynamics: { applicationUserId: string } } };
      assert.deepEqual([view.mode, view.mainSwitch], ['production', true]);
      assert.equal(view.settings.dynamics.applicationUserId, info.dataverse.applicationUserId.toLowerCase());

      // End to end through both webhooks: the seeded HubSpot contact reaches Dynamics (and gets its link back),
      // the seeded Dynamics lead reaches HubSpot.
      const hsContacts = async () => {
        const res = await fetch(`${info.hubspot.baseUrl}/crm/v3/objects/contacts?limit=100&properties=email,dynamics_id`, { headers: { authorization: `Bearer ${info.hubspot.userToken}` } });
        return ((await res.json()) as { results: Array<{ properties: Record<string, string | null> }> }).results;
      };
      await until(async () => (await hsContacts()).some((c) => c.properties.email === 'ada.lovelace@ss.test.contoso.example' && c.properties.dynamics_id), 30_000, 200);
      await until(async () => (await hsContacts()).some((c) => c.properties.email === 'katherine.johnson@ss.test.example'), 30_000, 200);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, `clean exit on SIGTERM; stderr: ${stderr.slice(-2000)}`);
    assert.equal(lines.length, 1, `exactly one line on stdout, got: ${lines.slice(1).join('\n').slice(0, 500)}`);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('server/src/main.ts run directly prints configuration errors and exits 1', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts'], {
      env: { ...process.env, PORT: 'eighty', DATABASE_URL: 'mysql://x', ENCRYPTION_KEY: '' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 1);
    assert.match(stderr, /Invalid configuration/);
    assert.match(stderr, /PORT must be an integer/);
    assert.match(stderr, /DATABASE_URL must be a postgres/);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
  });
});
