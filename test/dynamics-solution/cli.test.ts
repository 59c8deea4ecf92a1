import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './helpers.ts';

/** `npm run package-solution` as a child process: outputs, byte-identical reruns, clear errors. */
describe('dynamics-solution: package-solution CLI', function () {
  this.timeout(60_000);

  it('writes the managed zip by default, both with --both, and identical bytes on a second run', async () => {
    const a = mkdtempSync(join(tmpdir(), 'hds-cli-a-'));
    const b = mkdtempSync(join(tmpdir(), 'hds-cli-b-'));
    const one = await runCli(['--out', a]);
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual(readdirSync(a), ['HubSpotDynamicsSync_1.0.0.0_managed.zip']);
    assert.match(one.stdout, /HubSpotDynamicsSync_1\.0\.0\.0_managed\.zip \(managed, \d+ bytes\)/);
    const two = await runCli(['--out', b, '--both', '--version', '1.0.0.0']);
    assert.equal(two.code, 0, two.stderr);
    assert.deepEqual(readdirSync(b).sort(), ['HubSpotDynamicsSync_1.0.0.0_managed.zip', 'HubSpotDynamicsSync_1.0.0.0_unmanaged.zip']);
    assert.ok(readFileSync(join(a, 'HubSpotDynamicsSync_1.0.0.0_managed.zip')).equals(readFileSync(join(b, 'HubSpotDynamicsSync_1.0.0.0_managed.zip'))), 'byte-identical');
  });

  it('--unmanaged writes only the unmanaged zip, named with the version', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hds-cli-u-'));
    const r = await runCli(['--out', dir, '--unmanaged', '--version', '2.1.0.7', '--prefix', 'acme', '--server-url', 'http://127.0.0.1:8080']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(dir), ['HubSpotDynamicsSync_2.1.0.7_unmanaged.zip']);
  });

  const bad: Array<[string, string[], RegExp]> = [
    ['a three-part version', ['--version', '1.0.0'], /--version '1\.0\.0' is invalid: use four dot-separated integers/],
    ['a version with letters', ['--version', '1.0.0.a'], /four dot-separated integers/],
    ['an upper-case prefix', ['--prefix', 'HDS'], /--prefix 'HDS' is invalid: use 2–8 lower-case letters or digits starting with a letter/],
    ['a one-letter prefix', ['--prefix', 'h'], /2–8 lower-case/],
    ['a prefix starting with a digit', ['--prefix', '1abc'], /starting with a letter/],
    ['a too long prefix', ['--prefix', 'abcdefghi'], /2–8/],
    ['the reserved mscrm prefix', ['--prefix', 'mscrm'], /'mscrm' are reserved/],
    ['an http server URL', ['--server-url', 'http://sync.example.com'], /must use https: plain http is allowed only for 127\.0\.0\.1 or localhost/],
    ['a server URL that is no URL', ['--server-url', 'sync.example.com'], /is not a URL/],
    ['an ftp server URL', ['--server-url', 'ftp://sync.example.com'], /must use https/],
    ['an unknown option', ['--managed-only'], /Unknown option '--managed-only'/],
    ['--unmanaged with --both', ['--unmanaged', '--both'], /exclude each other/],
    ['a missing option value', ['--version'], /argument missing|--version <value>/i],
  ];
  for (const [what, args, message] of bad) {
    it(`refuses ${what} with exit code 2 and a clear message`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'hds-cli-bad-'));
      const r = await runCli(['--out', dir, ...args]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /Usage: npm run package-solution/);
      assert.deepEqual(readdirSync(dir), [], 'nothing written');
    });
  }

  it('--help prints the usage', async () => {
    const r = await runCli(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /--server-url <url>/);
  });
});
