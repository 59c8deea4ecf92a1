import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RecordChange } from '../../../sandbox/dataverse/contracts.ts';
import { SDK_MESSAGES } from '../../../sandbox/dataverse/org.ts';
import { appToken, get, start, type Ctx } from './helpers.ts';

describe('dataverse sandbox: auth, limits, actions, change feed', () => {
  let c: Ctx | undefined;
  afterEach(async () => { await c?.sb.close(); c = undefined; });

  it('answers missing, invalid and expired tokens with 401 and WWW-Authenticate', async () => {
    c = await start({ tokenTtlSeconds: 1 });
    const missing = await get(`${c.sb.orgUrl}/api/data/v9.2/contacts`);
    assert.equal(missing.status, 401);
    assert.match(missing.headers.get('www-authenticate')!, /^Bearer authorization_uri=https:\/\/127\.0\.0\.1:\d+\/.+\/oauth2\/authorize, resource_id=http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.ok((await missing.json()).error.message);
    const invalid = await get(`${c.sb.orgUrl}/api/data/v9.2/contacts`, { headers: { Authorization: 'Bearer nope' } });
    assert.equal(invalid.status, 401);
    const token = await appToken(c.sb);
    assert.equal((await get(`${c.sb.orgUrl}/api/data/v9.2/WhoAmI`, { headers: { Authorization: `Bearer ${token}` } })).status, 200);
    await new Promise((r) => setTimeout(r, 2100));
    const expired = await get(`${c.sb.orgUrl}/api/data/v9.2/WhoAmI`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(expired.status, 401);
  });

  it('limits requests per user with 429, Retry-After and 0x80072322', async () => {
    c = await start({ serviceProtection: { requestsPerWindow: 3, windowMs: 60_000 } });
    for (let i = 0; i < 3; i++) assert.equal((await c.raw('WhoAmI')).status, 200);
    const limited = await c.raw('WhoAmI');
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.equal((await limited.json()).error.code, '0x80072322');
    // Another user has a separate budget.
    const other = await get(`${c.sb.orgUrl}/api/data/v9.2/WhoAmI`, { headers: { Authorization: `Bearer ${c.sb.userToken}` } });
    assert.equal(other.status, 200);
    assert.equal((await other.json()).UserId, c.sb.userId);
  });

  it('injects faults with Dataverse bodies and can be switched at run time', async () => {
    c = await start();
    const put = await get(`${c.sb.orgUrl}/__sandbox/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rate429: 1 }) });
    assert.equal(put.status, 200);
    const res = await c.raw('WhoAmI');
    assert.equal(res.status, 429);
    assert.ok(res.headers.get('retry-after'));
    assert.equal((await res.json()).error.code, '0x80072322');
    c.sb.faults.reset();
    assert.equal((await c.raw('WhoAmI')).status, 200);
  });

  it('qualifies a lead into account, contact and opportunity and publishes the changes', async () => {
    c = await start();
    const changes: RecordChange[] = [];
    c.sb.internals.changes.onChange((ch) => changes.push(ch));
    const lead = await c.client.create({ collection: 'leads', data: { subject: 'Big deal', firstname: 'Lou', lastname: 'Lead', companyname: 'LeadCo', emailaddress1: 'lou@leadco.com', jobtitle: 'CTO' } }) as string;
    const res = await c.raw(`leads(${lead})/Microsoft.Dynamics.CRM.QualifyLead`, {
      method: 'POST', body: JSON.stringify({ CreateAccount: true, CreateContact: true, CreateOpportunity: true, Status: 3 }),
    });
    assert.equal(res.status, 200);
    const refs = (await res.json()).value as Array<Record<string, string>>;
    assert.deepEqual(refs.map((r) => r['@odata.type']), ['#Microsoft.Dynamics.CRM.account', '#Microsoft.Dynamics.CRM.contact', '#Microsoft.Dynamics.CRM.opportunity']);
    const contact = await c.client.retrieve({ collection: 'contacts', key: refs[1].contactid, select: ['emailaddress1', 'jobtitle', '_originatingleadid_value', '_parentcustomerid_value'] });
    assert.equal(contact.emailaddress1, 'lou@leadco.com');
    assert.equal(contact._originatingleadid_value, lead);
    assert.equal(contact._parentcustomerid_value, refs[0].accountid);
    const updated = await c.client.retrieve({ collection: 'leads', key: lead, select: ['statecode', 'statuscode'] });
    assert.deepEqual([updated.statecode, updated.statuscode], [1, 3]);
    assert.deepEqual(changes.map((ch) => `${ch.message} ${ch.entity}`), ['Create lead', 'Create account', 'Create contact', 'Create opportunity', 'Update lead']);
    const leadUpdate = changes[4];
    assert.equal(leadUpdate.changed.statecode, 1);
    assert.equal(leadUpdate.changed.subject, undefined);
    assert.equal(leadUpdate.principal.systemUserId, c.sb.applicationUserId);
    const again = await c.raw(`leads(${lead})/Microsoft.Dynamics.CRM.QualifyLead`, {
      method: 'POST', body: JSON.stringify({ CreateAccount: false, CreateContact: false, CreateOpportunity: false, Status: 3 }),
    });
    assert.equal(again.status, 400);
  });

  it('publishes only committed changes with exactly the columns set, and feeds registered webhook steps', async () => {
    c = await start();
    const received: Array<Record<string, unknown>> = [];
    const hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => { received.push(JSON.parse(body)); res.end(); });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    try {
      const changes: RecordChange[] = [];
      c.sb.internals.changes.onChange((ch) => changes.push(ch));
      const ep = await c.client.create({ collection: 'serviceendpoints', data: { name: 'hook', contract: 8, connectionmode: 1, authtype: 4, authvalue: 'k', messageformat: 2, userclaim: 1, url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`, namespaceaddress: 'x', path: 'p', solutionnamespace: 's' } }) as string;
      const filters = await c.client.retrieveMultiple({ collection: 'sdkmessagefilters', select: ['sdkmessagefilterid'], filter: `primaryobjecttypecode eq 'contact' and _sdkmessageid_value eq ${SDK_MESSAGES.Update}` });
      await c.client.create({ collection: 'sdkmessageprocessingsteps', data: {
        name: 'contact update', stage: 40, mode: 1, rank: 1, filteringattributes: 'emailaddress1',
        'sdkmessageid@odata.bind': `/sdkmessages(${SDK_MESSAGES.Update})`, 'sdkmessagefilterid@odata.bind': `/sdkmessagefilters(${filters.value[0].sdkmessagefilterid})`,
        'eventhandler_serviceendpoint@odata.bind': `/serviceendpoints(${ep})`,
      } });
      const steps = c.sb.internals.steps.stepsFor('Update', 'contact');
      assert.equal(steps.length, 1);
      assert.equal(steps[0].endpoint.authValue, 'k');
      assert.deepEqual(steps[0].filteringAttributes, ['emailaddress1']);
      const id = await c.client.create({ collection: 'contacts', data: { lastname: 'Hook' } }) as string;
      changes.length = 0;
      await c.client.update({ collection: 'contacts', key: id, data: { emailaddress1: 'h@x.com' } });
      assert.deepEqual(Object.keys(changes[0].changed).sort(), ['contactid', 'emailaddress1', 'modifiedby', 'modifiedon']);
      assert.equal(changes[0].pre?.emailaddress1, null);
      await c.sb.webhooks.idle();
      assert.equal(received.length, 1);
      assert.equal(received[0].MessageName, 'Update');
      // A rolled-back change set publishes nothing.
      changes.length = 0;
      c.client.startBatch();
      c.client.update({ collection: 'contacts', key: id, data: { jobtitle: 'ok' } });
      c.client.update({ collection: 'contacts', key: id, data: { numberofemployees: 1 } });
      await assert.rejects(c.client.executeBatch());
      assert.equal(changes.length, 0);
      // authvalue is write-only.
      const epRow = await c.raw(`serviceendpoints(${ep})`);
      assert.equal('authvalue' in (await epRow.json()), false);
    } finally {
      hook.close();
    }
  });
});
