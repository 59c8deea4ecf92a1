import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Client } from '@hubspot/api-client';
import { DynamicsWebApi } from 'dynamics-web-api';
import { createDataverseTokenSource } from '../../server/src/connectors/dataverse/token.ts';

function runCli(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'sandbox/cli.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function exitOf(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

describe('npm run sandbox', function () {
  this.timeout(30_000);

  it('prints one JSON line whose credentials work with the official clients, and stops on SIGTERM', async () => {
    const child = runCli(['--json', '--hubspot-port', '0', '--dataverse-port', '0', '--identity-port', '0']);
    const exited = exitOf(child);
    const lines: string[] = [];
    const reader = createInterface({ input: child.stdout! });
    const first = await new Promise<string>((resolve, reject) => {
      reader.on('line', (l) => (lines.push(l), lines.length === 1 && resolve(l)));
      child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
    });
    try {
      const info = JSON.parse(first);
      for (const key of ['baseUrl', 'portalId', 'clientId', 'clientSecret', 'accessToken', 'userToken']) assert.ok(info.hubspot[key], `hubspot.${key}`);
      for (const key of ['orgUrl', 'tenantId', 'authorityUrl', 'clientId', 'clientSecret', 'userToken']) assert.ok(info.dataverse[key], `dataverse.${key}`);

      const hubspot = new Client({ accessToken: info.hubspot.accessToken, basePath: info.hubspot.baseUrl });
      const contact = await hubspot.crm.contacts.basicApi.create({ properties: { email: 'cli@example.com' }, associations: [] });
      assert.match(contact.id, /^\d+$/);

      const tokens = createDataverseTokenSource({
        orgUrl: info.dataverse.orgUrl,
        authorityUrl: info.dataverse.authorityUrl,
        clientId: info.dataverse.clientId,
        clientSecret: info.dataverse.clientSecret,
        sandbox: { caCert: info.dataverse.caCert, authorityMetadata: info.dataverse.authorityMetadata, cloudDiscoveryMetadata: info.dataverse.cloudDiscoveryMetadata },
      });
      const dynamics = new DynamicsWebApi({ serverUrl: info.dataverse.orgUrl, onTokenRefresh: () => tokens.getToken() });
      const who = await dynamics.callFunction<{ UserId: string }>({ functionName: 'WhoAmI' });
      assert.equal(who.UserId, info.dataverse.applicationUserId);
    } finally {
      child.kill('SIGTERM');
    }
    const { code } = await exited;
    assert.equal(code, 0, 'clean exit on SIGTERM');
    assert.equal(lines.length, 1, 'exactly one line of output');
  });

  it('refuses a bad flag with a message and the usage', async () => {
    const { code, stderr } = await exitOf(runCli(['--fault-429', '3']));
    assert.equal(code, 2);
    assert.match(stderr, /--fault-429 must be a number between 0 and 1/);
    assert.match(stderr, /Usage: npm run sandbox/);
  });
});
