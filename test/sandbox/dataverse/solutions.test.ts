import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import express from 'express';
import JSZip from 'jszip';
import { listen } from '../../../sandbox/common/listen.ts';
import { start, type Ctx } from './helpers.ts';

/**
 * Solution import into the Dataverse sandbox. The zips are built here from XML in the Dynamics export
 * format (reference/dataverse.md §1, dataverse-examples/), independent of the product's generator.
 */

const CONTACT_FORM = '1fed44d1-ae68-4a41-bd2b-f13acac4acfa';
const LEAD_FORM = 'e3b6ddb7-8df0-4410-ac7b-fd32e5053d38';
const CREATE = '9ebdbb1b-ea3e-db11-86a7-000a3a5473e8';
const UPDATE = '20bebb1b-ea3e-db11-86a7-000a3a5473e8';
const WR_ID = '5b0c8a34-2222-4c2e-9d1f-000000000001';
const WR2_ID = '5b0c8a34-2222-4c2e-9d1f-000000000002';
const EP_ID = '5b0c8a34-4444-4c2e-9d1f-000000000001';
const STEP_CREATE = '5b0c8a34-3333-4c2e-9d1f-000000000001';
const STEP_UPDATE = '5b0c8a34-3333-4c2e-9d1f-000000000002';
const TAB_ID = '5b0c8a34-1111-4c2e-9d1f-000000000001';
const PANEL = '<!DOCTYPE html><html><body><h1>HubSpot panel</h1><script>document.title = location.search</script></body></html>';

interface WebResourceSpec { id: string; name: string; body: string; type?: number }
interface Spec {
  uniqueName?: string;
  version?: string;
  managed?: boolean;
  prefix?: string;
  entity?: string;
  attributes?: Array<{ name: string; schema?: string; type?: string; extra?: string }>;
  key?: { name: string; attributes: string[] } | null;
  tab?: boolean;
  webResources?: WebResourceSpec[];
  endpoint?: boolean;
  steps?: Array<{ id: string; message: string; entity?: string; filtering?: string; handler?: string }>;
  /** Extra customizations.xml sections (inserted before </ImportExportXml>). */
  extra?: string;
  /** Leave these RootComponents out. */
  dropRoots?: number[];
}

const flat = (w: WebResourceSpec) => `/WebResources/${w.name.replace(/[/.]/g, '')}${w.id.toUpperCase()}`;

function solutionXml(s: Spec): string {
  const roots = [
    `<RootComponent type="1" schemaName="${s.entity ?? 'contact'}" behavior="2" />`,
    ...(s.webResources ?? []).map((w) => `<RootComponent type="61" schemaName="${w.name}" behavior="0" />`),
    ...(s.steps ?? []).map((st) => `<RootComponent type="92" id="{${st.id}}" behavior="0" />`),
    ...(s.endpoint ? [`<RootComponent type="95" id="{${EP_ID}}" behavior="0" />`] : []),
  ].filter((r) => !(s.dropRoots ?? []).some((t) => r.includes(`type="${t}"`)));
  return `\uFEFF<?xml version="1.0" encoding="utf-8"?>
<ImportExportXml version="9.2.0.0" SolutionPackageVersion="9.2" languagecode="1033" generatedBy="CrmLive" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <SolutionManifest>
    <UniqueName>${s.uniqueName ?? 'HubSpotSync'}</UniqueName>
    <LocalizedNames><LocalizedName description="HubSpot Sync" languagecode="1033" /></LocalizedNames>
    <Descriptions><Description description="HubSpot &lt;-&gt; Dynamics 365" languagecode="1033" /></Descriptions>
    <Version>${s.version ?? '1.0.0.0'}</Version>
    <Managed>${s.managed === false ? 0 : 1}</Managed>
    <Publisher>
      <UniqueName>hubspotsyncpublisher</UniqueName>
      <LocalizedNames><LocalizedName description="HubSpot Sync Publisher" languagecode="1033" /></LocalizedNames>
      <Descriptions />
      <EMailAddress xsi:nil="true"></EMailAddress>
      <SupportingWebsiteUrl xsi:nil="true"></SupportingWebsiteUrl>
      <CustomizationPrefix>${s.prefix ?? 'hsx'}</CustomizationPrefix>
      <CustomizationOptionValuePrefix>41234</CustomizationOptionValuePrefix>
      <Addresses />
    </Publisher>
    <RootComponents>${roots.join('')}</RootComponents>
    <MissingDependencies />
  </SolutionManifest>
</ImportExportXml>`;
}

function attributeXml(a: { name: string; schema?: string; type?: string; extra?: string }): string {
  const schema = a.schema ?? a.name;
  return `<attribute PhysicalName="${schema}">
    <Type>${a.type ?? 'nvarchar'}</Type><Name>${a.name}</Name><LogicalName>${a.name}</LogicalName>
    <RequiredLevel>none</RequiredLevel><DisplayMask>ValidForAdvancedFind|ValidForForm|ValidForGrid</DisplayMask>
    <ImeMode>auto</ImeMode><ValidForUpdateApi>1</ValidForUpdateApi><ValidForReadApi>1</ValidForReadApi><ValidForCreateApi>1</ValidForCreateApi>
    <IsCustomField>1</IsCustomField><IsAuditEnabled>0</IsAuditEnabled><IsSecured>0</IsSecured><IntroducedVersion>1.0.0.0</IntroducedVersion>
    <IsCustomizable>1</IsCustomizable><IsRenameable>1</IsRenameable><SourceType>0</SourceType>
    ${a.type === undefined || a.type === 'nvarchar' ? '<Format>text</Format><MaxLength>100</MaxLength><Length>200</Length>' : ''}${a.extra ?? ''}
    <displaynames><displayname description="Label of ${a.name}" languagecode="1033" /></displaynames>
    <Descriptions><Description description="made in the test" languagecode="1033" /></Descriptions>
  </attribute>`;
}

