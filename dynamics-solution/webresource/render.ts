import type { EmbedEngagement, EmbedHubSpotRecord, EmbedResponse, EmbedSync, EngagementType } from './embed-contract.ts';

/**
 * Panel states → HTML. Pure string building (no DOM), so every state is tested in Node; main.ts puts the
 * result into the page. Every value from the server or the record is escaped.
 */

export interface RecordInfo {
  entity: string;
  id: string;
  hubspotId: string | null;
  email: string | null;
}

export type PanelState =
  | { kind: 'loading' }
  | { kind: 'unsaved' }
  | { kind: 'unsupported'; entity: string }
  | { kind: 'not_configured'; problem: string }
  | { kind: 'linked'; data: EmbedResponse & { hubspot: EmbedHubSpotRecord }; record: RecordInfo; recordWarning?: string }
  | { kind: 'not_synced'; data: EmbedResponse; record: RecordInfo; recordWarning?: string }
  | { kind: 'no_access'; status: number; message?: string }
  | { kind: 'unreachable'; reason: 'timeout' | 'network'; serverUrl: string; timeoutMs?: number }
  | { kind: 'server_error'; status: number; detail: string };

export const esc = (s: unknown): string =>
  String(s ?? '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

export type DateFormat = (iso: string) => string;
/** In the browser's locale; an unparsable value is shown as it came. */
export const localDate: DateFormat = (iso) => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
};

const ENGAGEMENT_LABELS: Record<EngagementType, string> = {
  email: 'Email', call: 'Call', meeting: 'Meeting', note: 'Note', task: 'Task', form_submission: 'Form submission', page_view: 'Page view',
};
const STATUS_LABELS: Record<EmbedSync['status'], string> = { synced: 'Synced', pending: 'Waiting to sync', error: 'Sync error', excluded: 'Not synced (excluded by a filter or UAT mode)' };

/** role=status for information, role=alert for problems the user should act on. */
const message = (cls: string, role: 'status' | 'alert', title: string, body: string): string =>
  `<section class="message ${cls}" role="${role}"><h2>${esc(title)}</h2>${body}</section>`;
const p = (text: string): string => `<p>${esc(text)}</p>`;

function facts(rows: Array<[string, string | null | undefined]>): string {
  const shown = rows.filter((r): r is [string, string] => !!r[1]);
  if (!shown.length) return '';
  return `<dl class="facts">${shown.map(([k, v]) => `<div><dt>${esc(k)}</dt><dd>${v}</dd></div>`).join('')}</dl>`;
}

function syncBlock(sync: EmbedSync, fmt: DateFormat): string {
  const errors = sync.errors.length
    ? `<ul class="sync-errors" aria-label="Sync errors">${sync.errors.map((e) =>
      `<li><strong>${esc(e.what)}</strong><span class="why">Why: ${esc(e.why)}</span><span class="fix">How to fix: ${esc(e.fix)}</span></li>`).join('')}</ul>`
    : '';
  return `<section class="sync" aria-labelledby="sync-h"><h2 id="sync-h">Sync</h2>${facts([
    ['Status', `<span class="badge badge-${esc(sync.status)}">${esc(STATUS_LABELS[sync.status])}</span>`],
    ['Last synced', sync.lastSyncedAt ? `<time datetime="${esc(sync.lastSyncedAt)}">${esc(fmt(sync.lastSyncedAt))}</time>` : esc('Never')],
  ])}${errors}</section>`;
}

function engagementList(items: EmbedEngagement[], fmt: DateFormat): string {
  if (!items.length) return p('No recent activity in HubSpot.');
  return `<ol class="activity">${items.map((e) =>
    `<li><span class="type">${esc(ENGAGEMENT_LABELS[e.type])}</span> <span class="title">${esc(e.title)}</span> <time datetime="${esc(e.occurredAt)}">${esc(fmt(e.occurredAt))}</time></li>`).join('')}</ol>`;
}

