import assert from 'node:assert/strict';
import { stripSolutionAction } from '../../dynamics-solution/xml/writer.ts';
import { packagesFor, unzip, xmllint } from './helpers.ts';

/**
 * customizations.xml against Microsoft's 9.0.0.2090 XSD (libxml2 copy). The schema does not know
 * `solutionaction` on tabs, so it is stripped first (shared/schemas/dataverse/SOURCE.txt).
 */
describe('dynamics-solution: XSD validation with xmllint', function () {
  this.timeout(30_000);
  let xml: string;
  before(async () => {
    const [m] = await packagesFor();
    xml = await (await unzip(m.bytes)).text('customizations.xml');
  });

  it('the generated customizations.xml validates (solutionaction stripped)', async () => {
    const r = await xmllint(stripSolutionAction(xml));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /validates/);
  });

  it('also for another prefix and server URL', async () => {
    const [m] = await packagesFor({ prefix: 'acme1', serverUrl: 'https://sync.acme.test/base/' }, ['managed']);
    const r = await xmllint(stripSolutionAction(await (await unzip(m.bytes)).text('customizations.xml')));
    assert.equal(r.code, 0, r.stderr);
  });

  it('only strips the attribute: without stripping, the schema rejects solutionaction (so the check is real)', async () => {
    const r = await xmllint(xml);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /solutionaction/);
  });

  it('a deliberately broken customizations.xml fails: sections out of order', async () => {
    const broken = stripSolutionAction(xml).replace(/ {2}<Languages>[\s\S]*?<\/Languages>\n/, '').replace('  <Roles />', '  <Languages>\n    <Language>1033</Language>\n  </Languages>\n  <Roles />');
    const r = await xmllint(broken);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /fails to validate/);
  });

  it('a deliberately broken customizations.xml fails: unknown attribute type and non-integer step mode', async () => {
    const badType = stripSolutionAction(xml).replace('<Type>nvarchar</Type>', '<Type>string</Type>');
    assert.notEqual((await xmllint(badType)).code, 0);
    const badMode = stripSolutionAction(xml).replace('<Mode>1</Mode>', '<Mode>async</Mode>');
    const r = await xmllint(badMode);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Mode/);
  });
});
