import type { AssociationTypeInfo } from './association-types.ts';
import type { Spec } from './defaults.ts';
import { invalidPropertyValues, propertyValueError } from './errors.ts';
import { SINGULAR, type EngagementObjectType, type ObjectType, type PropertyOption } from './types.ts';

/**
 * Activities ("engagements") as HubSpot's v3 API offers them: the CRM objects `emails`, `calls`, `meetings`,
 * `notes` and `tasks`, with their own properties (`hs_timestamp` places each on the record timeline) and
 * HubSpot-defined association types to contacts, companies and deals. The generic objects, search,
 * properties and associations modules serve them; this module only describes them.
 */

const opts = (values: string[]): PropertyOption[] =>
  values.map((value, i) => ({ label: value.charAt(0) + value.slice(1).toLowerCase().replace(/_/g, ' '), value, displayOrder: i, hidden: false }));

const timestamp = (group: string): Spec => ({ name: 'hs_timestamp', label: 'Activity date', type: 'datetime', fieldType: 'date', group });
const body = (name: string, label: string, group: string): Spec => ({ name, label, type: 'string', fieldType: 'html', group });
const text = (name: string, label: string, group: string): Spec => ({ name, label, type: 'string', fieldType: 'text', group });
const choice = (name: string, label: string, group: string, values: string[]): Spec => ({ name, label, type: 'enumeration', fieldType: 'select', group, options: opts(values) });
const common = (group: string): Spec[] => [
  { name: 'hubspot_owner_id', label: 'Activity assigned to', type: 'enumeration', fieldType: 'select', group, externalOptions: true, readOnlyOptions: true },
  { name: 'hs_createdate', label: 'Created at', type: 'datetime', fieldType: 'date', group, readOnlyValue: true },
  { name: 'hs_lastmodifieddate', label: 'Last modified date', type: 'datetime', fieldType: 'date', group, readOnlyValue: true },
  { name: 'hs_object_id', label: 'Record ID', type: 'number', fieldType: 'number', group, readOnlyValue: true },
];

export const ENGAGEMENT_SPECS: Record<EngagementObjectType, Spec[]> = {
  emails: [
    timestamp('emailinformation'),
    text('hs_email_subject', 'Email subject', 'emailinformation'),
    body('hs_email_text', 'Email body', 'emailinformation'),
    body('hs_email_html', 'Email HTML body', 'emailinformation'),
    choice('hs_email_direction', 'Email direction', 'emailinformation', ['EMAIL', 'INCOMING_EMAIL', 'FORWARDED_EMAIL']),
    choice('hs_email_status', 'Email send status', 'emailinformation', ['BOUNCED', 'FAILED', 'SCHEDULED', 'SENDING', 'SENT']),
    ...common('emailinformation'),
  ],
  calls: [
    timestamp('callinformation'),
    text('hs_call_title', 'Call title', 'callinformation'),
    body('hs_call_body', 'Call notes', 'callinformation'),
    choice('hs_call_direction', 'Call direction', 'callinformation', ['INBOUND', 'OUTBOUND']),
    { name: 'hs_call_duration', label: 'Call duration (ms)', type: 'number', fieldType: 'number', group: 'callinformation' },
    choice('hs_call_status', 'Call status', 'callinformation', ['BUSY', 'CALLING_CRM_USER', 'CANCELED', 'COMPLETED', 'CONNECTING', 'FAILED', 'IN_PROGRESS', 'NO_ANSWER', 'QUEUED', 'RINGING']),
    ...common('callinformation'),
  ],
  meetings: [
    timestamp('meetinginformation'),
    text('hs_meeting_title', 'Meeting name', 'meetinginformation'),
    body('hs_meeting_body', 'Meeting description', 'meetinginformation'),
    { name: 'hs_meeting_start_time', label: 'Start time', type: 'datetime', fieldType: 'date', group: 'meetinginformation' },
    { name: 'hs_meeting_end_time', label: 'End time', type: 'datetime', fieldType: 'date', group: 'meetinginformation' },
    text('hs_meeting_location', 'Location', 'meetinginformation'),
    choice('hs_meeting_outcome', 'Meeting outcome', 'meetinginformation', ['SCHEDULED', 'COMPLETED', 'RESCHEDULED', 'NO_SHOW', 'CANCELED']),
    ...common('meetinginformation'),
  ],
  notes: [
    timestamp('noteinformation'),
    body('hs_note_body', 'Note body', 'noteinformation'),
    ...common('noteinformation'),
  ],
  tasks: [
    timestamp('taskinformation'),
    text('hs_task_subject', 'Task title', 'taskinformation'),
    body('hs_task_body', 'Task notes', 'taskinformation'),
    choice('hs_task_status', 'Task status', 'taskinformation', ['NOT_STARTED', 'IN_PROGRESS', 'WAITING', 'COMPLETED', 'DEFERRED']),
    choice('hs_task_priority', 'Priority', 'taskinformation', ['NONE', 'LOW', 'MEDIUM', 'HIGH']),
    choice('hs_task_type', 'Task type', 'taskinformation', ['CALL', 'EMAIL', 'TODO']),
    ...common('taskinformation'),
  ],
};

