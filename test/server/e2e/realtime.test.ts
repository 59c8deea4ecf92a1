import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '../http/harness.ts';
import { cleanEnv, metric, spawnUntilReady, type ChildRun } from './harness.ts';

/**
 * The whole product as `npm start` runs it: one change made by a person in one system reaches the other
 * through the real webhooks with exactly one write, and our own write does not come back.
 */

describe('end to end in real time (npm start demo)', function () {
  this.timeout(90_000);
  let demo: ChildRun;
  let info: any;
  let dataDir: string;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sync-e2e-'));
    const env = cleanEnv({ PORT: '0', DATA_DIR: dataDir, SANDBOX_HUBSPOT_PORT: '0', SANDBOX_DATAVERSE_PORT: '0', SANDBOX_IDENTITY_PORT: '0' });
    demo = await spawnUntilReady(['scripts/start.ts', '--json'], env, () => true, 90_000);
    info = JSON.parse(demo.readyLine);
  });
  after(async () => {
    assert.equal((await demo.stop('SIGTERM')).code, 0);
    rmSync(dataDir, { recursive: true, force: true });
  });

  const hs = (path: string, init: RequestInit = {}) =>
    fetch(`${info.hubspot.baseUrl}${path}`, { ...init, headers: { authorization: `Bearer ${info.hubspot.userToken}`, 'content-type': 'application/json' } });
  const dv = (path: string, init: RequestInit = {}) =>
    fetch(`${info.dataverse.orgUrl}/api/data/v9.2/${path}`, { ...init, headers: { authorization: `Bearer ${info.dataverse.userToken}`, 'content-type': 'application/json', accept: 'application/json' } });
  const contactByEmail = async (email: string) => {
    const res = await hs(`/crm/v3/objects/contacts/${encodeURIComponent(email)}?idProperty=email&properties=jobtitle,dynamics_id,dynamics_entity`);
    return res.status === 200 ? ((await res.json()) as { id: string; properties: Record<string, string | null> }) : undefined;
  };
  const quiet = async () => {
    await fetch(`${info.hubspot.baseUrl}/__sandbox/webhooks/idle`, { method: 'POST' });
    await until(async () => (await metric(info.server.url, 'sync_queue_depth', {})) === 0, 20_000, 100);
  };

  it('a Dynamics user edit reaches HubSpot with one write, and its echo is dropped', async () => {
    const email = 'katherine.johnson@ss.test.example';
    await until(async () => Boolean((await contactByEmail(email))?.properties.dynamics_id), 30_000, 200);
    await quiet();
    const leadId = (await contactByEmail(email))!.properties.dynamics_id!;
    const before = {
      toHubSpot: await metric(info.server.url, 'sync_writes_total', { direction: 'toHubSpot' }),
      toDynamics: await metric(info.server.url, 'sync_writes_total', { direction: 'toDynamics' }),
      echoes: await metric(info.server.url, 'sync_echoes_suppressed_total', { layer: 'source' }),
    };

    assert.equal((await dv(`leads(${leadId})`, { method: 'PATCH', body: JSON.stringify({ jobtitle: 'Mathematician' }) })).status, 204);
    await until(async () => (await contactByEmail(email))?.properties.jobtitle === 'Mathematician', 30_000, 100);
    // Our HubSpot write comes back as an INTEGRATION webhook: wait until the server has seen and dropped it.
    await until(async () => (await metric(info.server.url, 'sync_echoes_suppressed_total', { layer: 'source' })) > before.echoes, 30_000, 100);
    await quiet();

    assert.equal(await metric(info.server.url, 'sync_writes_total', { direction: 'toHubSpot' }), before.toHubSpot + 1, 'exactly one write to HubSpot');
    assert.equal(await metric(info.server.url, 'sync_writes_total', { direction: 'toDynamics' }), before.toDynamics, 'nothing written back to Dynamics');
  });

  it('a HubSpot user edit reaches Dynamics with one write, and its echo is dropped', async () => {
    const email = 'ada.lovelace@ss.test.contoso.example';
    await until(async () => Boolean((await contactByEmail(email))?.properties.dynamics_id), 30_000, 200);
    await quiet();
    const contact = (await contactByEmail(email))!;
    const before = {
      toHubSpot: await metric(info.server.url, 'sync_writes_total', { direction: 'toHubSpot' }),
      toDynamics: await metric(info.server.url, 'sync_writes_total', { direction: 'toDynamics' }),
      echoes: await metric(info.server.url, 'sync_echoes_suppressed_total', { layer: 'source' }),
    };

    assert.equal((await hs(`/crm/v3/objects/contacts/${contact.id}`, { method: 'PATCH', body: JSON.stringify({ properties: { jobtitle: 'Analyst' } }) })).status, 200);
    const set = contact.properties.dynamics_entity === 'lead' ? 'leads' : 'contacts';
    await until(async () => {
      const res = await dv(`${set}(${contact.properties.dynamics_id})?$select=jobtitle`);
      return res.status === 200 && ((await res.json()) as { jobtitle: string }).jobtitle === 'Analyst';
    }, 30_000, 100);
    // Our Dynamics write fires the SDK step as the application user: wait until it is dropped at intake.
    await until(async () => (await metric(info.server.url, 'sync_echoes_suppressed_total', { layer: 'source' })) > before.echoes, 30_000, 100);
    await quiet();

    assert.equal(await metric(info.server.url, 'sync_writes_total', { direction: 'toDynamics' }), before.toDynamics + 1, 'exactly one write to Dynamics');
    assert.equal(await metric(info.server.url, 'sync_writes_total', { direction: 'toHubSpot' }), before.toHubSpot, 'nothing written back to HubSpot');
  });
});
