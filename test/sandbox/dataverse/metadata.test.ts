import assert from 'node:assert/strict';
import { start, type Ctx } from './helpers.ts';

describe('dataverse sandbox: metadata', () => {
  let c: Ctx;
  beforeEach(async () => { c = await start(); });
  afterEach(async () => { await c.sb.close(); });

  it('describes tables and attributes', async () => {
    const e = await c.client.retrieveEntity({ key: "LogicalName='contact'", select: ['LogicalName', 'EntitySetName', 'PrimaryIdAttribute', 'PrimaryNameAttribute', 'ChangeTrackingEnabled'] });
    assert.equal(e.EntitySetName, 'contacts');
    assert.equal(e.PrimaryIdAttribute, 'contactid');
    assert.equal(e.PrimaryNameAttribute, 'fullname');
    assert.equal(e.ChangeTrackingEnabled, true);
    const tracked = await c.raw(`EntityDefinitions?$select=LogicalName&$filter=${encodeURIComponent('ChangeTrackingEnabled eq true')}`);
    const names = (await tracked.json()).value.map((v: { LogicalName: string }) => v.LogicalName);
    assert.ok(names.includes('lead') && names.includes('opportunity'));
    const attrs = await c.raw("EntityDefinitions(LogicalName='contact')/Attributes?$select=LogicalName,AttributeType,AttributeTypeName");
    const list = (await attrs.json()).value as Array<{ LogicalName: string; AttributeType: string; AttributeTypeName: { Value: string } }>;
    const pc = list.find((a) => a.LogicalName === 'parentcustomerid')!;
    assert.equal(pc.AttributeType, 'Customer');
    assert.equal(list.find((a) => a.LogicalName === 'hds_interests')!.AttributeTypeName.Value, 'MultiSelectPicklistType');
  });

  it('returns option sets through the attribute casts in the documented shape', async () => {
    const res = await c.raw("EntityDefinitions(LogicalName='lead')/Attributes(LogicalName='leadsourcecode')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet($select=Options),GlobalOptionSet");
    assert.equal(res.status, 200);
    const body = await res.json();
    const web = body.OptionSet.Options.find((o: { Value: number }) => o.Value === 8);
    assert.equal(web.Label.UserLocalizedLabel.Label, 'Web');
    assert.equal(web.Label.LocalizedLabels[0].LanguageCode, 1033);
    const status = await c.raw("EntityDefinitions(LogicalName='lead')/Attributes/Microsoft.Dynamics.CRM.StatusAttributeMetadata?$select=LogicalName&$expand=OptionSet");
    const qualified = (await status.json()).value[0].OptionSet.Options.find((o: { Value: number }) => o.Value === 3);
    assert.equal(qualified.State, 1);
    const bools = await c.client.retrieveAttributes({ entityKey: "LogicalName='contact'", castType: 'Microsoft.Dynamics.CRM.BooleanAttributeMetadata', select: ['LogicalName'], expand: [{ property: 'OptionSet' }] });
    const dne = bools.value.find((a: { LogicalName: string }) => a.LogicalName === 'donotemail') as { OptionSet: { TrueOption: { Label: { UserLocalizedLabel: { Label: string } } } } };
    assert.equal(dne.OptionSet.TrueOption.Label.UserLocalizedLabel.Label, 'Do Not Allow');
    const multi = await c.raw("EntityDefinitions(LogicalName='contact')/Attributes/Microsoft.Dynamics.CRM.MultiSelectPicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet");
    assert.equal((await multi.json()).value[0].OptionSet.Options.length, 4);
    const globals = await c.raw('GlobalOptionSetDefinitions');
    assert.equal(globals.status, 200);
  });

  it('creates a custom attribute and an alternate key, then upserts and reads by that key', async () => {
    const attr = await c.raw("EntityDefinitions(LogicalName='contact')/Attributes", {
      method: 'POST',
      body: JSON.stringify({
        '@odata.type': 'Microsoft.Dynamics.CRM.StringAttributeMetadata', SchemaName: 'hds_HubSpotId', MaxLength: 100,
        DisplayName: { '@odata.type': 'Microsoft.Dynamics.CRM.Label', LocalizedLabels: [{ '@odata.type': 'Microsoft.Dynamics.CRM.LocalizedLabel', Label: 'HubSpot Id', LanguageCode: 1033 }] },
        RequiredLevel: { Value: 'None' },
      }),
    });
    assert.equal(attr.status, 204);
    assert.match(attr.headers.get('odata-entityid')!, /EntityDefinitions\(.+\)\/Attributes\(.+\)/);
    const key = await c.raw("EntityDefinitions(LogicalName='contact')/Keys", {
      method: 'POST', body: JSON.stringify({ SchemaName: 'hds_hubspotid_key', DisplayName: { LocalizedLabels: [{ Label: 'HubSpot key', LanguageCode: 1033 }] }, KeyAttributes: ['hds_hubspotid'] }),
    });
    assert.equal(key.status, 204);
    await c.client.upsert({ collection: 'contacts', key: "hds_hubspotid='123'", data: { lastname: 'Keyed', emailaddress1: 'k@x.com' } });
    await c.client.upsert({ collection: 'contacts', key: "hds_hubspotid='123'", data: { firstname: 'Kay' } });
    const row = await c.client.retrieve({ collection: 'contacts', key: "hds_hubspotid='123'", select: ['fullname', 'hds_hubspotid'] });
    assert.equal(row.fullname, 'Kay Keyed');
    assert.equal(row.hds_hubspotid, '123');
    const filtered = await c.client.retrieveMultiple({ collection: 'contacts', select: ['contactid'], filter: "hds_hubspotid eq '123'" });
    assert.equal(filtered.value.length, 1);
    // A second record with the same key value is refused.
    const dup = await c.raw('contacts', { method: 'POST', body: JSON.stringify({ lastname: 'D', hds_hubspotid: '123' }) });
    assert.equal(dup.status, 412);
    const missing = await c.raw("contacts(hds_hubspotid='999')");
    assert.equal(missing.status, 404);
    const noKey = await c.raw("contacts(emailaddress1='k@x.com')");
    assert.equal(noKey.status, 400);
  });
});
