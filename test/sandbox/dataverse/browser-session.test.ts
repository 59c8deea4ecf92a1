import assert from 'node:assert/strict';
import express from 'express';
import { listen, type RunningServer } from '../../../sandbox/common/listen.ts';
import { SDK_MESSAGES } from '../../../sandbox/dataverse/org.ts';
import { BrowserSessions, cookieValues, SESSION_COOKIE } from '../../../sandbox/dataverse/sessions.ts';
import type { Principal } from '../../../sandbox/dataverse/contracts.ts';
import { get, start, type Ctx } from './helpers.ts';

/**
 * The browser session, over plain HTTP (no browser): what Chromium would send is spelled out as headers, so
 * each rule is checked on its own — the cookie main.aspx sets, who it authenticates as, what a bad cookie
 * gets, and which cookie-only writes are refused.
 */
describe('dataverse sandbox: browser session (main.aspx sign-in, cookie on the Web API)', () => {
  let c: Ctx | undefined;
  afterEach(async () => { await c?.sb.close(); c = undefined; });

  const api = (path: string, init: RequestInit & { headers?: Record<string, string> } = {}) =>
    get(`${c!.sb.orgUrl}/api/data/v9.2/${path}`, { ...init, headers: { Accept: 'application/json', 'Content-Type': 'application/json', ...(init.headers ?? {}) } });

  /** A lead to open, created by the app user, and the cookie main.aspx hands the browser. */
  async function signIn(): Promise<{ leadId: string; cookie: string; setCookie: string }> {
    const created = await c!.raw('leads', { method: 'POST', body: JSON.stringify({ subject: 'Session test', firstname: 'Sam', lastname: 'Session', emailaddress1: 'sam@example.com' }) });
    assert.equal(created.status, 204);
    const leadId = /\(([0-9a-f-]{36})\)/.exec(created.headers.get('odata-entityid')!)![1];
    const page = await get(`${c!.sb.orgUrl}/main.aspx?etn=lead&id=${leadId}&pagetype=entityrecord`);
    assert.equal(page.status, 200);
    const setCookie = page.headers.getSetCookie().find((h) => h.startsWith(`${SESSION_COOKIE}=`));
    assert.ok(setCookie, `main.aspx sets ${SESSION_COOKIE}: ${page.headers.getSetCookie().join(' | ')}`);
    return { leadId, cookie: setCookie.split(';')[0], setCookie };
  }

  it('main.aspx signs the browser in with an HttpOnly, SameSite=Lax, Path=/ cookie, and keeps a live session', async () => {
    c = await start();
    const { leadId, cookie, setCookie } = await signIn();
    const attributes = setCookie.split(';').slice(1).map((a) => a.trim().toLowerCase());
    assert.ok(attributes.includes('httponly'), setCookie);
    assert.ok(attributes.includes('samesite=lax'), setCookie);
    assert.ok(attributes.includes('path=/'), setCookie);
    assert.ok(!attributes.includes('secure'), 'plain-HTTP sandbox: a Secure cookie would be dropped');
    assert.ok(cookie.length > `${SESSION_COOKIE}=`.length + 40, 'a long random token');

    // Opening another form with the live cookie keeps the same session; a stale cookie gets a fresh one.
    const again = await get(`${c.sb.orgUrl}/main.aspx?etn=lead&id=${leadId}&pagetype=entityrecord`, { headers: { cookie } });
    assert.equal(again.status, 200);
    assert.deepEqual(again.headers.getSetCookie(), []);
    const stale = await get(`${c.sb.orgUrl}/main.aspx?etn=lead&id=${leadId}&pagetype=entityrecord`, { headers: { cookie: `${SESSION_COOKIE}=forged` } });
    assert.equal(stale.headers.getSetCookie().length, 1);
    assert.notEqual(stale.headers.getSetCookie()[0].split(';')[0], cookie);
  });

  it('authenticates a cookie-only GET as the signed-in user: WhoAmI, the record, the rate-limit header', async () => {
    c = await start();
    const { leadId, cookie } = await signIn();
    const who = await api('WhoAmI', { headers: { cookie } });
    assert.equal(who.status, 200);
    assert.equal((await who.json()).UserId, c.sb.userId);
    const lead = await api(`leads(${leadId})?$select=emailaddress1`, { headers: { cookie, 'Sec-Fetch-Site': 'same-origin' } });
    assert.equal(lead.status, 200);
    assert.equal((await lead.json()).emailaddress1, 'sam@example.com');
    assert.ok(lead.headers.get('x-ms-ratelimit-burst-remaining-xrm-requests'));
  });

  it('answers a forged, unknown or expired cookie with the same 401 as a missing token', async () => {
    c = await start({ browserSessionTtlSeconds: 1 });
    const missing = await api('WhoAmI');
    const missingBody = await missing.json();
    assert.equal(missing.status, 401);
    const { cookie } = await signIn();
    const token = cookie.slice(SESSION_COOKIE.length + 1);
    const oneCharOff = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    const refusals = [`${SESSION_COOKIE}=forged-${'x'.repeat(40)}`, `${SESSION_COOKIE}=${oneCharOff}`, `Other=${token}`];
    for (const forged of refusals) {
      const res = await api('WhoAmI', { headers: { cookie: forged } });
      assert.equal(res.status, 401, forged);
      assert.equal(res.headers.get('www-authenticate'), missing.headers.get('www-authenticate'));
      assert.deepEqual(await res.json(), missingBody);
    }
    // An Authorization header wins over the cookie: a bad token is refused even with a live session.
    assert.equal((await api('WhoAmI', { headers: { cookie, Authorization: 'Bearer nope' } })).status, 401);

    // Past the idle time the session is gone (the sliding renewal is checked with a fake clock below, where
    // timing cannot make it flaky).
    await new Promise((r) => setTimeout(r, 1200));
    const expired = await api('WhoAmI', { headers: { cookie } });
    assert.equal(expired.status, 401);
    assert.deepEqual(await expired.json(), missingBody);
  });

  it('refuses cookie-only writes from another origin, accepts them from the org\'s own pages', async () => {
    c = await start();
    const { leadId, cookie } = await signIn();
    const otherOrigin = 'http://127.0.0.1:1';
    const patch = (headers: Record<string, string>, jobtitle: string) =>
      api(`leads(${leadId})`, { method: 'PATCH', headers: { cookie, ...headers }, body: JSON.stringify({ jobtitle }) });
    const refused: Array<Record<string, string>> = [
      { Origin: otherOrigin, 'Sec-Fetch-Site': 'same-site' }, // a page on another port of the same host: same site, other origin
      { Origin: otherOrigin }, // an older browser without fetch metadata
      { 'Sec-Fetch-Site': 'cross-site' },
      { Origin: 'null' }, // sandboxed frames and some redirects send an opaque origin
    ];
    for (const headers of refused) {
      const res = await patch(headers, 'Forged');
      assert.equal(res.status, 403, JSON.stringify(headers));
      const body = await res.json();
      assert.equal(body.error.code, '0x80072560');
      assert.match(body.error.message, /browser session must come from the organization's own pages/);
    }
    const batch = await api('$batch', { method: 'POST', headers: { cookie, Origin: otherOrigin, 'Content-Type': 'multipart/mixed; boundary=b' }, body: '--b--' });
    assert.equal(batch.status, 403, '$batch is a write too');
    const unchanged = await c.raw(`leads(${leadId})?$select=jobtitle`);
    assert.equal((await unchanged.json()).jobtitle, null, 'nothing was written');

    // What the web resource's XHR sends from the org's own page, and a non-browser client with neither header.
    assert.equal((await patch({ Origin: c.sb.orgUrl, 'Sec-Fetch-Site': 'same-origin' }, 'Buyer')).status, 204);
    assert.equal((await patch({}, 'Head buyer')).status, 204);
    const row = await (await c.raw(`leads(${leadId})?$select=jobtitle,_modifiedby_value`)).json();
    assert.equal(row.jobtitle, 'Head buyer');
    assert.equal(row._modifiedby_value, c.sb.userId);

    // The same bearer-authenticated cross-origin write is not the session's business: tokens are not sent by browsers on their own.
    const bearer = await api(`leads(${leadId})`, { method: 'PATCH', headers: { Authorization: `Bearer ${c.sb.userToken}`, Origin: otherOrigin }, body: JSON.stringify({ jobtitle: 'Token' }) });
    assert.equal(bearer.status, 204);
  });

  it('counts cookie calls against the user\'s own service-protection budget, shared with the user\'s bearer calls', async () => {
    c = await start({ serviceProtection: { requestsPerWindow: 3, windowMs: 60_000 } });
    const { cookie } = await signIn(); // the app user created the lead: its budget is separate
    const asUser = { Authorization: `Bearer ${c.sb.userToken}` };
    assert.equal((await api('WhoAmI', { headers: asUser })).status, 200);
    assert.equal((await api('WhoAmI', { headers: { cookie } })).status, 200);
    assert.equal((await api('WhoAmI', { headers: asUser })).status, 200);
    const limited = await api('WhoAmI', { headers: { cookie } });
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.equal((await limited.json()).error.code, '0x80072322');
    assert.equal((await c.raw('WhoAmI')).status, 200, 'the application user is not affected');
  });

  it('fires SDK-step webhooks for cookie writes with the signed-in user as initiating user', async () => {
    c = await start();
    const received: Array<{ InitiatingUserId: string; UserId: string; MessageName: string; PrimaryEntityId: string }> = [];
    const app = express();
    app.use(express.json({ type: '*/*' }));
    app.post('/hook', (req, res) => {
      received.push(req.body);
      res.status(200).end();
    });
    const receiver: RunningServer = await listen(app);
    try {
      const endpoint = await c.raw('serviceendpoints', {
        method: 'POST',
        body: JSON.stringify({ name: 'session hook', contract: 8, connectionmode: 1, authtype: 4, authvalue: 'k', messageformat: 2, namespaceformat: 2, userclaim: 1, url: `${receiver.url}/hook` }),
      });
      assert.equal(endpoint.status, 204);
      const endpointId = /\(([0-9a-f-]{36})\)/.exec(endpoint.headers.get('odata-entityid')!)![1];
      const filters = await (await c.raw(`sdkmessagefilters?$select=sdkmessagefilterid&$filter=primaryobjecttypecode eq 'lead' and _sdkmessageid_value eq ${SDK_MESSAGES.Create}`)).json();
      const step = await c.raw('sdkmessageprocessingsteps', {
        method: 'POST',
        body: JSON.stringify({
          name: 'Create of lead', stage: 40, mode: 1, rank: 1, supporteddeployment: 0,
          'sdkmessageid@odata.bind': `/sdkmessages(${SDK_MESSAGES.Create})`,
          'sdkmessagefilterid@odata.bind': `/sdkmessagefilters(${filters.value[0].sdkmessagefilterid})`,
          'eventhandler_serviceendpoint@odata.bind': `/serviceendpoints(${endpointId})`,
        }),
      });
      assert.equal(step.status, 204);

      const { cookie } = await signIn(); // its lead is created by the app user (first webhook)
      const created = await api('leads', { method: 'POST', headers: { cookie, Origin: c.sb.orgUrl, 'Sec-Fetch-Site': 'same-origin' }, body: JSON.stringify({ lastname: 'From the form' }) });
      assert.equal(created.status, 204);
      const id = /\(([0-9a-f-]{36})\)/.exec(created.headers.get('odata-entityid')!)![1];
      await c.sb.webhooks.idle();
      const mine = received.find((r) => r.PrimaryEntityId === id);
      assert.ok(mine, `webhook for the cookie-created lead: ${JSON.stringify(received.map((r) => r.PrimaryEntityId))}`);
      assert.equal(mine.MessageName, 'Create');
      assert.equal(mine.InitiatingUserId, c.sb.userId);
      assert.equal(mine.UserId, c.sb.userId);
      assert.equal(received.find((r) => r.PrimaryEntityId !== id)?.InitiatingUserId, c.sb.applicationUserId);
    } finally {
      await receiver.close();
    }
  });
});

describe('BrowserSessions', () => {
  const person: Principal = { systemUserId: '7f1c2d3e-4b5a-4c6d-8e7f-901a2b3c4d5e', azureObjectId: '3d280606-3712-4759-b6b9-7302f8d1a3b0', kind: 'user' };

  it('slides the expiry on every accepted use and tells expired from unknown', () => {
    let now = 0;
    const sessions = new BrowserSessions({ signInAs: person, ttlMs: 1000, now: () => now });
    const token = sessions.start();
    const cookie = `a=b; ${SESSION_COOKIE}=${token}`;
    for (const t of [900, 1800, 2700]) {
      now = t;
      assert.deepEqual(sessions.check(cookie), { ok: true, principal: person }, `at ${t} ms`);
    }
    now = 3700;
    assert.deepEqual(sessions.check(cookie), { ok: false, reason: 'expired' });
    assert.deepEqual(sessions.check(cookie), { ok: false, reason: 'invalid' }, 'an expired session is forgotten');
    assert.deepEqual(sessions.check(undefined), { ok: false, reason: 'missing' });
    assert.notEqual(sessions.start(), sessions.start(), 'random tokens');
  });

  it('reads every value of the cookie name, quoted or not', () => {
    assert.deepEqual(cookieValues(`x=1; ${SESSION_COOKIE}=a; ${SESSION_COOKIE}="b"; ${SESSION_COOKIE}=`, SESSION_COOKIE), ['a', 'b']);
    assert.deepEqual(cookieValues(`${SESSION_COOKIE}X=a`, SESSION_COOKIE), []);
  });
});
