import type { PropertyDefinition } from './types.ts';

/**
 * The properties the server creates on connect so HubSpot records show their Dynamics counterpart
 * (the CRM card and users' lists/filters read them). Written by the sync only, hence not form fields.
 */
export const DYNAMICS_LINK_GROUP = { name: 'dynamics_365', label: 'Dynamics 365' };

export const DYNAMICS_LINK_PROPERTIES: PropertyDefinition[] = [
  { name: 'dynamics_id', label: 'Dynamics 365 ID', type: 'string', fieldType: 'text', hasUniqueValue: true, description: 'Id of the linked Dynamics 365 record (set by the sync). Unique, so creating a record for a Dynamics row is an idempotent upsert.' },
  { name: 'dynamics_entity', label: 'Dynamics 365 entity', type: 'string', fieldType: 'text', description: 'Dynamics 365 table of the linked record: lead, contact, account or opportunity.' },
  { name: 'dynamics_url', label: 'Dynamics 365 link', type: 'string', fieldType: 'text', description: 'Opens the linked record in Dynamics 365.' },
];