function linked(state: Extract<PanelState, { kind: 'linked' }>, fmt: DateFormat): string {
  const h = state.data.hubspot;
  const a = h.analytics;
  const owner = h.owner ? `${esc(h.owner.name)} <span class="muted">(${esc(h.owner.email)})</span>` : null;
  return [
    `<section class="contact" aria-labelledby="contact-h"><h2 id="contact-h">HubSpot record</h2>`,
    facts([
      ['HubSpot ID', esc(h.id)],
      ['Lifecycle stage', h.lifecyclestage ? esc(h.lifecyclestage) : null],
      ['Lead status', h.hs_lead_status ? esc(h.hs_lead_status) : null],
      ['Owner', owner],
    ]),
    `<p><a class="open" href="${esc(h.url)}" target="_blank" rel="noopener noreferrer">Open in HubSpot<span class="visually-hidden"> (opens in a new tab)</span></a></p></section>`,
    `<section class="analytics" aria-labelledby="analytics-h"><h2 id="analytics-h">Website and email</h2>`,
    facts([
      ['Page views', String(a.pageViews)],
      ['Form submissions', String(a.formSubmissions)],
      ['Emails opened', String(a.emailsOpened)],
      ['Emails clicked', String(a.emailsClicked)],
      ['Last visit', a.lastVisit ? `<time datetime="${esc(a.lastVisit)}">${esc(fmt(a.lastVisit))}</time>` : esc('Never')],
    ]),
    `</section>`,
    `<section class="recent" aria-labelledby="recent-h"><h2 id="recent-h">Recent activity</h2>${engagementList(h.recentEngagement, fmt)}</section>`,
    syncBlock(state.data.sync, fmt),
    state.recordWarning ? `<p class="note">${esc(state.recordWarning)}</p>` : '',
  ].join('');
}

export function renderState(state: PanelState, fmt: DateFormat = localDate): string {
  switch (state.kind) {
    case 'loading':
      return `<p class="loading" role="status">Loading HubSpot details…</p>`;
    case 'unsaved':
      return message('info', 'status', 'Not saved yet', p('Save this record to see its HubSpot details.'));
    case 'unsupported':
      return message('info', 'status', 'Not a synced table', p(`HubSpot details are available for leads, contacts, accounts and opportunities, not for ${state.entity || 'this record'}.`));
    case 'not_configured':
      return message('warn', 'alert', 'HubSpot panel not set up', p(`The panel cannot reach the sync server: ${state.problem}. Ask your administrator to connect Dynamics in the HubSpot sync settings.`));
    case 'linked':
      return linked(state, fmt);
    case 'not_synced': {
      const hint = state.record.email ? p(`When it syncs, it will be matched to HubSpot by email (${state.record.email}).`) : '';
      return message('info', 'status', 'Not synced yet', p('This record has no HubSpot counterpart yet. New and changed records usually sync within a few minutes.') + hint)
        + syncBlock(state.data.sync, fmt)
        + (state.recordWarning ? `<p class="note">${esc(state.recordWarning)}</p>` : '');
    }
    case 'no_access':
      return message('error', 'alert', 'No access', p(`The sync server refused the panel's credential (HTTP ${state.status}).${state.message ? ` ${state.message}` : ''} Ask your administrator to reconnect Dynamics in the HubSpot sync settings.`));
    case 'unreachable':
      return message('error', 'alert', 'Sync server unreachable',
        p(state.reason === 'timeout'
          ? `The sync server at ${state.serverUrl} did not answer within ${Math.round((state.timeoutMs ?? 0) / 1000)} seconds.`
          : `The sync server at ${state.serverUrl} could not be reached (network error, blocked request or server down).`)
        + p('HubSpot details will show again when it is back; syncing is not affected by this panel. Reload the form to try again.'));
    case 'server_error':
      return message('error', 'alert', 'Sync server error', p(`The sync server could not answer (HTTP ${state.status}): ${state.detail}. Reload the form to try again; if it persists, contact your administrator.`));
  }
}
