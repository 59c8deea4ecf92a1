import type { MetadataAccess, OwnerDirectory } from '../../../../server/src/sync/rules/mapping.ts';
import type { DynamicsAttributeMeta, HubSpotPropertyMeta } from '../../../../server/src/sync/rules/types.ts';

/** Small copies of the real metadata shapes (HubSpot defaults, Dataverse standard columns). */
export const LEAD_STATUS: HubSpotPropertyMeta = {
  name: 'hs_lead_status', type: 'enumeration', fieldType: 'radio',
  options: [
    { value: 'NEW', label: 'New' }, { value: 'OPEN', label: 'Open' }, { value: 'IN_PROGRESS', label: 'In Progress' },
    { value: 'CONNECTED', label: 'Connected' }, { value: 'hot_lead', label: 'Hot' },
  ],
};

export const LEAD_STATUSCODE: DynamicsAttributeMeta = {
  logicalName: 'statuscode', type: 'Status',
  options: [
    { value: 1, label: 'New', state: 0 }, { value: 2, label: 'Contacted', state: 0 }, { value: 3, label: 'Qualified', state: 1 },
    { value: 4, label: 'Lost', state: 2 }, { value: 8, label: 'Hot', state: 0 },
  ],
};

export const INTERESTS_HS: HubSpotPropertyMeta = {
  name: 'interests', type: 'enumeration', fieldType: 'checkbox',
  options: [{ value: 'software', label: 'Software' }, { value: 'Hardware', label: 'Kit' }, { value: 'consulting', label: 'Consulting' }],
};
export const INTERESTS_DV: DynamicsAttributeMeta = {
  logicalName: 'hds_interests', type: 'MultiSelectPicklist',
  options: [{ value: 100000000, label: 'Software' }, { value: 100000001, label: 'Hardware' }, { value: 100000002, label: 'Services' }],
};

const HS: HubSpotPropertyMeta[] = [
  { name: 'email', type: 'string' }, { name: 'firstname', type: 'string' }, { name: 'lastname', type: 'string' },
  { name: 'phone', type: 'phone_number' }, { name: 'mobilephone', type: 'phone_number' }, { name: 'jobtitle', type: 'string' },
  { name: 'company', type: 'string' }, { name: 'website', type: 'string' }, { name: 'address', type: 'string' },
  { name: 'city', type: 'string' }, { name: 'state', type: 'string' }, { name: 'zip', type: 'string' }, { name: 'country', type: 'string' },
  LEAD_STATUS,
  { name: 'hs_email_optout', type: 'bool', fieldType: 'booleancheckbox', options: [{ value: 'true', label: 'Yes' }, { value: 'false', label: 'No' }] },
  { name: 'lifecyclestage', type: 'enumeration', fieldType: 'radio', options: [{ value: 'lead', label: 'Lead' }, { value: 'customer', label: 'Customer' }] },
  { name: 'hubspot_owner_id', type: 'enumeration', fieldType: 'select', options: [] },
  { name: 'dynamics_id', type: 'string' }, { name: 'dynamics_entity', type: 'string' }, { name: 'dynamics_url', type: 'string' },
  { name: 'hs_object_id', type: 'number' },
  { name: 'numberofemployees', type: 'number' }, { name: 'annualrevenue', type: 'number' },
  { name: 'closedate', type: 'datetime' }, { name: 'renewal_date', type: 'date' },
  INTERESTS_HS,
];

const DV: DynamicsAttributeMeta[] = [
  { logicalName: 'leadid', type: 'Uniqueidentifier' },
  { logicalName: 'emailaddress1', type: 'String', maxLength: 100 }, { logicalName: 'firstname', type: 'String', maxLength: 50 },
  { logicalName: 'lastname', type: 'String', maxLength: 50 }, { logicalName: 'telephone1', type: 'String' },
  { logicalName: 'mobilephone', type: 'String' }, { logicalName: 'jobtitle', type: 'String' }, { logicalName: 'companyname', type: 'String' },
  { logicalName: 'websiteurl', type: 'String' }, { logicalName: 'address1_line1', type: 'String' }, { logicalName: 'address1_city', type: 'String' },
  { logicalName: 'address1_stateorprovince', type: 'String' }, { logicalName: 'address1_postalcode', type: 'String' },
  { logicalName: 'address1_country', type: 'String' },
  LEAD_STATUSCODE,
  { logicalName: 'donotemail', type: 'Boolean', options: [{ value: 0, label: 'Allow' }, { value: 1, label: 'Do Not Allow' }] },
  { logicalName: 'ownerid', type: 'Owner', targets: ['systemuser', 'team'] },
  { logicalName: 'hds_hubspotid', type: 'String', maxLength: 100 },
  { logicalName: 'numberofemployees', type: 'Integer', minValue: 0, maxValue: 1000000 }, { logicalName: 'revenue', type: 'Money' },
  { logicalName: 'estimatedclosedate', type: 'DateTime', dateOnly: true }, { logicalName: 'hds_renewal', type: 'DateTime' },
  INTERESTS_DV,
];

export function metadata(extraHs: HubSpotPropertyMeta[] = [], extraDv: DynamicsAttributeMeta[] = []): MetadataAccess {
  const hs = new Map([...HS, ...extraHs].map((p) => [p.name, p]));
  const dv = new Map([...DV, ...extraDv].map((a) => [a.logicalName, a]));
  return { hubspotProperty: (n) => hs.get(n), dynamicsAttribute: (n) => dv.get(n) };
}

export const USER_ID = '11111111-2222-4333-8444-555555555555';
export const owners: OwnerDirectory = {
  emailOfHubSpotOwner: (id) => ({ '101': 'Sam.Seller@example.com', '102': 'nobody@example.com' } as Record<string, string>)[id],
  hubspotOwnerIdByEmail: (e) => (e === 'sam.seller@example.com' ? '101' : undefined),
  emailOfSystemUser: (id) => (id === USER_ID ? 'sam.seller@example.com' : undefined),
  systemUserIdByEmail: (e) => (e === 'sam.seller@example.com' ? USER_ID : undefined),
};
