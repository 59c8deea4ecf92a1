import type { ObjectType, PropertyDefinition, PropertyGroup, PropertyOption, PropertyType, FieldType } from './types.ts';
import { ENGAGEMENT_GROUPS, ENGAGEMENT_QUERY_PROPERTIES, ENGAGEMENT_READ_PROPERTIES, ENGAGEMENT_SPECS } from './activities.ts';
import { CONTACT_ANALYTICS_GROUPS, CONTACT_ANALYTICS_SPECS } from './analytics.ts';

/**
 * The HubSpot-defined properties each new portal starts with: the fields a CRM sync touches, with the types,
 * field types and option values HubSpot really uses (lifecycle stages, lead statuses, default pipeline stages),
 * so mapping and dropdown logic are exercised against realistic metadata. Not every HubSpot property is here.
 */

const EPOCH = '2019-08-06T02:43:01.012Z';

const opts = (pairs: Array<[value: string, label: string]>): PropertyOption[] =>
  pairs.map(([value, label], i) => ({ label, value, displayOrder: i, hidden: false }));

export interface Spec {
  name: string;
  label: string;
  type: PropertyType;
  fieldType: FieldType;
  group: string;
  options?: PropertyOption[];
  /** Set by HubSpot itself (ids, timestamps): writes are refused with READ_ONLY_VALUE. */
  readOnlyValue?: boolean;
  /** Options cannot be edited (owner ids, pipelines come from elsewhere). */
  readOnlyOptions?: boolean;
  externalOptions?: boolean;
  unique?: boolean;
}

function define(spec: Spec, displayOrder: number): PropertyDefinition {
  return {
    name: spec.name,
    label: spec.label,
    type: spec.type,
    fieldType: spec.fieldType,
    description: '',
    groupName: spec.group,
    options: spec.options ?? [],
    displayOrder,
    calculated: false,
    externalOptions: spec.externalOptions ?? false,
    hasUniqueValue: spec.unique ?? false,
    hidden: false,
    hubspotDefined: true,
    formField: !spec.readOnlyValue,
    modificationMetadata: {
      archivable: false,
      readOnlyDefinition: true,
      readOnlyValue: spec.readOnlyValue ?? false,
      ...(spec.type === 'enumeration' ? { readOnlyOptions: spec.readOnlyOptions ?? false } : {}),
    },
    createdAt: EPOCH,
    updatedAt: EPOCH,
    archived: false,
  };
}

const text = (name: string, label: string, group: string): Spec => ({ name, label, type: 'string', fieldType: 'text', group });
const num = (name: string, label: string, group: string): Spec => ({ name, label, type: 'number', fieldType: 'number', group });

export const LIFECYCLE_STAGES = opts([
  ['subscriber', 'Subscriber'], ['lead', 'Lead'], ['marketingqualifiedlead', 'Marketing Qualified Lead'],
  ['salesqualifiedlead', 'Sales Qualified Lead'], ['opportunity', 'Opportunity'], ['customer', 'Customer'],
  ['evangelist', 'Evangelist'], ['other', 'Other'],
]);

const LEAD_STATUSES = opts([
  ['NEW', 'New'], ['OPEN', 'Open'], ['IN_PROGRESS', 'In Progress'], ['OPEN_DEAL', 'Open Deal'],
  ['UNQUALIFIED', 'Unqualified'], ['ATTEMPTED_TO_CONTACT', 'Attempted to Contact'], ['CONNECTED', 'Connected'],
  ['BAD_TIMING', 'Bad Timing'],
]);

/** The default "Sales Pipeline" stage ids. */
export const DEAL_STAGES = opts([
  ['appointmentscheduled', 'Appointment Scheduled'], ['qualifiedtobuy', 'Qualified To Buy'],
  ['presentationscheduled', 'Presentation Scheduled'], ['decisionmakerboughtin', 'Decision Maker Bought-In'],
  ['contractsent', 'Contract Sent'], ['closedwon', 'Closed Won'], ['closedlost', 'Closed Lost'],
]);