function tabXml(w: WebResourceSpec): string {
  return `<tab name="tab_hubspot" id="{${TAB_ID}}" IsUserDefined="0" locklevel="0" showlabel="true" expanded="true" verticallayout="true" solutionaction="Added">
    <labels><label description="HubSpot" languagecode="1033" /></labels>
    <columns><column width="100%"><sections>
      <section name="tab_hubspot_section_1" showlabel="false" showbar="false" locklevel="0" id="{5b0c8a34-1111-4c2e-9d1f-000000000002}" IsUserDefined="0" layout="varwidth" columns="1" labelwidth="115" celllabelalignment="Left" celllabelposition="Left">
        <labels><label description="HubSpot" languagecode="1033" /></labels>
        <rows><row><cell id="{5b0c8a34-1111-4c2e-9d1f-000000000003}" showlabel="false" colspan="1" auto="false" rowspan="20">
          <labels><label description="HubSpot" languagecode="1033" /></labels>
          <control id="WebResource_hubspot" classid="{9FDF5F91-88B1-47f4-AD53-C11EFC01A01D}">
            <parameters><Url>${w.name}</Url><PassParameters>true</PassParameters><Security>false</Security><Scrolling>auto</Scrolling>
              <Border>false</Border><ShowOnMobileClient>false</ShowOnMobileClient><Data>portal=12345&amp;mode=card</Data><WebResourceId>{${w.id}}</WebResourceId></parameters>
          </control>
        </cell></row></rows>
      </section>
    </sections></column></columns>
  </tab>`;
}

function customizationsXml(s: Spec): string {
  const entity = s.entity ?? 'contact';
  const attrs = (s.attributes ?? []).map(attributeXml).join('');
  const key = s.key ? `<EntityKeys><EntityKey><Name>${s.key.name}</Name><LogicalName>${s.key.name}</LogicalName><IntroducedVersion>1.0.0.0</IntroducedVersion>
    <IsCustomizable>1</IsCustomizable><displaynames><displayname description="HubSpot ID key" languagecode="1033" /></displaynames>
    <EntityKeyAttributes>${s.key.attributes.map((a) => `<AttributeName>${a}</AttributeName>`).join('')}</EntityKeyAttributes></EntityKey></EntityKeys>` : '';
  const form = s.tab && s.webResources?.length ? `<FormXml><forms type="main"><systemform>
    <formid>{${CONTACT_FORM}}</formid><IntroducedVersion>1.0.0.0</IntroducedVersion><FormPresentation>1</FormPresentation><FormActivationState>1</FormActivationState>
    <form><tabs>${tabXml(s.webResources[0])}</tabs></form>
    <IsCustomizable>1</IsCustomizable><CanBeDeleted>0</CanBeDeleted><LocalizedNames><LocalizedName description="Contact" languagecode="1033" /></LocalizedNames>
  </systemform></forms></FormXml>` : '';
  const title = entity[0].toUpperCase() + entity.slice(1);
  const wrs = (s.webResources ?? []).map((w) => `<WebResource><WebResourceId>{${w.id}}</WebResourceId><Name>${w.name}</Name><DisplayName>HubSpot panel</DisplayName>
    <WebResourceType>${w.type ?? 1}</WebResourceType><IntroducedVersion>1.0.0.0</IntroducedVersion><IsEnabledForMobileClient>0</IsEnabledForMobileClient>
    <IsAvailableForMobileOffline>0</IsAvailableForMobileOffline><IsCustomizable>1</IsCustomizable><CanBeDeleted>1</CanBeDeleted><IsHidden>0</IsHidden>
    <FileName>${flat(w)}</FileName></WebResource>`).join('');
  const steps = (s.steps ?? []).map((st) => `<SdkMessageProcessingStep Name="HubSpot sync: ${st.message} of ${st.entity ?? 'contact'}" SdkMessageProcessingStepId="{${st.id}}">
    <PrimaryEntity>${st.entity ?? 'contact'}</PrimaryEntity><AsyncAutoDelete>1</AsyncAutoDelete><Description>Posts to the sync server</Description>
    ${st.filtering ? `<FilteringAttributes>${st.filtering}</FilteringAttributes>` : ''}<InvocationSource>0</InvocationSource><Mode>1</Mode><Rank>1</Rank>
    <SdkMessageId>${st.message === 'Create' ? CREATE : st.message === 'Update' ? UPDATE : st.message}</SdkMessageId>
    <EventHandler>{${st.handler ?? EP_ID}}</EventHandler><EventHandlerTypeCode>4618</EventHandlerTypeCode><Stage>40</Stage>
    <IsCustomizable>1</IsCustomizable><IsHidden>0</IsHidden><SupportedDeployment>0</SupportedDeployment><IntroducedVersion>1.0.0.0</IntroducedVersion>
    <SdkMessageProcessingStepImages /></SdkMessageProcessingStep>`).join('');
  const endpoint = s.endpoint ? `<ServiceEndpoints><ServiceEndpoint ServiceEndpointId="{${EP_ID}}" Name="HubSpot Sync Webhook">
    <ConnectionMode>1</ConnectionMode><Contract>8</Contract><Description>Sync server webhook</Description><Path></Path><SolutionNamespace></SolutionNamespace>
    <UserClaim>1</UserClaim><IsCustomizable>1</IsCustomizable><AuthType>5</AuthType><MessageFormat>2</MessageFormat><NamespaceFormat>1</NamespaceFormat>
    <Url>https://sync.example.com/dataverse/webhook</Url></ServiceEndpoint></ServiceEndpoints>` : '';
  return `<?xml version="1.0" encoding="utf-8"?>
<ImportExportXml xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <Entities><Entity><Name LocalizedName="${title}" OriginalName="${title}">${title}</Name>
    <EntityInfo><entity Name="${title}"><attributes>${attrs}</attributes>${key}</entity></EntityInfo>${form}
  </Entity></Entities>
  <Roles /><Workflows /><FieldSecurityProfiles /><Templates /><EntityMaps /><EntityRelationships /><OrganizationSettings /><optionsets />
  <WebResources>${wrs}</WebResources>
  <SdkMessageProcessingSteps>${steps}</SdkMessageProcessingSteps>${endpoint}
  <Languages><Language>1033</Language></Languages>${s.extra ?? ''}
</ImportExportXml>`;
}

