import assert from 'node:assert/strict';
import vm from 'node:vm';
import { CONFIG_GLOBAL, configScript, readPanelConfig } from '../../dynamics-solution/webresource/config.ts';
import { buildPanelHtml } from '../../dynamics-solution/webresource/build.ts';
import { embedRecordUrl, EmbedContractError, parseEmbedResponse, type EmbedResponse } from '../../dynamics-solution/webresource/embed-contract.ts';
import { loadPanel, parseFormParameters, type PanelDeps } from '../../dynamics-solution/webresource/panel.ts';
import { renderState, type PanelState } from '../../dynamics-solution/webresource/render.ts';

/** The HubSpot tab web resource: the bundle, the embed contract, and every state the panel can show. */

const ID = '5b0c8a34-1111-4c2e-9d1f-000000000001';
const SEARCH = `?id=%7B${ID.toUpperCase()}%7D&orglcid=1033&orgname=org1&type=2&typename=contact&userlcid=1033`;
const CONFIG = { serverUrl: 'https://sync.example.com', embedCredential: 'embed-key-1' };

const LINKED: EmbedResponse = {
  status: 'linked',
  hubspot: {
    id: '901', url: 'https://app.hubspot.com/contacts/123/record/0-1/901', lifecyclestage: 'Marketing qualified lead', hs_lead_status: 'Open',
    owner: { name: 'Ada Owner', email: 'ada@example.com' },
    recentEngagement: [{ type: 'email', title: 'Re: <b>pricing</b>', occurredAt: '2026-11-01T10:00:00Z' }, { type: 'form_submission', title: 'Contact us', occurredAt: '2026-10-30T09:00:00Z' }],
    analytics: { pageViews: 42, formSubmissions: 2, emailsOpened: 7, emailsClicked: 3, lastVisit: '2026-11-02T08:00:00Z' },
  },
  sync: { lastSyncedAt: '2026-11-02T08:05:00Z', status: 'error', errors: [{ what: 'Lead status not sent', why: "HubSpot has no option 'Hott'", fix: 'Add the option in HubSpot or fix the value' }] },
};
const NOT_SYNCED: EmbedResponse = { status: 'not_synced', sync: { lastSyncedAt: null, status: 'pending', errors: [] } };

type Answer = { status: number; body?: unknown } | 'network' | 'hang';
function deps(answer: Answer, over: Partial<PanelDeps> = {}): PanelDeps & { calls: Array<{ url: string; headers: Record<string, string> }> } {
  const calls: Array<{ url: string; headers: Record<string, string> }> = [];
  return {
    calls,
    search: SEARCH,
    rawConfig: CONFIG,
    readRecord: async () => ({ hubspotId: '901', email: 'pat@example.com' }),
    fetch: (url, init) => {
      calls.push({ url, headers: init.headers });
      if (answer === 'network') return Promise.reject(new TypeError('Failed to fetch'));
      if (answer === 'hang') return new Promise((_, reject) => init.signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))));
      const text = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
      return Promise.resolve({ status: answer.status, json: async () => JSON.parse(text), text: async () => text });
    },
    ...over,
  };
}