/** A subset of HubSpot's industry enumeration (the real list has ~150 values of this form). */
const INDUSTRIES = opts([
  ['ACCOUNTING', 'Accounting'], ['AIRLINES_AVIATION', 'Airlines/Aviation'], ['APPAREL_FASHION', 'Apparel & Fashion'],
  ['AUTOMOTIVE', 'Automotive'], ['BANKING', 'Banking'], ['BIOTECHNOLOGY', 'Biotechnology'],
  ['BUILDING_MATERIALS', 'Building Materials'], ['CHEMICALS', 'Chemicals'], ['COMPUTER_HARDWARE', 'Computer Hardware'],
  ['COMPUTER_SOFTWARE', 'Computer Software'], ['CONSTRUCTION', 'Construction'], ['CONSUMER_GOODS', 'Consumer Goods'],
  ['EDUCATION_MANAGEMENT', 'Education Management'], ['FINANCIAL_SERVICES', 'Financial Services'],
  ['FOOD_BEVERAGES', 'Food & Beverages'], ['HOSPITAL_HEALTH_CARE', 'Hospital & Health Care'],
  ['INFORMATION_TECHNOLOGY_AND_SERVICES', 'Information Technology and Services'], ['INSURANCE', 'Insurance'],
  ['INTERNET', 'Internet'], ['LEGAL_SERVICES', 'Legal Services'], ['LOGISTICS_AND_SUPPLY_CHAIN', 'Logistics and Supply Chain'],
  ['MANAGEMENT_CONSULTING', 'Management Consulting'], ['MARKETING_AND_ADVERTISING', 'Marketing and Advertising'],
  ['MECHANICAL_OR_INDUSTRIAL_ENGINEERING', 'Mechanical or Industrial Engineering'], ['NONPROFIT_ORGANIZATION_MANAGEMENT', 'Non-Profit Organization Management'],
  ['PHARMACEUTICALS', 'Pharmaceuticals'], ['REAL_ESTATE', 'Real Estate'], ['RETAIL', 'Retail'],
  ['TELECOMMUNICATIONS', 'Telecommunications'], ['UTILITIES', 'Utilities'],
]);

const owner = (group: string): Spec => ({
  name: 'hubspot_owner_id', label: 'Contact owner', type: 'enumeration', fieldType: 'select', group,
  externalOptions: true, readOnlyOptions: true,
});
const created = (group: string): Spec => ({ name: 'createdate', label: 'Create Date', type: 'datetime', fieldType: 'date', group });
const modified = (group: string, name = 'hs_lastmodifieddate'): Spec =>
  ({ name, label: 'Last Modified Date', type: 'datetime', fieldType: 'date', group, readOnlyValue: true });
const objectId = (group: string): Spec =>
  ({ name: 'hs_object_id', label: 'Record ID', type: 'number', fieldType: 'number', group, readOnlyValue: true });

const SPECS: Record<ObjectType, Spec[]> = {
  contacts: [
    { ...text('email', 'Email', 'contactinformation'), unique: true },
    text('firstname', 'First Name', 'contactinformation'),
    text('lastname', 'Last Name', 'contactinformation'),
    { name: 'phone', label: 'Phone Number', type: 'string', fieldType: 'phonenumber', group: 'contactinformation' },
    { name: 'mobilephone', label: 'Mobile Phone Number', type: 'string', fieldType: 'phonenumber', group: 'contactinformation' },
    text('company', 'Company Name', 'contactinformation'),
    text('jobtitle', 'Job Title', 'contactinformation'),
    text('website', 'Website URL', 'contactinformation'),
    text('address', 'Street Address', 'contactinformation'),
    text('city', 'City', 'contactinformation'),
    text('state', 'State/Region', 'contactinformation'),
    text('zip', 'Postal Code', 'contactinformation'),
    text('country', 'Country/Region', 'contactinformation'),
    { name: 'message', label: 'Message', type: 'string', fieldType: 'textarea', group: 'contactinformation' },
    { name: 'lifecyclestage', label: 'Lifecycle Stage', type: 'enumeration', fieldType: 'radio', group: 'contactinformation', options: LIFECYCLE_STAGES },
    { name: 'hs_lead_status', label: 'Lead Status', type: 'enumeration', fieldType: 'radio', group: 'sales_properties', options: LEAD_STATUSES },
    { name: 'date_of_birth', label: 'Date of birth', type: 'string', fieldType: 'text', group: 'contactinformation' },
    { name: 'hs_email_optout', label: 'Unsubscribed from all email', type: 'bool', fieldType: 'booleancheckbox', group: 'contactinformation', options: opts([['true', 'Yes'], ['false', 'No']]) },
    owner('sales_properties'),
    created('contactinformation'),
    modified('contactinformation', 'lastmodifieddate'),
    modified('contactinformation'),
    objectId('contactinformation'),
    ...CONTACT_ANALYTICS_SPECS,
  ],
  companies: [
    text('name', 'Company name', 'companyinformation'),
    text('domain', 'Company Domain Name', 'companyinformation'),
    text('website', 'Website URL', 'companyinformation'),
    { name: 'phone', label: 'Phone Number', type: 'string', fieldType: 'phonenumber', group: 'companyinformation' },
    text('address', 'Street Address', 'companyinformation'),
    text('city', 'City', 'companyinformation'),
    text('state', 'State/Region', 'companyinformation'),
    text('zip', 'Postal Code', 'companyinformation'),
    text('country', 'Country/Region', 'companyinformation'),
    { name: 'description', label: 'Description', type: 'string', fieldType: 'textarea', group: 'companyinformation' },
    { name: 'industry', label: 'Industry', type: 'enumeration', fieldType: 'select', group: 'companyinformation', options: INDUSTRIES },
    num('numberofemployees', 'Number of Employees', 'companyinformation'),
    num('annualrevenue', 'Annual Revenue', 'companyinformation'),
    { name: 'type', label: 'Type', type: 'enumeration', fieldType: 'select', group: 'companyinformation',
      options: opts([['PROSPECT', 'Prospect'], ['PARTNER', 'Partner'], ['RESELLER', 'Reseller'], ['VENDOR', 'Vendor'], ['OTHER', 'Other']]) },
    { name: 'lifecyclestage', label: 'Lifecycle Stage', type: 'enumeration', fieldType: 'radio', group: 'companyinformation', options: LIFECYCLE_STAGES },
    { ...owner('companyinformation'), label: 'Company owner' },
    created('companyinformation'),
    modified('companyinformation'),
    objectId('companyinformation'),
  ],
  deals: [
    text('dealname', 'Deal Name', 'dealinformation'),
    num('amount', 'Amount', 'dealinformation'),
    { name: 'dealstage', label: 'Deal Stage', type: 'enumeration', fieldType: 'radio', group: 'dealinformation', options: DEAL_STAGES },
    { name: 'pipeline', label: 'Pipeline', type: 'enumeration', fieldType: 'select', group: 'dealinformation',
      options: opts([['default', 'Sales Pipeline']]), readOnlyOptions: true },
    { name: 'closedate', label: 'Close Date', type: 'datetime', fieldType: 'date', group: 'dealinformation' },
    { name: 'dealtype', label: 'Deal Type', type: 'enumeration', fieldType: 'radio', group: 'dealinformation',
      options: opts([['newbusiness', 'New Business'], ['existingbusiness', 'Existing Business']]) },
    { name: 'hs_priority', label: 'Priority', type: 'enumeration', fieldType: 'select', group: 'dealinformation',
      options: opts([['low', 'Low'], ['medium', 'Medium'], ['high', 'High']]) },
    { name: 'description', label: 'Deal Description', type: 'string', fieldType: 'textarea', group: 'dealinformation' },
    { ...owner('dealinformation'), label: 'Deal owner' },
    created('dealinformation'),
    modified('dealinformation'),
    objectId('dealinformation'),
  ],
  ...ENGAGEMENT_SPECS,
};

