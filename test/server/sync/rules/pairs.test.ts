import assert from 'node:assert/strict';
import { defaultMappings, PAIRS, pairById, pairsForHubSpotObject, renderMappingMarkdown, renderMappingTable } from '../../../../server/src/sync/rules/pairs.ts';

describe('sync rules: pairs', () => {
  it('has the five pairs with entity sets, ids and match strategies', () => {
    assert.deepEqual(PAIRS.map((p) => [p.dynamicsEntity, p.entitySetName, p.primaryId, p.hubspotObject, p.match]), [
      ['lead', 'leads', 'leadid', 'contacts', 'email'],
      ['contact', 'contacts', 'contactid', 'contacts', 'email'],
      ['account', 'accounts', 'accountid', 'companies', 'domainThenName'],
      ['opportunity', 'opportunities', 'opportunityid', 'deals', 'link'],
      ['systemuser', 'systemusers', 'systemuserid', 'owners', 'ownerEmail'],
    ]);
    assert.deepEqual(pairsForHubSpotObject('contacts').map((p) => p.id), ['lead', 'contact']);
    assert.throws(() => pairById('nope' as never));
  });

  it('default rows cover the standard fields, owner and link fields', () => {
    const has = (pair: Parameters<typeof defaultMappings>[0], dyn: string, hs: string) =>
      assert.ok(defaultMappings(pair).some((r) => r.dynamics === dyn && r.hubspot === hs), `${pair}: ${dyn} ↔ ${hs}`);
    for (const pair of ['lead', 'contact'] as const) {
      has(pair, 'emailaddress1', 'email'); has(pair, 'firstname', 'firstname'); has(pair, 'telephone1', 'phone'); has(pair, 'address1_city', 'city');
      has(pair, 'ownerid', 'hubspot_owner_id'); has(pair, 'hds_hubspotid', 'hs_object_id'); has(pair, `${pair}id`, 'dynamics_id');
    }
    has('lead', 'statuscode', 'hs_lead_status'); has('lead', 'companyname', 'company');
    has('account', 'websiteurl', 'domain'); has('account', 'industrycode', 'industry'); has('account', 'revenue', 'annualrevenue');
    has('account', 'numberofemployees', 'numberofemployees');
    has('opportunity', 'name', 'dealname'); has('opportunity', 'estimatedvalue', 'amount'); has('opportunity', 'salesstage', 'dealstage');
    has('opportunity', 'estimatedclosedate', 'closedate');
    for (const p of PAIRS.filter((x) => x.id !== 'systemuser')) {
      for (const link of ['dynamics_id', 'dynamics_entity', 'dynamics_url']) has(p.id, defaultMappings(p.id).find((r) => r.hubspot === link)!.dynamics, link);
    }
  });

  it('the solution prefix is configurable and validated', () => {
    assert.ok(defaultMappings('account', { prefix: 'abc' }).some((r) => r.dynamics === 'abc_hubspotid'));
    assert.ok(!defaultMappings('account', { prefix: 'abc' }).some((r) => r.dynamics.startsWith('hds_')));
    assert.throws(() => defaultMappings('account', { prefix: 'Bad-Prefix' }), /prefix/);
  });

  it('returns fresh copies', () => {
    defaultMappings('lead')[0].direction = 'toHubSpot';
    assert.equal(defaultMappings('lead')[0].direction, 'both');
  });

  it('renders every row of every pair as Markdown', () => {
    const md = renderMappingMarkdown();
    let rows = 0;
    for (const p of PAIRS) {
      assert.ok(md.includes(`### Dynamics ${p.dynamicsEntity} (\`${p.entitySetName}\`)`));
      for (const r of defaultMappings(p.id)) {
        rows += 1;
        const dyn = r.dynamics.startsWith('(') ? r.dynamics : `\`${r.dynamics}\``;
        assert.ok(md.includes(`| ${dyn} | ${r.dynamicsType} |`), `${p.id} ${r.dynamics}`);
        assert.ok(md.includes(`\`${r.hubspot}\` | ${r.hubspotType} |`), `${p.id} ${r.hubspot}`);
      }
    }
    const tableLines = md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| Dynamics column'));
    assert.equal(tableLines.length, rows);
    assert.ok(renderMappingTable(defaultMappings('lead')).includes('⇄'));
  });
});
