import assert from 'node:assert/strict';
import { defineSolution, ENDPOINT_NAME, MAIN_FORMS, SDK_MESSAGE_IDS, TABLES, TENANT_PLACEHOLDER, UPDATE_FILTERS } from '../../dynamics-solution/definition.ts';
import { uuidV5 } from '../../dynamics-solution/ids.ts';
import { defaultMappings } from '../../server/src/sync/rules/pairs.ts';
import { packagesFor, parseXml, unzip, type Unzipped } from './helpers.ts';

/** The generated zip, read back with jszip as Dynamics would receive it. */

const WEB_RESOURCE_CLASSID = '{9FDF5F91-88B1-47f4-AD53-C11EFC01A01D}';
const bare = (id: string) => id.replace(/^\{|\}$/g, '').toLowerCase();

describe('dynamics-solution: generated package', function () {
  this.timeout(30_000);
  let managed: Unzipped;
  let unmanaged: Unzipped;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let solution: any, customizations: any, contentTypes: any;
  const def = defineSolution();

  before(async () => {
    const [m, u] = await packagesFor();
    assert.equal(m.fileName, 'HubSpotDynamicsSync_1.0.0.0_managed.zip');
    assert.equal(u.fileName, 'HubSpotDynamicsSync_1.0.0.0_unmanaged.zip');
    managed = await unzip(m.bytes);
    unmanaged = await unzip(u.bytes);
    solution = parseXml(await managed.text('solution.xml')).ImportExportXml.SolutionManifest;
    customizations = parseXml(await managed.text('customizations.xml')).ImportExportXml;
    contentTypes = parseXml(await managed.text('[Content_Types].xml')).Types;
  });

  it('has the export layout: three root files with a UTF-8 BOM, web resources flattened with their id, no folder entries', async () => {
    const wr = def.webResources.map((w) => `WebResources/${w.name.replace(/[/.]/g, '')}${w.id.toUpperCase()}`);
    assert.deepEqual(managed.names, ['[Content_Types].xml', 'customizations.xml', 'solution.xml', ...wr]);
    assert.deepEqual(wr, [`WebResources/hds_hubspotpanelhtml${def.webResources[0].id.toUpperCase()}`, `WebResources/hds_hubspotconfigjs${def.webResources[1].id.toUpperCase()}`]);
    for (const f of ['[Content_Types].xml', 'customizations.xml', 'solution.xml']) {
      const b = await managed.bytes(f);
      assert.deepEqual([...b.subarray(0, 3)], [0xef, 0xbb, 0xbf], `${f} starts with a BOM`);
      assert.match(b.subarray(3, 60).toString(), /^<\?xml version="1.0" encoding="utf-8"\?>/);
    }
  });

  it('[Content_Types].xml: Default xml plus one Override per web resource entry', () => {
    assert.equal(contentTypes['@xmlns'], 'http://schemas.openxmlformats.org/package/2006/content-types');
    assert.equal(contentTypes.Default['@Extension'], 'xml');
    assert.deepEqual(contentTypes.Override.map((o: { '@PartName': string }) => o['@PartName']).sort(),
      def.webResources.map((w) => `/WebResources/${w.name.replace(/[/.]/g, '')}${w.id.toUpperCase()}`).sort());
    for (const o of contentTypes.Override) assert.equal(o['@ContentType'], 'application/octet-stream');
  });

  it('solution.xml: unique name, version, managed flag and the publisher with prefix and option value prefix', async () => {
    assert.equal(solution.UniqueName, 'HubSpotDynamicsSync');
    assert.equal(solution.Version, '1.0.0.0');
    assert.equal(solution.Managed, '1');
    assert.equal(parseXml(await unmanaged.text('solution.xml')).ImportExportXml.SolutionManifest.Managed, '0');
    assert.equal(solution.LocalizedNames.LocalizedName['@description'], 'HubSpot ⇄ Dynamics 365 Sync');
    const p = solution.Publisher;
    assert.equal(p.UniqueName, 'hubspotdynamicssync');
    assert.equal(p.CustomizationPrefix, 'hds');
    assert.equal(p.CustomizationOptionValuePrefix, '72150');
    assert.equal(p.EMailAddress['@xsi:nil'], 'true');
  });

  it('solution.xml: root components with their type codes and behaviours', () => {
    const roots = solution.RootComponents.RootComponent.map((r: Record<string, string>) => ({ type: Number(r['@type']), name: r['@schemaName'], id: r['@id'] && bare(r['@id']), behavior: Number(r['@behavior']) }));
    assert.deepEqual(roots.filter((r: { type: number }) => r.type === 1), TABLES.map((t) => ({ type: 1, name: t, id: undefined, behavior: 2 })), 'system tables as shells');
    assert.deepEqual(roots.filter((r: { type: number }) => r.type === 61), def.webResources.map((w) => ({ type: 61, name: w.name, id: undefined, behavior: 0 })));
    assert.deepEqual(roots.filter((r: { type: number }) => r.type === 95), [{ type: 95, name: undefined, id: def.endpoint.id, behavior: 0 }]);
    const steps = roots.filter((r: { type: number }) => r.type === 92);
    assert.equal(steps.length, 8);
    assert.deepEqual(steps.map((s: { id: string }) => s.id).sort(), def.steps.map((s) => s.id).sort());
    assert.equal(roots.length, 4 + 2 + 8 + 1, 'nothing else');
  });

  it('customizations.xml: top-level sections in the XSD order', async () => {
    const xml = await managed.text('customizations.xml');
    const order = [...xml.matchAll(/^ {2}<(\w+)/gm)].map((m) => m[1]);
    assert.deepEqual(order, ['Entities', 'Roles', 'Workflows', 'FieldSecurityProfiles', 'Templates', 'EntityMaps', 'EntityRelationships', 'OrganizationSettings', 'optionsets', 'WebResources', 'SdkMessageProcessingSteps', 'ServiceEndpoints', 'Languages']);
  });

  it('adds the HubSpot columns to lead, contact, account and opportunity', () => {
    const entities = customizations.Entities.Entity;
    assert.deepEqual(entities.map((e: { Name: { '#text': string } }) => e.Name['#text']), ['Lead', 'Contact', 'Account', 'Opportunity']);
    for (const e of entities) {
      const attrs = e.EntityInfo.entity.attributes.attribute;
      const byName = new Map<string, Record<string, unknown>>(attrs.map((a: Record<string, unknown>) => [a.LogicalName as string, a]));
      const expected = ['hds_hubspotid', 'hds_hubspoturl', 'hds_lastsyncedon', 'hds_syncstatus', 'hds_syncerror', ...(e.Name['#text'] === 'Opportunity' ? [] : ['hds_lifecyclestage'])];
      assert.deepEqual([...byName.keys()], expected, e.Name['#text']);
      for (const a of attrs) {
        assert.equal(a['@PhysicalName'].toLowerCase(), a.LogicalName);
        assert.equal(a.Name, a.LogicalName);
        assert.equal(a.IsCustomField, '1');
        assert.ok(a.displaynames.displayname['@description']);
      }
      const id = byName.get('hds_hubspotid') as Record<string, string>;
      assert.equal(id['@PhysicalName'], 'hds_HubSpotId');
      assert.deepEqual([id.Type, id.MaxLength, id.Length, id.Format], ['nvarchar', '100', '200', 'text']);
      assert.deepEqual([(byName.get('hds_hubspoturl') as Record<string, string>).Type, (byName.get('hds_hubspoturl') as Record<string, string>).Format], ['nvarchar', 'url']);
      assert.equal((byName.get('hds_lastsyncedon') as Record<string, string>).Type, 'datetime');
      assert.equal((byName.get('hds_syncerror') as Record<string, string>).Type, 'ntext');
      const status = byName.get('hds_syncstatus') as { Type: string; optionset: { '@Name': string; options: { option: Array<{ '@value': string; labels: { label: { '@description': string } } }> } } };
      assert.equal(status.Type, 'picklist');
      assert.equal(status.optionset['@Name'], `${e.Name['#text'].toLowerCase()}_hds_syncstatus`);
      assert.deepEqual(status.optionset.options.option.map((o) => [o['@value'], o.labels.label['@description']]),
        [['721500000', 'Synced'], ['721500001', 'Pending'], ['721500002', 'Error'], ['721500003', 'Excluded']]);
    }
  });

  it('puts an alternate key on <prefix>_hubspotid of every table (the upsert key)', () => {
    for (const e of customizations.Entities.Entity) {
      const keys = e.EntityInfo.entity.EntityKeys.EntityKey;
      assert.equal(keys.length, 1);
      assert.equal(keys[0].Name, 'hds_hubspotid_key');
      assert.equal(keys[0].LogicalName, 'hds_hubspotid_key');
      assert.deepEqual(keys[0].EntityKeyAttributes.AttributeName, ['hds_hubspotid']);
    }
  });

  it('adds the HubSpot tab (solutionaction Added) with a web resource control to the lead and contact main forms only', () => {
    const panel = def.webResources.find((w) => w.content === 'panel')!;
    for (const e of customizations.Entities.Entity) {
      const entity = e.Name['#text'].toLowerCase() as keyof typeof MAIN_FORMS;
      if (!(entity in MAIN_FORMS)) {
        assert.equal(e.FormXml, undefined, `${entity} has no form change`);
        continue;
      }
      assert.equal(e.FormXml.forms.length, 1);
      assert.equal(e.FormXml.forms[0]['@type'], 'main');
      const [sf] = e.FormXml.forms[0].systemform;
      assert.equal(bare(sf.formid), MAIN_FORMS[entity].formId);
      assert.equal(sf.LocalizedNames.LocalizedName['@description'], MAIN_FORMS[entity].formName);
      const tabs = sf.form.tabs.tab;
      assert.equal(tabs.length, 1, 'only our tab: a diff, not a whole form');
      assert.equal(tabs[0]['@solutionaction'], 'Added');
      assert.equal(tabs[0]['@name'], 'hds_tab_hubspot');
      assert.equal(tabs[0].labels.label['@description'], 'HubSpot');
      const cell = tabs[0].columns.column.sections.section.rows.row.cell;
      const control = cell.control;
      assert.equal(control['@classid'], WEB_RESOURCE_CLASSID);
      assert.equal(control.parameters.Url, panel.name);
      assert.equal(control.parameters.PassParameters, 'true');
      assert.equal(bare(control.parameters.WebResourceId), panel.id);
    }
    // Tab ids differ per form (a tab id is unique in the org).
    const tabIds = customizations.Entities.Entity.filter((e: { FormXml?: unknown }) => e.FormXml).map((e: any) => e.FormXml.forms[0].systemform[0].form.tabs.tab[0]['@id']); // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(new Set(tabIds).size, 2);
  });

  it('ships the web resources: the panel HTML and its config, each file present and referenced by FileName', async () => {
    const wrs = customizations.WebResources.WebResource;
    assert.deepEqual(wrs.map((w: Record<string, string>) => [w.Name, w.WebResourceType]), [['hds_/hubspot/panel.html', '1'], ['hds_/hubspot/config.js', '3']]);
    for (const w of wrs) {
      assert.match(w.FileName, /^\/WebResources\/[A-Za-z0-9_-]+$/);
      assert.ok(w.FileName.endsWith(bare(w.WebResourceId).toUpperCase()));
      assert.ok(managed.names.includes(w.FileName.slice(1)), `${w.FileName} is in the zip`);
    }
    const html = await managed.text(wrs[0].FileName.slice(1));
    assert.match(html, /^<!DOCTYPE html>/);
    assert.match(html, /<script src="config.js"><\/script>/);
    const config = await managed.text(wrs[1].FileName.slice(1));
    assert.match(config, /window\.hubspotSyncPanelConfig = \{"serverUrl":"https:\/\/sync\.example\.com","embedCredential":null\};/);
  });

  it('registers the webhook endpoint: contract 8, JSON, WebhookKey, URL with the tenant placeholder, and no secret', async () => {
    const [ep] = customizations.ServiceEndpoints.ServiceEndpoint;
    assert.equal(ep['@Name'], ENDPOINT_NAME);
    assert.equal(bare(ep['@ServiceEndpointId']), def.endpoint.id);
    assert.equal(ep.Contract, '8');
    assert.equal(ep.ConnectionMode, '1');
    assert.equal(ep.AuthType, '4');
    assert.equal(ep.MessageFormat, '2');
    assert.equal(ep.UserClaim, '1');
    assert.equal(ep.Url, `https://sync.example.com/webhooks/dynamics/${TENANT_PLACEHOLDER}`);
    for (const secretish of ['AuthValue', 'SASKey', 'SASToken', 'SASKeyName']) assert.equal(ep[secretish], undefined, secretish);
    const xml = await managed.text('customizations.xml');
    assert.doesNotMatch(xml, /authvalue|[?&]code=|x-hds-key|<settings>/i);
  });

  it('has Create and Update steps for the four tables: async, post-operation, the endpoint as handler', () => {
    const steps = customizations.SdkMessageProcessingSteps.SdkMessageProcessingStep;
    assert.equal(steps.length, 8);
    const seen = new Set<string>();
    for (const s of steps) {
      const message = bare(s.SdkMessageId) === SDK_MESSAGE_IDS.Create ? 'Create' : bare(s.SdkMessageId) === SDK_MESSAGE_IDS.Update ? 'Update' : '?';
      seen.add(`${message} ${s.PrimaryEntity}`);
      assert.equal(s['@Name'], `HubSpot sync: ${message} of ${s.PrimaryEntity}`);
      assert.equal(s.Stage, '40', 'post-operation');
      assert.equal(s.Mode, '1', 'asynchronous');
      assert.equal(s.AsyncAutoDelete, '1');
      assert.equal(s.InvocationSource, '0');
      assert.equal(s.SupportedDeployment, '0');
      assert.equal(bare(s.EventHandler), def.endpoint.id);
      assert.equal(s.EventHandlerTypeCode, '4618', 'serviceendpoint');
      assert.equal(s.PluginTypeName, undefined);
      if (message === 'Create') assert.equal(s.FilteringAttributes, undefined);
      else {
        const cols = s.FilteringAttributes.split(',');
        assert.deepEqual(cols, [...cols].sort());
        assert.ok(cols.includes('emailaddress1') || s.PrimaryEntity === 'opportunity' || s.PrimaryEntity === 'account');
        assert.ok(!cols.some((c: string) => c.startsWith('hds_')), 'our own bookkeeping columns never trigger the webhook');
      }
    }
    assert.deepEqual([...seen].sort(), TABLES.flatMap((t) => [`Create ${t}`, `Update ${t}`]).sort());
  });

  it('Update filters cover every column the server sends from Dynamics to HubSpot by default', () => {
    for (const table of TABLES) {
      const needed = defaultMappings(table)
        .filter((r) => r.direction !== 'toDynamics' && (r.kind === 'field' || r.kind === 'owner'))
        .map((r) => r.dynamics);
      const missing = needed.filter((c) => !UPDATE_FILTERS[table].includes(c));
      assert.deepEqual(missing, [], `${table}: add these to UPDATE_FILTERS`);
    }
  });

  it('derives ids from names: stable across versions, different per prefix', () => {
    const a = defineSolution({ version: '1.0.0.0' });
    const b = defineSolution({ version: '2.3.4.5' });
    const c = defineSolution({ prefix: 'abc' });
    assert.equal(a.endpoint.id, b.endpoint.id);
    assert.deepEqual(a.steps.map((s) => s.id), b.steps.map((s) => s.id));
    assert.notEqual(a.endpoint.id, c.endpoint.id);
    assert.notEqual(a.webResources[0].id, c.webResources[0].id);
    const all = [a.endpoint.id, ...a.steps.map((s) => s.id), ...a.webResources.map((w) => w.id), ...a.formTabs.flatMap((t) => [t.tab.id, t.section.id, t.cell.id])];
    assert.equal(new Set(all).size, all.length, 'all ids distinct');
    // RFC 4122 test vector for v5 (DNS namespace, "python.org").
    assert.equal(uuidV5('python.org', '6ba7b810-9dad-11d1-80b4-00c04fd430c8'), '886313e1-3b8a-5372-9b90-0c9aee199e5d');
  });

  it('applies --prefix and --server-url everywhere', async () => {
    const [m] = await packagesFor({ prefix: 'acme1', serverUrl: 'https://sync.acme.test/base/' }, ['managed']);
    const z = await unzip(m.bytes);
    const c = parseXml(await z.text('customizations.xml')).ImportExportXml;
    const s = parseXml(await z.text('solution.xml')).ImportExportXml.SolutionManifest;
    assert.equal(s.Publisher.CustomizationPrefix, 'acme1');
    assert.ok(c.Entities.Entity.every((e: any) => e.EntityInfo.entity.attributes.attribute.every((a: any) => a.LogicalName.startsWith('acme1_')))); // eslint-disable-line @typescript-eslint/no-explicit-any
    assert.equal(c.ServiceEndpoints.ServiceEndpoint[0].Url, `https://sync.acme.test/base/webhooks/dynamics/${TENANT_PLACEHOLDER}`);
    assert.deepEqual(c.WebResources.WebResource.map((w: { Name: string }) => w.Name), ['acme1_/hubspot/panel.html', 'acme1_/hubspot/config.js']);
    const panel = c.WebResources.WebResource[0];
    const html = await z.text(panel.FileName.slice(1));
    assert.ok(html.includes('"acme1"') && html.includes('_hubspotid'), 'the panel reads <prefix>_hubspotid');
    assert.ok(!html.includes('"hds"'), 'no default prefix left in the bundle');
  });
});