const GROUPS: Record<ObjectType, Array<[string, string]>> = {
  contacts: [['contactinformation', 'Contact information'], ['sales_properties', 'Sales properties'], ...CONTACT_ANALYTICS_GROUPS],
  companies: [['companyinformation', 'Company information']],
  deals: [['dealinformation', 'Deal information']],
  ...ENGAGEMENT_GROUPS,
};

export function defaultProperties(type: ObjectType): Map<string, PropertyDefinition> {
  // Fresh copies per portal: a portal editing its options must not change another's.
  return new Map(SPECS[type].map((spec, i) => [spec.name, structuredClone(define(spec, i))]));
}

export function defaultGroups(type: ObjectType): Map<string, PropertyGroup> {
  return new Map(GROUPS[type].map(([name, label], i) => [name, { name, label, displayOrder: i, archived: false }]));
}

/** Properties returned when a read or search names none (HubSpot's defaults). */
export const DEFAULT_READ_PROPERTIES: Record<ObjectType, string[]> = {
  contacts: ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname'],
  companies: ['createdate', 'domain', 'hs_lastmodifieddate', 'hs_object_id', 'name'],
  deals: ['amount', 'closedate', 'createdate', 'dealname', 'dealstage', 'hs_lastmodifieddate', 'hs_object_id', 'pipeline'],
  ...ENGAGEMENT_READ_PROPERTIES,
};

/** Properties the free-text search `query` looks in. */
export const QUERY_PROPERTIES: Record<ObjectType, string[]> = {
  contacts: ['firstname', 'lastname', 'email', 'phone', 'mobilephone', 'company', 'hs_object_id'],
  companies: ['name', 'domain', 'website', 'phone', 'hs_object_id'],
  deals: ['dealname', 'hs_object_id'],
  ...ENGAGEMENT_QUERY_PROPERTIES,
};

/** The people every portal starts with as owners (same names/emails in each portal, different ids). */
export const DEFAULT_OWNERS: Array<{ firstName: string; lastName: string; email: string }> = [
  { firstName: 'Avery', lastName: 'Admin', email: 'avery.admin@example.com' },
  { firstName: 'Sam', lastName: 'Seller', email: 'sam.seller@example.com' },
  { firstName: 'Robin', lastName: 'Rep', email: 'robin.rep@example.com' },
];
