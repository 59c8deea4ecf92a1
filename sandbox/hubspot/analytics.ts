import express from 'express';
import type { Spec } from './defaults.ts';
import { notFound, validationError } from './errors.ts';
import type { SandboxState } from './state.ts';
import type { Portal } from './store.ts';
import { parseInstant } from './values.ts';

/**
 * What HubSpot's tracking code, forms and marketing emails record on a contact. The API exposes it only as
 * calculated, read-only contact properties (web analytics, conversions, marketing email counters); the
 * form submissions themselves can only be read per form, not per contact. The sandbox has no website, forms or
 * email tool, so a control route records such activity and derives the properties as HubSpot does.
 */

const count = (name: string, label: string, group: string): Spec => ({ name, label, type: 'number', fieldType: 'number', group, readOnlyValue: true });
const when = (name: string, label: string, group: string): Spec => ({ name, label, type: 'datetime', fieldType: 'date', group, readOnlyValue: true });
const text = (name: string, label: string, group: string): Spec => ({ name, label, type: 'string', fieldType: 'text', group, readOnlyValue: true });

export const CONTACT_ANALYTICS_SPECS: Spec[] = [
  count('hs_analytics_num_page_views', 'Number of Pageviews', 'analyticsinformation'),
  count('hs_analytics_num_visits', 'Number of Sessions', 'analyticsinformation'),
  when('hs_analytics_first_visit_timestamp', 'Time of First Session', 'analyticsinformation'),
  when('hs_analytics_last_visit_timestamp', 'Time of Last Session', 'analyticsinformation'),
  text('hs_analytics_last_url', 'Last Page Seen', 'analyticsinformation'),
  count('num_conversion_events', 'Number of Form Submissions', 'conversioninformation'),
  count('num_unique_conversion_events', 'Number of Unique Forms Submitted', 'conversioninformation'),
  text('first_conversion_event_name', 'First Conversion', 'conversioninformation'),
  when('first_conversion_date', 'First Conversion Date', 'conversioninformation'),
  text('recent_conversion_event_name', 'Recent Conversion', 'conversioninformation'),
  when('recent_conversion_date', 'Recent Conversion Date', 'conversioninformation'),
  count('hs_email_delivered', 'Marketing emails delivered', 'emailinformation'),
  count('hs_email_open', 'Marketing emails opened', 'emailinformation'),
  count('hs_email_click', 'Marketing emails clicked', 'emailinformation'),
  text('hs_email_last_email_name', 'Last marketing email name', 'emailinformation'),
  when('hs_email_last_send_date', 'Last marketing email send date', 'emailinformation'),
  when('hs_email_last_open_date', 'Last marketing email open date', 'emailinformation'),
  when('hs_email_last_click_date', 'Last marketing email click date', 'emailinformation'),
];

export const CONTACT_ANALYTICS_GROUPS: Array<[string, string]> = [
  ['analyticsinformation', 'Web analytics history'], ['conversioninformation', 'Conversion information'], ['emailinformation', 'Email information'],
];

export interface ActivityInput {
  /** One session each: when it started and the page URLs viewed in it. */
  visits?: Array<{ at: string; pages: string[] }>;
  formSubmissions?: Array<{ form: string; at: string }>;
  /** Marketing emails delivered to the contact, and whether it opened / clicked them. */
  marketingEmails?: Array<{ name: string; at: string; opened?: boolean; clicked?: boolean }>;
}

const instant = (v: unknown, at: string): number => {
  const ms = typeof v === 'string' ? parseInstant(v) : null;
  if (ms === null) throw validationError(`${at} must be an ISO 8601 date-time or epoch milliseconds`);
  return ms;
};
const name = (v: unknown, at: string): string => {
  if (typeof v !== 'string' || !v.trim()) throw validationError(`${at} must be a non-empty string`);
  return v.trim();
};
const list = (v: unknown, at: string): unknown[] => {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw validationError(`${at} must be an array`);
  return v;
};
const field = (v: unknown, key: string): unknown => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined);

/** Names of every form a contact submitted: "unique forms" cannot be derived from the counters alone. */
const submittedForms = new WeakMap<Portal, Map<string, Set<string>>>();

/**
 * Folds the activity into the contact's calculated properties: counters add up, first/last dates move only
 * outwards, "recent" values follow the newest event. Returns the changed values.
 */
