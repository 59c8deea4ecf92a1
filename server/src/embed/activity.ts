import type { EmbedAnalytics, EmbedEngagement, EngagementType } from '../../../dynamics-solution/webresource/embed-contract.ts';

/**
 * HubSpot activity → what the tab shows, without I/O. Activities are CRM objects associated to the record;
 * website and marketing-email activity exist only as calculated contact properties (HubSpot's form
 * submissions API reads per form, not per contact), so the newest conversion and the last page seen become
 * timeline entries of their own.
 */

/** The activity objects read, with the property that titles each. */
export const ACTIVITY_OBJECTS: Record<string, { type: EngagementType; title: string; untitled: string }> = {
  emails: { type: 'email', title: 'hs_email_subject', untitled: '(no subject)' },
  calls: { type: 'call', title: 'hs_call_title', untitled: 'Call' },
  meetings: { type: 'meeting', title: 'hs_meeting_title', untitled: 'Meeting' },
  notes: { type: 'note', title: 'hs_note_body', untitled: '(empty note)' },
  tasks: { type: 'task', title: 'hs_task_subject', untitled: '(untitled task)' },
};

/** Calculated record properties the tab reads; objects without some of them (deals) just return null. */
export const ANALYTICS_PROPERTIES = [
  'hs_analytics_num_page_views', 'hs_analytics_last_visit_timestamp', 'hs_analytics_last_url',
  'num_conversion_events', 'recent_conversion_event_name', 'recent_conversion_date',
  'hs_email_open', 'hs_email_click',
] as const;

export const RECENT_ENGAGEMENTS = 10;
const TITLE_MAX = 120;

type Props = Record<string, string | null | undefined>;

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", nbsp: ' ' };

/** Plain text of a (possibly HTML) value, on one line, cut to a length the panel can show. */
export function shortTitle(value: string): string {
  const text = value
    .replace(/<(br|\/p|\/div|\/li)\b[^>]*>/gi, ' ')
    .replace(/<[^>]*>/g, '')
    .replace(/&(amp|lt|gt|quot|#39|nbsp);/g, (_, e: string) => ENTITIES[e])
    .replace(/\s+/g, ' ')
    .trim();
  return text.length > TITLE_MAX ? `${text.slice(0, TITLE_MAX - 1).trimEnd()}…` : text;
}

/** HubSpot sends instants as ISO strings (epoch ms in some older values); null when unusable. */
export function instant(value: string | null | undefined): string | null {
  if (!value) return null;
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}

/** One activity record as a timeline entry; null when it has no usable `hs_timestamp`. */
export function activityEntry(objectType: string, props: Props): EmbedEngagement | null {
  const spec = ACTIVITY_OBJECTS[objectType];
  const occurredAt = instant(props.hs_timestamp);
  if (!spec || !occurredAt) return null;
  return { type: spec.type, title: shortTitle(props[spec.title] ?? '') || spec.untitled, occurredAt };
}

/** The newest form submission and the last page seen, from the record's calculated properties. */
export function websiteEntries(props: Props): EmbedEngagement[] {
  const out: EmbedEngagement[] = [];
  const conversion = instant(props.recent_conversion_date);
  if (conversion && props.recent_conversion_event_name) out.push({ type: 'form_submission', title: shortTitle(props.recent_conversion_event_name), occurredAt: conversion });
  const visit = instant(props.hs_analytics_last_visit_timestamp);
  if (visit && props.hs_analytics_last_url) out.push({ type: 'page_view', title: shortTitle(props.hs_analytics_last_url), occurredAt: visit });
  return out;
}

export function newestFirst(entries: EmbedEngagement[], max = RECENT_ENGAGEMENTS): EmbedEngagement[] {
  return [...entries].sort((a, b) => Date.parse(b.occurredAt) - Date.parse(a.occurredAt)).slice(0, max);
}

const counter = (value: string | null | undefined): number => {
  const n = Number(value ?? 0);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
};

export function analyticsOf(props: Props): EmbedAnalytics {
  return {
    pageViews: counter(props.hs_analytics_num_page_views),
    formSubmissions: counter(props.num_conversion_events),
    emailsOpened: counter(props.hs_email_open),
    emailsClicked: counter(props.hs_email_click),
    lastVisit: instant(props.hs_analytics_last_visit_timestamp),
  };
}