describe('dynamics-solution: HubSpot tab web resource', function () {
  this.timeout(30_000);

  describe('bundle', () => {
    let html: string;
    before(async () => {
      html = await buildPanelHtml('hds');
    });

    it('builds one self-contained HTML page with the script inlined', () => {
      assert.match(html, /^<!DOCTYPE html>\n<html lang="en">/);
      assert.ok(!html.includes('__PANEL_BUNDLE__'));
      const scripts = [...html.matchAll(/<script([^>]*)>/g)].map((m) => m[1]);
      assert.deepEqual(scripts, [' src="config.js"', ''], 'only the sibling config and the inline bundle');
      assert.equal(html.match(/<\/script/gi)!.length, 2, 'the bundle cannot end its script element early');
      assert.ok(html.length > 50_000, 'xrm-webapi-client is bundled in');
    });

    it('contains no external URL: nothing loads from outside the org', () => {
      assert.deepEqual(html.match(/https?:\/\/[^\s"'`)<]*/gi), null);
      assert.doesNotMatch(html, /(src|href)\s*=\s*["']?\/\//i, 'no protocol-relative links');
      const css = html.match(/<style>([\s\S]*?)<\/style>/)![1];
      assert.doesNotMatch(css, /@import|url\(/i, 'no CSS imports or url()');
      assert.doesNotMatch(html, /\bimport\(/, 'no dynamic imports');
      assert.doesNotMatch(html, /<link\b|<iframe\b|<img\b/i);
    });

    it('is the same for the same input (deterministic) and carries the licences of bundled code', async () => {
      assert.equal(await buildPanelHtml('hds'), html);
      assert.match(html, /Copyright \(c\) 2016 Florian Krönert/);
      assert.match(html, /Petka Antonov/);
    });

    it('runs in a page: reads the query string and config, calls the embed API and renders the linked contact', async () => {
      const script = html.match(/<script>([\s\S]*)<\/script>/)![1];
      const root = { innerHTML: '', attrs: {} as Record<string, string>, setAttribute(n: string, v: string) { this.attrs[n] = v; } };
      const requests: Array<{ url: string; init: { headers: Record<string, string> } }> = [];
      const page: Record<string, unknown> = {
        location: { search: SEARCH, origin: 'https://org1.crm.dynamics.com' },
        document: { getElementById: (id: string) => (id === 'app' ? root : null) },
        fetch: async (url: string, init: { headers: Record<string, string> }) => {
          requests.push({ url, init });
          return { status: 200, json: async () => LINKED, text: async () => JSON.stringify(LINKED) };
        },
        setTimeout, clearTimeout, AbortController, URLSearchParams, console, Promise,
      };
      // config.js runs first in the page and assigns window.<global>.
      page.window = page;
      vm.createContext(page);
      vm.runInContext(configScript(CONFIG), page);
      vm.runInContext(script, page);
      for (let i = 0; i < 50 && root.attrs['aria-busy'] !== 'false'; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(requests.length, 1);
      assert.match(requests[0].url, new RegExp(`^https://sync\\.example\\.com/embed/v1/records/contact/${ID}`));
      assert.equal(requests[0].init.headers.Authorization, 'Bearer embed-key-1');
      assert.match(root.innerHTML, /Marketing qualified lead/);
      // No XMLHttpRequest in this test page: the record read fails and the panel says so, but still works.
      assert.match(root.innerHTML, /Could not read this contact from Dynamics/);
    });
  });

  describe('embed contract', () => {
    it('builds the record URL: entity, bare lower-case id, hints as query', () => {
      assert.equal(embedRecordUrl('https://s.example.com/', 'lead', `{${ID.toUpperCase()}}`, { hubspotId: '9', email: 'a+b@x.com' }),
        `https://s.example.com/embed/v1/records/lead/${ID}?hubspotId=9&email=a%2Bb%40x.com`);
      assert.equal(embedRecordUrl('https://s.example.com', 'opportunity', ID), `https://s.example.com/embed/v1/records/opportunity/${ID}`);
    });

    it('accepts both answer shapes and names the first bad field otherwise', () => {
      assert.deepEqual(parseEmbedResponse(JSON.parse(JSON.stringify(LINKED))), LINKED);
      assert.deepEqual(parseEmbedResponse(NOT_SYNCED), NOT_SYNCED);
      const bad = (mutate: (b: any) => void, path: RegExp) => { // eslint-disable-line @typescript-eslint/no-explicit-any
        const b = JSON.parse(JSON.stringify(LINKED));
        mutate(b);
        assert.throws(() => parseEmbedResponse(b), (e: unknown) => e instanceof EmbedContractError && path.test(e.message));
      };
      bad((b) => { b.hubspot.url = 'javascript:alert(1)'; }, /hubspot\.url: expected an https URL/);
      bad((b) => { delete b.sync; }, /^sync: expected an object/);
      bad((b) => { b.status = 'maybe'; }, /response\.status/);
      bad((b) => { b.hubspot.analytics.pageViews = -1; }, /pageViews/);
      bad((b) => { b.hubspot.recentEngagement[1].type = 'fax'; }, /recentEngagement\[1\]\.type/);
      bad((b) => { b.sync.errors = [{ what: 'x' }]; }, /sync\.errors\[0\]\.why/);
      bad((b) => { delete b.hubspot; }, /^hubspot: expected an object/);
    });
  });

  describe('configuration', () => {
    it('config.js assigns the global the panel reads; no credential until connected', () => {
      const ctx: Record<string, unknown> = {};
      ctx.window = ctx;
      vm.runInNewContext(configScript({ serverUrl: 'https://s.example.com', embedCredential: null }), ctx);
      assert.deepEqual(JSON.parse(JSON.stringify(ctx[CONFIG_GLOBAL])), { serverUrl: 'https://s.example.com', embedCredential: null });
      assert.equal(readPanelConfig(ctx[CONFIG_GLOBAL]).config, null);
      assert.match(readPanelConfig(ctx[CONFIG_GLOBAL]).problem!, /not set yet/);
      assert.match(readPanelConfig(undefined).problem!, /did not load/);
      assert.deepEqual(readPanelConfig({ serverUrl: 'https://s.example.com/', embedCredential: 'k' }).config, { serverUrl: 'https://s.example.com', embedCredential: 'k' });
      assert.ok(!configScript({ serverUrl: 'https://x', embedCredential: '</script>' }).includes('</script>'));
    });

    it('reads PassParameters from the query string', () => {
      assert.deepEqual(parseFormParameters(SEARCH), { id: ID, typename: 'contact', orgname: 'org1' });
      assert.deepEqual(parseFormParameters('?typename=lead'), { id: null, typename: 'lead', orgname: null });
    });
  });

  describe('states', () => {
    const html = (s: PanelState) => renderState(s, (iso) => `@${iso}`);

    it('linked: HubSpot id, lifecycle, lead status, owner, link, activity, analytics and sync errors; values escaped', async () => {
      const d = deps({ status: 200, body: LINKED });
      const state = await loadPanel(d);
      assert.equal(state.kind, 'linked');
      assert.equal(d.calls[0].url, `https://sync.example.com/embed/v1/records/contact/${ID}?hubspotId=901&email=pat%40example.com`);
      assert.deepEqual(d.calls[0].headers, { Authorization: 'Bearer embed-key-1', Accept: 'application/json' });
      const out = html(state);
      for (const text of ['HubSpot record', '901', 'Marketing qualified lead', 'Open', 'Ada Owner', 'ada@example.com', 'Open in HubSpot', 'href="https://app.hubspot.com/contacts/123/record/0-1/901"',
        'rel="noopener noreferrer"', 'Page views', '42', 'Emails clicked', '@2026-11-02T08:00:00Z', 'Form submission', 'Re: &lt;b&gt;pricing&lt;/b&gt;', 'Sync error',
        'Lead status not sent', 'Why: HubSpot has no option &#39;Hott&#39;', 'How to fix: Add the option in HubSpot']) {
        assert.ok(out.includes(text), `shows ${text}`);
      }
      assert.ok(!out.includes('<b>pricing'), 'server text never becomes markup');
    });

    it('not synced yet: says so, and which email it will match by', async () => {
      const state = await loadPanel(deps({ status: 200, body: NOT_SYNCED }));
      assert.equal(state.kind, 'not_synced');
      const out = html(state);
      assert.match(out, /Not synced yet/);
      assert.match(out, /matched to HubSpot by email \(pat@example\.com\)/);
      assert.match(out, /Waiting to sync/);
      assert.match(out, /Never/);
    });

    for (const status of [401, 403]) {
      it(`no access on ${status}, with the server's message`, async () => {
        const state = await loadPanel(deps({ status, body: { error: { code: 'invalid_credential', message: 'Embed key revoked.' } } }));
        assert.deepEqual(state, { kind: 'no_access', status, message: 'Embed key revoked.' });
        const out = html(state);
        assert.match(out, /role="alert"/);
        assert.match(out, /No access/);
        assert.match(out, new RegExp(`HTTP ${status}`));
        assert.match(out, /reconnect Dynamics/);
      });
    }

    it('server unreachable on a network error', async () => {
      const state = await loadPanel(deps('network'));
      assert.deepEqual(state, { kind: 'unreachable', reason: 'network', serverUrl: 'https://sync.example.com', timeoutMs: 10_000 });
      assert.match(html(state), /Sync server unreachable[\s\S]*could not be reached/);
    });

    it('server unreachable on a timeout', async () => {
      const started = Date.now();
      const state = await loadPanel(deps('hang', { timeoutMs: 50 }));
      assert.ok(Date.now() - started < 2000);
      assert.equal(state.kind, 'unreachable');
      assert.equal((state as { reason: string }).reason, 'timeout');
      assert.match(html({ ...(state as Extract<PanelState, { kind: 'unreachable' }>), timeoutMs: 10_000 }), /did not answer within 10 seconds/);
    });

    it('server error on 5xx and on an answer that breaks the contract', async () => {
      const s500 = await loadPanel(deps({ status: 503, body: { error: { code: 'x', message: 'Maintenance' } } }));
      assert.deepEqual(s500, { kind: 'server_error', status: 503, detail: 'Maintenance' });
      assert.match(html(s500), /Sync server error[\s\S]*HTTP 503[\s\S]*Maintenance/);
      const broken = await loadPanel(deps({ status: 200, body: { status: 'linked', sync: NOT_SYNCED.sync } }));
      assert.equal(broken.kind, 'server_error');
      assert.match(html(broken), /unexpected answer \(hubspot: expected an object\)/);
      const notJson = await loadPanel(deps({ status: 200, body: '<html>proxy</html>' }));
      assert.deepEqual(notJson, { kind: 'server_error', status: 200, detail: 'the answer is not JSON' });
    });

    it('not configured, unsaved record, and tables the sync does not cover: no request is made', async () => {
      for (const [over, kind, text] of [
        [{ rawConfig: undefined }, 'not_configured', /HubSpot panel not set up[\s\S]*config\.js did not load/],
        [{ rawConfig: { serverUrl: 'https://sync.example.com', embedCredential: null } }, 'not_configured', /connect the tenant/],
        [{ search: '?typename=contact' }, 'unsaved', /Save this record/],
        [{ search: `?id=${ID}&typename=incident` }, 'unsupported', /not for incident/],
      ] as const) {
        const d = deps({ status: 200, body: LINKED }, over as Partial<PanelDeps>);
        const state = await loadPanel(d);
        assert.equal(state.kind, kind);
        assert.match(html(state), text);
        assert.equal(d.calls.length, 0);
      }
    });

    it('a failed record read does not stop the panel: it asks without hints and says why', async () => {
      const d = deps({ status: 200, body: LINKED }, { readRecord: async () => { throw new Error('Principal user is missing prvReadContact'); } });
      const state = await loadPanel(d);
      assert.equal(state.kind, 'linked');
      assert.equal(d.calls[0].url, `https://sync.example.com/embed/v1/records/contact/${ID}`);
      assert.match(html(state), /Could not read this contact from Dynamics \(Principal user is missing prvReadContact\)/);
    });

    it('loading state is announced politely', () => {
      assert.match(renderState({ kind: 'loading' }), /role="status"/);
    });
  });
});