export function recordActivity(portal: Portal, contactId: string, input: unknown): Record<string, string> {
  const contact = portal.get('contacts', contactId);
  if (!contact) throw notFound(`Contact ${contactId} not found`);
  const p = contact.properties;
  const num = (k: string) => Number(p.get(k) ?? 0);
  const next = new Map<string, string>();
  const set = (k: string, v: string | number) => next.set(k, String(v));
  /** Moves the date `k` to `at` when `at` wins against its value so far (or it has none), then runs `also`. */
  const moveDate = (k: string, at: number, wins: (at: number, current: number) => boolean, also?: () => void) => {
    const current = next.get(k) ?? p.get(k);
    if (current !== undefined && !wins(at, Date.parse(current))) return;
    set(k, new Date(at).toISOString());
    also?.();
  };
  const later = (k: string, at: number, also?: () => void) => moveDate(k, at, (a, c) => a >= c, also);
  const earlier = (k: string, at: number, also?: () => void) => moveDate(k, at, (a, c) => a < c, also);

  const visits = list(field(input, 'visits'), 'visits').map((v, i) => ({
    at: instant(field(v, 'at'), `visits[${i}].at`),
    pages: list(field(v, 'pages'), `visits[${i}].pages`).map((u, j) => name(u, `visits[${i}].pages[${j}]`)),
  }));
  const forms = list(field(input, 'formSubmissions'), 'formSubmissions').map((f, i) => ({ form: name(field(f, 'form'), `formSubmissions[${i}].form`), at: instant(field(f, 'at'), `formSubmissions[${i}].at`) }));
  const emails = list(field(input, 'marketingEmails'), 'marketingEmails').map((e, i) => ({
    name: name(field(e, 'name'), `marketingEmails[${i}].name`), at: instant(field(e, 'at'), `marketingEmails[${i}].at`),
    opened: field(e, 'opened') === true, clicked: field(e, 'clicked') === true,
  }));

  if (visits.length) {
    set('hs_analytics_num_visits', num('hs_analytics_num_visits') + visits.length);
    set('hs_analytics_num_page_views', num('hs_analytics_num_page_views') + visits.reduce((n, v) => n + v.pages.length, 0));
    for (const v of visits) {
      earlier('hs_analytics_first_visit_timestamp', v.at);
      later('hs_analytics_last_visit_timestamp', v.at, () => { if (v.pages.length) set('hs_analytics_last_url', v.pages[v.pages.length - 1]); });
    }
  }
  if (forms.length) {
    let byContact = submittedForms.get(portal);
    if (!byContact) submittedForms.set(portal, (byContact = new Map()));
    const seen = byContact.get(contactId) ?? new Set<string>();
    byContact.set(contactId, seen);
    for (const f of forms) {
      seen.add(f.form);
      earlier('first_conversion_date', f.at, () => set('first_conversion_event_name', f.form));
      later('recent_conversion_date', f.at, () => set('recent_conversion_event_name', f.form));
    }
    set('num_conversion_events', num('num_conversion_events') + forms.length);
    set('num_unique_conversion_events', seen.size);
  }
  if (emails.length) {
    set('hs_email_delivered', num('hs_email_delivered') + emails.length);
    set('hs_email_open', num('hs_email_open') + emails.filter((e) => e.opened || e.clicked).length);
    set('hs_email_click', num('hs_email_click') + emails.filter((e) => e.clicked).length);
    for (const e of emails) {
      later('hs_email_last_send_date', e.at, () => set('hs_email_last_email_name', e.name));
      if (e.opened || e.clicked) later('hs_email_last_open_date', e.at);
      if (e.clicked) later('hs_email_last_click_date', e.at);
    }
  }
  // HubSpot's own calculation, not a person's edit: the change is attributed to the portal's user.
  portal.update('contacts', contact, next, { kind: 'user', userId: portal.user.userId });
  return Object.fromEntries(next);
}

/** `POST /__sandbox/portals/:portalId/contacts/:contactId/activity` with an `ActivityInput` body. */
export function analyticsControlRouter(state: SandboxState): express.Router {
  const r = express.Router();
  r.post('/__sandbox/portals/:portalId/contacts/:contactId/activity', (req, res) => {
    const portal = state.portals.get(Number(req.params.portalId));
    if (!portal) throw notFound(`Portal ${req.params.portalId} not found`);
    res.json({ id: String(req.params.contactId), properties: recordActivity(portal, String(req.params.contactId), req.body ?? {}) });
  });
  return r;
}
