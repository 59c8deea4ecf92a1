/** Shapes shared by the HubSpot sandbox modules. */

/** Activities ("engagements") are CRM objects of their own in v3, associated to records like any other. */
export type EngagementObjectType = 'emails' | 'calls' | 'meetings' | 'notes' | 'tasks';
export const ENGAGEMENT_OBJECT_TYPES: readonly EngagementObjectType[] = ['emails', 'calls', 'meetings', 'notes', 'tasks'];

export type ObjectType = 'contacts' | 'companies' | 'deals' | EngagementObjectType;
export const OBJECT_TYPES: readonly ObjectType[] = ['contacts', 'companies', 'deals', ...ENGAGEMENT_OBJECT_TYPES];

/** HubSpot accepts the plural name, the singular name and the object type id in paths. */
const ALIASES: Record<string, ObjectType> = {
  contacts: 'contacts', contact: 'contacts', '0-1': 'contacts',
  companies: 'companies', company: 'companies', '0-2': 'companies',
  deals: 'deals', deal: 'deals', '0-3': 'deals',
  emails: 'emails', email: 'emails', '0-49': 'emails',
  calls: 'calls', call: 'calls', '0-48': 'calls',
  meetings: 'meetings', meeting: 'meetings', '0-47': 'meetings',
  notes: 'notes', note: 'notes', '0-46': 'notes',
  tasks: 'tasks', task: 'tasks', '0-27': 'tasks',
};

export function objectTypeOf(name: string): ObjectType | undefined {
  return ALIASES[name.toLowerCase()];
}

export const SINGULAR: Record<ObjectType, string> = {
  contacts: 'contact', companies: 'company', deals: 'deal', emails: 'email', calls: 'call', meetings: 'meeting', notes: 'note', tasks: 'task',
};

export const TYPE_ID: Record<ObjectType, string> = {
  contacts: '0-1', companies: '0-2', deals: '0-3', emails: '0-49', calls: '0-48', meetings: '0-47', notes: '0-46', tasks: '0-27',
};

export type PropertyType = 'string' | 'number' | 'date' | 'datetime' | 'enumeration' | 'bool' | 'phone_number';
export type FieldType =
  | 'text' | 'textarea' | 'html' | 'number' | 'select' | 'radio' | 'checkbox' | 'booleancheckbox' | 'date' | 'file'
  | 'phonenumber' | 'calculation_equation';

export const PROPERTY_TYPES: readonly PropertyType[] = ['string', 'number', 'date', 'datetime', 'enumeration', 'bool', 'phone_number'];
export const FIELD_TYPES: readonly FieldType[] = [
  'text', 'textarea', 'html', 'number', 'select', 'radio', 'checkbox', 'booleancheckbox', 'date', 'file', 'phonenumber',
  'calculation_equation',
];

export interface PropertyOption {
  label: string;
  value: string;
  displayOrder: number;
  hidden: boolean;
  description?: string;
}

export interface PropertyDefinition {
  name: string;
  label: string;
  type: PropertyType;
  fieldType: FieldType;
  description: string;
  groupName: string;
  options: PropertyOption[];
  displayOrder: number;
  calculated: boolean;
  externalOptions: boolean;
  hasUniqueValue: boolean;
  hidden: boolean;
  hubspotDefined: boolean;
  formField: boolean;
  modificationMetadata: { archivable: boolean; readOnlyDefinition: boolean; readOnlyValue: boolean; readOnlyOptions?: boolean };
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

export interface PropertyGroup {
  name: string;
  label: string;
  displayOrder: number;
  archived: boolean;
}

export interface CrmRecord {
  id: string;
  /** Values as HubSpot stores them: strings only; an unset property has no entry. */
  properties: Map<string, string>;
  createdAt: number;
  updatedAt: number;
  archived: boolean;
  archivedAt?: number;
}

export interface Owner {
  id: string;
  email: string;
  firstName: string;
  lastName: string;
  userId: number;
  userIdIncludingInactive: number;
  type: 'PERSON';
  teams: Array<{ id: string; name: string; primary: boolean }>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
}

/** Who made a change: decides the webhook `changeSource`/`sourceId`. */
export type Actor =
  | { kind: 'app'; appId: number }
  | { kind: 'user'; userId: number };