type Files = Record<string, string | undefined>;

async function zipOf(s: Spec, tweak: (files: Files) => void = () => {}): Promise<string> {
  const files: Files = {
    '[Content_Types].xml': `\uFEFF<?xml version="1.0" encoding="utf-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/octet-stream" />${(s.webResources ?? []).map((w) => `<Override PartName="${flat(w)}" ContentType="application/octet-stream" />`).join('')}</Types>`,
    'solution.xml': solutionXml(s),
    'customizations.xml': customizationsXml(s),
  };
  for (const w of s.webResources ?? []) files[flat(w).slice(1)] = w.body;
  tweak(files);
  const zip = new JSZip();
  for (const [name, body] of Object.entries(files)) if (body !== undefined) zip.file(name, body);
  return (await zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' })).toString('base64');
}

const FULL: Spec = {
  attributes: [{ name: 'hsx_hubspotid', schema: 'hsx_HubSpotId' }], key: { name: 'hsx_contact_hubspotid_key', attributes: ['hsx_hubspotid'] }, tab: true,
  webResources: [{ id: WR_ID, name: 'hsx_/hubspot/panel.html', body: PANEL }], endpoint: true,
  steps: [{ id: STEP_CREATE, message: 'Create' }, { id: STEP_UPDATE, message: 'Update', filtering: 'firstname,lastname,emailaddress1,hsx_hubspotid' }],
};

async function importZip(c: Ctx, file: string, action = 'ImportSolution', extra: Record<string, unknown> = {}) {
  return c.raw(action, {
    method: 'POST',
    body: JSON.stringify({ OverwriteUnmanagedCustomizations: false, PublishWorkflows: true, CustomizationFile: file, ImportJobId: randomUUID(), ...extra }),
  });
}

async function expectImportError(c: Ctx, file: string, code: string, message: RegExp) {
  const res = await importZip(c, file);
  const body = await res.json();
  assert.equal(res.status, 400, JSON.stringify(body));
  assert.equal(body.error.code, code, body.error.message);
  assert.match(body.error.message, message);
}

async function solutionRow(c: Ctx, name = 'HubSpotSync') {
  const res = await c.raw(`solutions?$filter=uniquename eq '${name}'&$select=uniquename,version,ismanaged,friendlyname,_publisherid_value`);
  return (await res.json()).value[0] as Record<string, unknown> | undefined;
}

async function startReceiver() {
  const received: Array<{ path: string; headers: Record<string, unknown>; body: any }> = [];
  const app = express();
  app.use(express.text({ type: '*/*', limit: '2mb' }));
  app.post('/{*path}', (req, res) => {
    received.push({ path: req.path, headers: req.headers, body: JSON.parse(req.body as string) });
    res.status(200).end();
  });
  return { server: await listen(app), received };
}

/** Creates a contact as the ordinary Dynamics user (not the integration's application user). */
async function createContactAsUser(c: Ctx, values: Record<string, unknown>): Promise<string> {
  const res = await fetch(`${c.sb.orgUrl}/api/data/v9.2/contacts`, {
    method: 'POST', headers: { Authorization: `Bearer ${c.sb.userToken}`, 'Content-Type': 'application/json', 'OData-Version': '4.0' }, body: JSON.stringify(values),
  });
  assert.equal(res.status, 204, await res.text());
  return /\(([0-9a-f-]{36})\)/.exec(res.headers.get('OData-EntityId')!)![1];
}

describe('Dataverse sandbox solution import', function () {
  this.timeout(30_000);
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  before(async () => {
    receiver = await startReceiver();
  });
  after(() => receiver.server.close());

  describe('a full solution', () => {
    let c: Ctx;
    let solutionId: string;
    before(async () => {
      c = await start();
      const res = await c.client.callAction({
        actionName: 'ImportSolution',
        action: { OverwriteUnmanagedCustomizations: false, PublishWorkflows: true, CustomizationFile: await zipOf(FULL), ImportJobId: randomUUID() },
      });
      assert.equal(res ?? null, null);
      solutionId = (await solutionRow(c))!.solutionid as string;
    });
    after(() => c.sb.close());

    it('registers the solution, its publisher and a solutioncomponent per component', async () => {
      const s = await solutionRow(c);
      assert.equal(s?.version, '1.0.0.0');
      assert.equal(s?.ismanaged, true);
      assert.equal(s?.friendlyname, 'HubSpot Sync');
      const pub = await (await c.raw(`publishers(${s!._publisherid_value})?$select=uniquename,customizationprefix`)).json();
      assert.equal(pub.uniquename, 'hubspotsyncpublisher');
      assert.equal(pub.customizationprefix, 'hsx');
      const comps = (await (await c.raw(`solutioncomponents?$filter=_solutionid_value eq ${solutionId}&$select=componenttype,objectid`)).json()).value as Array<{ componenttype: number; objectid: string }>;
      assert.deepEqual(comps.map((x) => x.componenttype).sort((a, b) => a - b), [1, 2, 14, 60, 61, 92, 92, 95]);
      assert.ok(comps.some((x) => x.componenttype === 61 && x.objectid === WR_ID));
      assert.ok(comps.some((x) => x.componenttype === 95 && x.objectid === EP_ID));
    });

    it('adds the column to metadata, $select/$filter and writes', async () => {
      const attr = await (await c.raw(`EntityDefinitions(LogicalName='contact')/Attributes(LogicalName='hsx_hubspotid')?$select=LogicalName,SchemaName,AttributeType,IsCustomAttribute`)).json();
      assert.equal(attr.SchemaName, 'hsx_HubSpotId');
      assert.equal(attr.AttributeType, 'String');
      assert.equal(attr.IsCustomAttribute, true);
      const id = await createContactAsUser(c, { lastname: 'Filter', hsx_hubspotid: '42' });
      const found = await (await c.raw(`contacts?$select=hsx_hubspotid&$filter=hsx_hubspotid eq '42'`)).json();
      assert.deepEqual(found.value.map((r: { contactid: string }) => r.contactid), [id]);
    });

    it('adds the alternate key: upsert by it creates once, then updates', async () => {
      const keys = await (await c.raw(`EntityDefinitions(LogicalName='contact')/Keys?$select=LogicalName,KeyAttributes`)).json();
      assert.deepEqual(keys.value.map((k: { KeyAttributes: string[] }) => k.KeyAttributes), [['hsx_hubspotid']]);
      const first = await c.raw(`contacts(hsx_hubspotid='hs-1')`, { method: 'PATCH', body: JSON.stringify({ lastname: 'Upsert' }) });
      assert.equal(first.status, 204);
      const second = await c.raw(`contacts(hsx_hubspotid='hs-1')`, { method: 'PATCH', body: JSON.stringify({ firstname: 'Ada' }) });
      assert.equal(second.headers.get('OData-EntityId'), first.headers.get('OData-EntityId'));
      const row = await (await c.raw(`contacts(hsx_hubspotid='hs-1')?$select=fullname`)).json();
      assert.equal(row.fullname, 'Ada Upsert');
    });

    it('stores the web resource and serves it on the org URL with its content type', async () => {
      const rows = (await (await c.raw(`webresourceset?$select=name,webresourcetype,content`)).json()).value;
      assert.equal(rows.length, 1);
      assert.equal(rows[0].name, 'hsx_/hubspot/panel.html');
      assert.equal(rows[0].webresourcetype, 1);
      assert.equal(Buffer.from(rows[0].content, 'base64').toString('utf8'), PANEL);
      const page = await fetch(`${c.sb.orgUrl}/WebResources/hsx_/hubspot/panel.html`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type')!, /^text\/html/);
      assert.equal(await page.text(), PANEL);
      const cached = await fetch(`${c.sb.orgUrl}/%7B638000000000000000%7D/WebResources/hsx_/hubspot/panel.html`);
      assert.equal(cached.status, 200);
      assert.equal((await fetch(`${c.sb.orgUrl}/WebResources/hsx_/nope.html`)).status, 404);
    });

    it('merges the tab into the contact main form (systemforms shows it, without solutionaction)', async () => {
      const form = await (await c.raw(`systemforms(${CONTACT_FORM})?$select=formxml,objecttypecode,type`)).json();
      assert.equal(form.objecttypecode, 'contact');
      assert.equal(form.type, 2);
      assert.match(form.formxml, /name="SUMMARY_TAB"[\s\S]*name="tab_hubspot"/);
      assert.match(form.formxml, /<Url>hsx_\/hubspot\/panel.html<\/Url>/);
      assert.doesNotMatch(form.formxml, /solutionaction/);
    });

    it('renders main.aspx with the HubSpot tab iframe and the PassParameters query string', async () => {
      const id = await createContactAsUser(c, { firstname: 'Grace', lastname: 'Hopper' });
      const res = await fetch(`${c.sb.orgUrl}/main.aspx?appid=${randomUUID()}&etn=contact&id=${id}&pagetype=entityrecord`);
      assert.equal(res.status, 200);
      const html = await res.text();
      assert.match(html, /Grace Hopper/);
      const src = /<iframe id="WebResource_hubspot"[^>]* src="([^"]+)"/.exec(html)?.[1].replace(/&amp;/g, '&');
      assert.ok(src, html);
      const url = new URL(src, c.sb.orgUrl);
      assert.equal(url.pathname, '/WebResources/hsx_/hubspot/panel.html');
      assert.equal(url.searchParams.get('id'), `{${id.toUpperCase()}}`);
      assert.equal(url.searchParams.get('typename'), 'contact');
      assert.equal(url.searchParams.get('type'), '2');
      assert.equal(url.searchParams.get('orgname'), 'sandbox');
      assert.equal(url.searchParams.get('userlcid'), '1033');
      assert.equal(url.searchParams.get('orglcid'), '1033');
      assert.equal(url.searchParams.get('data'), 'portal=12345&mode=card');
      assert.equal(await (await fetch(url)).text(), PANEL);
      assert.doesNotMatch(html, /no-imported-tab/);
    });

    it('says so on a form without an imported tab, and 404s an unknown record', async () => {
      const lead = await c.raw('leads', { method: 'POST', body: JSON.stringify({ lastname: 'Lead', subject: 'x' }) });
      const leadId = /\(([0-9a-f-]{36})\)/.exec(lead.headers.get('OData-EntityId')!)![1];
      const html = await (await fetch(`${c.sb.orgUrl}/main.aspx?etn=lead&id=${leadId}&pagetype=entityrecord`)).text();
      assert.match(html, /class="no-imported-tab"/);
      assert.doesNotMatch(html, /<iframe/);
      assert.equal((await fetch(`${c.sb.orgUrl}/main.aspx?etn=contact&id=${randomUUID()}&pagetype=entityrecord`)).status, 404);
      const form = await (await c.raw(`systemforms(${LEAD_FORM})?$select=formxml`)).json();
      assert.doesNotMatch(form.formxml, /tab_hubspot/);
    });

    it('fires the webhook for a person\'s Create and Update once url/authvalue are set', async () => {
      const patch = await c.raw(`serviceendpoints(${EP_ID})`, {
        method: 'PATCH', body: JSON.stringify({ url: `${receiver.server.url}/webhooks/dynamics/t1`, authvalue: '<settings><setting name="x-hs-key" value="s3cret" /></settings>' }),
      });
      assert.equal(patch.status, 204);
      receiver.received.length = 0;
      const id = await createContactAsUser(c, { firstname: 'Hook', lastname: 'Test', emailaddress1: 'hook@example.com' });
      await c.raw(`contacts(${id})`, { method: 'PATCH', body: JSON.stringify({ jobtitle: 'not filtered' }) });
      await c.raw(`contacts(${id})`, { method: 'PATCH', body: JSON.stringify({ firstname: 'Hooked' }) });
      await c.sb.webhooks.idle();
      const mine = receiver.received.filter((r) => r.body.PrimaryEntityId === id);
      assert.deepEqual(mine.map((r) => r.body.MessageName).sort(), ['Create', 'Update']);
      assert.equal(mine[0].path, '/webhooks/dynamics/t1');
      assert.equal(mine[0].headers['x-hs-key'], 's3cret');
      assert.equal(mine.find((r) => r.body.MessageName === 'Create')!.body.InitiatingUserId, c.sb.userId);
      assert.ok(mine.every((r) => [STEP_CREATE, STEP_UPDATE].includes(r.body.OwningExtension.Id)));
    });

    it('records an importjob row', async () => {
      const jobs = (await (await c.raw(`importjobs?$select=solutionname,progress,data`)).json()).value;
      assert.equal(jobs[0].solutionname, 'HubSpotSync');
      assert.equal(jobs[0].progress, 100);
      assert.match(jobs[0].data, /result="success"/);
    });

    it('re-importing the same version is accepted and changes nothing', async () => {
      const res = await importZip(c, await zipOf(FULL));
      assert.equal(res.status, 204, await res.text());
      const form = await (await c.raw(`systemforms(${CONTACT_FORM})?$select=formxml`)).json();
      assert.equal(form.formxml.match(/name="tab_hubspot"/g).length, 1);
      assert.equal((await (await c.raw(`serviceendpoints(${EP_ID})?$select=url`)).json()).url, `${receiver.server.url}/webhooks/dynamics/t1`, 'the PATCHed url is an unmanaged customisation and stays');
      assert.equal((await (await c.raw('sdkmessageprocessingsteps?$select=name')).json()).value.length, 2);
    });

    it('uninstall removes every component (and the webhook stops)', async () => {
      const withData = await createContactAsUser(c, { lastname: 'Data', hsx_hubspotid: 'gone' });
      const del = await c.raw(`solutions(${solutionId})`, { method: 'DELETE' });
      assert.equal(del.status, 204, await del.text());
      assert.equal(await solutionRow(c), undefined);
      assert.equal((await c.raw(`EntityDefinitions(LogicalName='contact')/Attributes(LogicalName='hsx_hubspotid')`)).status, 404);
      assert.deepEqual((await (await c.raw(`EntityDefinitions(LogicalName='contact')/Keys`)).json()).value, []);
      assert.equal((await c.raw(`contacts(${withData})?$select=hsx_hubspotid`)).status, 400);
      const row = await (await c.raw(`contacts(${withData})`)).json();
      assert.equal('hsx_hubspotid' in row, false);
      assert.equal((await fetch(`${c.sb.orgUrl}/WebResources/hsx_/hubspot/panel.html`)).status, 404);
      assert.deepEqual((await (await c.raw('webresourceset')).json()).value, []);
      const form = await (await c.raw(`systemforms(${CONTACT_FORM})?$select=formxml`)).json();
      assert.doesNotMatch(form.formxml, /tab_hubspot/);
      assert.match(form.formxml, /SUMMARY_TAB/);
      assert.equal((await c.raw(`serviceendpoints(${EP_ID})`)).status, 404);
      assert.deepEqual((await (await c.raw('sdkmessageprocessingsteps')).json()).value, []);
      assert.deepEqual((await (await c.raw(`solutioncomponents?$filter=_solutionid_value eq ${solutionId}`)).json()).value, []);
      receiver.received.length = 0;
      await createContactAsUser(c, { lastname: 'After' });
      await c.sb.webhooks.idle();
      assert.equal(receiver.received.length, 0);
      const id = await createContactAsUser(c, { lastname: 'Page' });
      assert.match(await (await fetch(`${c.sb.orgUrl}/main.aspx?etn=contact&id=${id}&pagetype=entityrecord`)).text(), /no-imported-tab/);
    });

    it('can be installed again after uninstall', async () => {
      const res = await importZip(c, await zipOf(FULL));
      assert.equal(res.status, 204, await res.text());
      assert.equal((await c.raw(`EntityDefinitions(LogicalName='contact')/Attributes(LogicalName='hsx_hubspotid')`)).status, 200);
    });
  });

  describe('rejected packages', () => {
    let c: Ctx;
    before(async () => {
      c = await start();
    });
    after(() => c.sb.close());

    const BAD_ZIP = /must contain the following files at its root: solution.xml, customizations.xml, and \[Content_Types\].xml/;
    for (const missing of ['solution.xml', 'customizations.xml', '[Content_Types].xml']) {
      it(`without ${missing}: 0x80048060`, async () => {
        await expectImportError(c, await zipOf(FULL, (f) => { f[missing] = undefined; }), '0x80048060', BAD_ZIP);
      });
    }

    it('a file that is not a zip: 0x80048060', async () => {
      await expectImportError(c, Buffer.from('not a zip at all').toString('base64'), '0x80048060', BAD_ZIP);
    });

    it('malformed XML: 0x80048013', async () => {
      await expectImportError(c, await zipOf(FULL, (f) => { f['customizations.xml'] = f['customizations.xml']!.replace('</Entities>', '</Entitie>'); }), '0x80048013', /not well formed.*customizations\.xml/);
      await expectImportError(c, await zipOf(FULL, (f) => { f['solution.xml'] = '<ImportExportXml><SolutionManifest>'; }), '0x80048013', /solution\.xml/);
    });

    it('an unknown component element: 0x8004801a (XSD)', async () => {
      await expectImportError(c, await zipOf({ ...FULL, extra: '<HubSpotCards />' }), '0x8004801a', /invalid child element 'HubSpotCards'/);
      await expectImportError(c, await zipOf(FULL, (f) => { f['customizations.xml'] = f['customizations.xml']!.replace('<EntityInfo>', '<Widgets /><EntityInfo>'); }), '0x8004801a', /'Entity' has invalid child element 'Widgets'/);
    });

    it('a web resource whose FileName is not in the zip: 0x80048033', async () => {
      await expectImportError(c, await zipOf(FULL, (f) => { delete f[flat(FULL.webResources![0]).slice(1)]; }), '0x80048033', /WebResources\/hsx_hubspotpanelhtml5B0C8A34.* of web resource 'hsx_\/hubspot\/panel.html' is not in the compressed file/);
    });

    it('an attribute on a table that does not exist: 0x8004801d with the MissingDependencies list', async () => {
      await expectImportError(c, await zipOf({ attributes: [{ name: 'hsx_hubspotid', schema: 'hsx_HubSpotId' }], entity: 'hsx_widget' }), '0x8004801d',
        /cannot be imported: HubSpotSync\. Some dependencies are missing.*<Required type="1" schemaName="hsx_widget" \/><Dependent type="2" schemaName="hsx_HubSpotId" \/>/);
    });

    it('a step whose message, table or handler does not exist: 0x8004801d', async () => {
      await expectImportError(c, await zipOf({ ...FULL, steps: [{ id: STEP_CREATE, message: randomUUID() }] }), '0x8004801d', /Required type="0" schemaName="sdkmessage/);
      await expectImportError(c, await zipOf({ ...FULL, steps: [{ id: STEP_CREATE, message: 'Create', entity: 'systemuser' }] }), '0x8004801d', /Required type="1" schemaName="systemuser"/);
      const other = randomUUID();
      await expectImportError(c, await zipOf({ ...FULL, steps: [{ id: STEP_CREATE, message: 'Create', handler: other }] }), '0x8004801d', new RegExp(`Required type="95" schemaName="\\{${other}\\}"`));
      await expectImportError(c, await zipOf({ ...FULL, steps: [{ id: STEP_UPDATE, message: 'Update', filtering: 'firstname,hsx_nosuch' }] }), '0x8004801d', /Required type="2" schemaName="contact.hsx_nosuch"/);
    });

    it('a key on a missing attribute, and a form tab pointing at a missing web resource: 0x8004801d', async () => {
      await expectImportError(c, await zipOf({ ...FULL, key: { name: 'hsx_k', attributes: ['hsx_other'] } }), '0x8004801d', /Required type="2" schemaName="contact.hsx_other" \/><Dependent type="14"/);
      await expectImportError(c, await zipOf(FULL, (f) => { f['customizations.xml'] = f['customizations.xml']!.replace('<Url>hsx_/hubspot/panel.html</Url>', '<Url>hsx_/other.html</Url>'); }), '0x8004801d', /Required type="61" schemaName="hsx_\/other.html"/);
    });

    it('an attribute without the publisher prefix: 0x80048062; an undeclared root component: 0x8004803a', async () => {
      await expectImportError(c, await zipOf({ ...FULL, prefix: 'abc' }), '0x80048062', /Invalid name for attribute hsx_HubSpotId/);
      await expectImportError(c, await zipOf({ ...FULL, dropRoots: [95] }), '0x8004803a', /not declared in the solution file as a root component/);
    });

    it('leaves the org untouched and records the failure in the importjob', async () => {
      assert.equal(await solutionRow(c), undefined);
      assert.equal((await c.raw(`EntityDefinitions(LogicalName='contact')/Attributes(LogicalName='hsx_hubspotid')`)).status, 404);
      assert.deepEqual((await (await c.raw('webresourceset')).json()).value, []);
      assert.deepEqual((await (await c.raw('serviceendpoints')).json()).value, []);
      const jobId = randomUUID();
      await importZip(c, await zipOf({ ...FULL, prefix: 'abc' }), 'ImportSolution', { ImportJobId: jobId });
      const job = await (await c.raw(`importjobs(${jobId})?$select=data`)).json();
      assert.match(job.data, /result="failure" errorcode="0x80048062"/);
    });

    it('rolls back everything when a step fails half-way (key index collides with existing rows)', async () => {
      const col = await c.raw(`EntityDefinitions(LogicalName='contact')/Attributes`, {
        method: 'POST', body: JSON.stringify({ '@odata.type': 'Microsoft.Dynamics.CRM.StringAttributeMetadata', SchemaName: 'hsx_Code', MaxLength: 50, DisplayName: { LocalizedLabels: [{ Label: 'Code', LanguageCode: 1033 }] } }),
      });
      assert.equal(col.status, 204);
      await createContactAsUser(c, { lastname: 'One', hsx_code: 'same' });
      await createContactAsUser(c, { lastname: 'Two', hsx_code: 'same' });
      const res = await importZip(c, await zipOf({ ...FULL, key: { name: 'hsx_code_key', attributes: ['hsx_code'] } }));
      const body = await res.json();
      assert.equal(res.status, 400);
      assert.equal(body.error.code, '0x80048033');
      assert.match(body.error.message, /hsx_code_key requires that this set of attributes contains unique values/);
      assert.equal(await solutionRow(c), undefined);
      assert.equal((await c.raw(`EntityDefinitions(LogicalName='contact')/Attributes(LogicalName='hsx_hubspotid')`)).status, 404);
      assert.equal((await c.raw(`EntityDefinitions(LogicalName='contact')/Attributes(LogicalName='hsx_code')`)).status, 200, 'the column made before the import stays');
      assert.deepEqual((await (await c.raw('webresourceset')).json()).value, []);
      assert.deepEqual((await (await c.raw('sdkmessageprocessingsteps')).json()).value, []);
      assert.doesNotMatch((await (await c.raw(`systemforms(${CONTACT_FORM})?$select=formxml`)).json()).formxml, /tab_hubspot/);
      assert.deepEqual((await (await c.raw('publishers?$filter=uniquename eq \'hubspotsyncpublisher\'')).json()).value, []);
    });

    it('a missing action parameter is an OData error', async () => {
      const res = await c.raw('ImportSolution', { method: 'POST', body: JSON.stringify({ CustomizationFile: await zipOf(FULL) }) });
      assert.equal(res.status, 400);
      assert.match((await res.json()).error.message, /OverwriteUnmanagedCustomizations/);
    });
  });

  describe('versions', () => {
    let c: Ctx;
    const V1: Spec = { ...FULL, version: '1.0.0.0' };
    // 2.0: a second web resource replaces the first, the Create step is gone, one more column.
    const V2: Spec = {
      ...FULL, version: '2.0.0.0', attributes: [{ name: 'hsx_hubspotid', schema: 'hsx_HubSpotId' }, { name: 'hsx_lastsync', schema: 'hsx_LastSync', type: 'datetime' }],
      webResources: [{ id: WR2_ID, name: 'hsx_/hubspot/panel2.html', body: '<p>v2</p>' }], steps: [FULL.steps![1]],
    };
    before(async () => {
      c = await start();
    });
    after(() => c.sb.close());

    it('StageAndUpgrade to a higher version adds new components and removes dropped ones', async () => {
      assert.equal((await importZip(c, await zipOf(V1))).status, 204);
      await c.raw(`serviceendpoints(${EP_ID})`, { method: 'PATCH', body: JSON.stringify({ url: `${receiver.server.url}/kept` }) });
      const res = await importZip(c, await zipOf(V2), 'StageAndUpgrade');
      assert.equal(res.status, 200, await res.text());
      assert.equal((await solutionRow(c))?.version, '2.0.0.0');
      assert.equal((await c.raw(`EntityDefinitions(LogicalName='contact')/Attributes(LogicalName='hsx_lastsync')`)).status, 200);
      assert.equal((await fetch(`${c.sb.orgUrl}/WebResources/hsx_/hubspot/panel.html`)).status, 404);
      assert.equal(await (await fetch(`${c.sb.orgUrl}/WebResources/hsx_/hubspot/panel2.html`)).text(), '<p>v2</p>');
      assert.equal((await c.raw(`sdkmessageprocessingsteps(${STEP_CREATE})`)).status, 404);
      assert.equal((await c.raw(`sdkmessageprocessingsteps(${STEP_UPDATE})`)).status, 200);
      const form = (await (await c.raw(`systemforms(${CONTACT_FORM})?$select=formxml`)).json()).formxml as string;
      assert.match(form, /<Url>hsx_\/hubspot\/panel2.html<\/Url>/);
      assert.equal(form.match(/name="tab_hubspot"/g)!.length, 1);
      assert.equal((await (await c.raw(`serviceendpoints(${EP_ID})?$select=url`)).json()).url, `${receiver.server.url}/kept`);
    });

    it('a lower version is refused; ImportSolution of a higher one updates without removing', async () => {
      await expectImportError(c, await zipOf(V1), '0x80048033', /version 1\.0\.0\.0 cannot be imported: version 2\.0\.0\.0 is already installed/);
      const V3: Spec = { ...V2, version: '3.0.0.0', steps: [], webResources: [{ id: WR_ID, name: 'hsx_/hubspot/panel.html', body: PANEL }] };
      assert.equal((await importZip(c, await zipOf(V3))).status, 204);
      assert.equal((await solutionRow(c))?.version, '3.0.0.0');
      assert.equal((await c.raw(`sdkmessageprocessingsteps(${STEP_UPDATE})`)).status, 200, 'update keeps components the new version dropped');
      assert.equal((await fetch(`${c.sb.orgUrl}/WebResources/hsx_/hubspot/panel2.html`)).status, 200);
      assert.equal((await fetch(`${c.sb.orgUrl}/WebResources/hsx_/hubspot/panel.html`)).status, 200);
      // …and they still belong to the solution, so uninstall removes them.
      const id = (await solutionRow(c))!.solutionid as string;
      assert.equal((await c.raw(`solutions(${id})`, { method: 'DELETE' })).status, 204);
      assert.deepEqual((await (await c.raw('webresourceset')).json()).value, []);
      assert.deepEqual((await (await c.raw('sdkmessageprocessingsteps')).json()).value, []);
    });

    it('managed ↔ unmanaged mismatch and a changed publisher are refused', async () => {
      assert.equal((await importZip(c, await zipOf({ ...V1, managed: false, uniqueName: 'Other', steps: [], endpoint: false }))).status, 204);
      await expectImportError(c, await zipOf({ ...V1, uniqueName: 'Other', steps: [], endpoint: false }), '0x80048040', /already installed on this system as an unmanaged solution/);
      await expectImportError(c, await zipOf({ ...V1, uniqueName: 'Other', managed: false, steps: [], endpoint: false }, (f) => {
        f['solution.xml'] = f['solution.xml']!.replace('<UniqueName>hubspotsyncpublisher</UniqueName>', '<UniqueName>someoneelse</UniqueName>');
      }), '0x8004801c', /publisher name cannot be changed/);
    });

    it('deleting an unmanaged solution removes only the container, as in Dataverse', async () => {
      const id = (await solutionRow(c, 'Other'))!.solutionid as string;
      assert.equal((await c.raw(`solutions(${id})`, { method: 'DELETE' })).status, 204);
      assert.equal(await solutionRow(c, 'Other'), undefined);
      assert.equal((await c.raw(`EntityDefinitions(LogicalName='contact')/Attributes(LogicalName='hsx_hubspotid')`)).status, 200);
    });
  });

  it('allowDowngrade lets a lower version through', async () => {
    const c = await start({ solutions: { allowDowngrade: true } });
    try {
      assert.equal((await importZip(c, await zipOf({ ...FULL, version: '2.0' }))).status, 204);
      assert.equal((await importZip(c, await zipOf({ ...FULL, version: '1.5' }))).status, 204);
      assert.equal((await solutionRow(c))?.version, '1.5');
    } finally {
      await c.sb.close();
    }
  });
});

