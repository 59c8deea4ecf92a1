import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import JSZip from 'jszip';
import { buildSolutionPackages } from '../../dynamics-solution/generate.ts';
import { ZIP_DATE } from '../../dynamics-solution/zip.ts';
import { runCli } from './helpers.ts';

/** Same input → byte-identical zip: fixed entry dates, name-derived ids, stable order. */
describe('dynamics-solution: reproducible zips', function () {
  this.timeout(60_000);

  it('two in-process builds give the same bytes; a different input gives different bytes', async () => {
    const a = (await buildSolutionPackages({}, ['managed', 'unmanaged'])).packages;
    const b = (await buildSolutionPackages({}, ['managed', 'unmanaged'])).packages;
    assert.ok(a[0].bytes.equals(b[0].bytes));
    assert.ok(a[1].bytes.equals(b[1].bytes));
    assert.ok(!a[0].bytes.equals(a[1].bytes), 'managed and unmanaged differ (Managed flag)');
    const c = (await buildSolutionPackages({ version: '1.0.0.1' })).packages;
    assert.ok(!a[0].bytes.equals(c[0].bytes));
  });

  it('every entry carries the fixed date', async () => {
    const [p] = (await buildSolutionPackages({})).packages;
    const zip = await JSZip.loadAsync(p.bytes);
    for (const f of Object.values(zip.files)) {
      assert.equal(f.dir, false);
      assert.equal(f.date.getTime(), ZIP_DATE.getTime(), f.name);
    }
  });

  it('does not depend on the time zone of the build machine', async () => {
    const a = mkdtempSync(join(tmpdir(), 'hds-tz-a-'));
    const b = mkdtempSync(join(tmpdir(), 'hds-tz-b-'));
    assert.equal((await runCli(['--out', a], { TZ: 'Pacific/Auckland' })).code, 0);
    assert.equal((await runCli(['--out', b], { TZ: 'America/Los_Angeles' })).code, 0);
    const name = 'HubSpotDynamicsSync_1.0.0.0_managed.zip';
    assert.ok(readFileSync(join(a, name)).equals(readFileSync(join(b, name))));
  });
});