export const ENGAGEMENT_GROUPS: Record<EngagementObjectType, Array<[string, string]>> = {
  emails: [['emailinformation', 'Email information']],
  calls: [['callinformation', 'Call information']],
  meetings: [['meetinginformation', 'Meeting information']],
  notes: [['noteinformation', 'Note information']],
  tasks: [['taskinformation', 'Task information']],
};

const read = (extra: string): string[] => ['hs_createdate', 'hs_lastmodifieddate', 'hs_object_id', 'hs_timestamp', extra];
export const ENGAGEMENT_READ_PROPERTIES: Record<EngagementObjectType, string[]> = {
  emails: read('hs_email_subject'), calls: read('hs_call_title'), meetings: read('hs_meeting_title'), notes: read('hs_note_body'), tasks: read('hs_task_subject'),
};

export const ENGAGEMENT_QUERY_PROPERTIES: Record<EngagementObjectType, string[]> = {
  emails: ['hs_email_subject', 'hs_object_id'], calls: ['hs_call_title', 'hs_object_id'], meetings: ['hs_meeting_title', 'hs_object_id'],
  notes: ['hs_note_body', 'hs_object_id'], tasks: ['hs_task_subject', 'hs_object_id'],
};

/**
 * HubSpot-defined association type ids between activities and contacts, companies and deals, as
 * [activity type, record type, record→activity id, activity→record id]. None is primary.
 */
const ENGAGEMENT_ASSOCIATION_IDS: Array<[EngagementObjectType, 'contacts' | 'companies' | 'deals', number, number]> = [
  ['calls', 'contacts', 193, 194], ['emails', 'contacts', 197, 198], ['meetings', 'contacts', 199, 200], ['notes', 'contacts', 201, 202], ['tasks', 'contacts', 203, 204],
  ['calls', 'companies', 181, 182], ['emails', 'companies', 185, 186], ['meetings', 'companies', 187, 188], ['notes', 'companies', 189, 190], ['tasks', 'companies', 191, 192],
  ['calls', 'deals', 205, 206], ['emails', 'deals', 209, 210], ['meetings', 'deals', 211, 212], ['notes', 'deals', 213, 214], ['tasks', 'deals', 215, 216],
];

export const ENGAGEMENT_ASSOCIATION_TYPES: Array<[number, AssociationTypeInfo]> = ENGAGEMENT_ASSOCIATION_IDS.flatMap(([activity, record, toActivity, toRecord]) => [
  [toActivity, { from: record, to: activity, inverse: toRecord, primary: false, v3Name: `${SINGULAR[record]}_to_${SINGULAR[activity]}` }],
  [toRecord, { from: activity, to: record, inverse: toActivity, primary: false, v3Name: `${SINGULAR[activity]}_to_${SINGULAR[record]}` }],
] as Array<[number, AssociationTypeInfo]>);

const isEngagement = (type: ObjectType): type is EngagementObjectType => type in ENGAGEMENT_SPECS;

/** Activities carry `hs_createdate`; contacts, companies and deals `createdate`. */
export const createdProperty = (type: ObjectType): string => (isEngagement(type) ? 'hs_createdate' : 'createdate');

/** An activity without `hs_timestamp` has no place on the timeline, so HubSpot refuses to create it. */
export function checkEngagementCreate(type: ObjectType, values: Map<string, string>): void {
  if (!isEngagement(type) || values.get('hs_timestamp')) return;
  throw invalidPropertyValues([propertyValueError('hs_timestamp', 'REQUIRED_FIELD', `hs_timestamp is required to create ${type}`)]);
}
