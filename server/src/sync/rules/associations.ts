import { LOOKUP_LOGICAL_NAME } from './mapping.ts';

/**
 * Associations follow the standard relations both ways (DESIGN §1):
 * contact ↔ company (`parentcustomerid`), deal ↔ company (`parentaccountid` / `customerid`),
 * deal ↔ contact (`parentcontactid`); a lead's `parentaccountid` also becomes contact ↔ company.
 * A related record that is not linked yet is returned as a dependency (sync it first, then retry), never an
 * error: order of arrival between objects is not guaranteed.
 */

/** HubSpot-defined association type ids (api-client AssociationTypes). */
export const ASSOCIATION_TYPES = {
  contactToCompany: 279,
  contactToCompanyPrimary: 1,
  dealToCompany: 341,
  dealToCompanyPrimary: 5,
  dealToContact: 3,
} as const;

export type HubSpotAssocObject = 'contacts' | 'companies' | 'deals';

export interface HubSpotAssociation {
  fromObjectType: HubSpotAssocObject;
  fromId: string;
  toObjectType: HubSpotAssocObject;
  toId: string;
  types: Array<{ associationCategory: 'HUBSPOT_DEFINED'; associationTypeId: number }>;
}

export interface Dependency {
  /** The system holding the record that must be synced (and linked) first. */
  system: 'dynamics' | 'hubspot';
  /** Dataverse logical name or HubSpot object type. */
  object: string;
  id: string;
  reason: string;
}

interface LookupRule {
  entity: 'contact' | 'lead' | 'opportunity';
  column: string;
  target: 'account' | 'contact';
  from: HubSpotAssocObject;
  to: HubSpotAssocObject;
  typeId: number;
}

export const DYNAMICS_LOOKUP_RULES: readonly LookupRule[] = [
  { entity: 'contact', column: 'parentcustomerid', target: 'account', from: 'contacts', to: 'companies', typeId: ASSOCIATION_TYPES.contactToCompany },
  { entity: 'lead', column: 'parentaccountid', target: 'account', from: 'contacts', to: 'companies', typeId: ASSOCIATION_TYPES.contactToCompany },
  { entity: 'opportunity', column: 'parentaccountid', target: 'account', from: 'deals', to: 'companies', typeId: ASSOCIATION_TYPES.dealToCompany },
  { entity: 'opportunity', column: 'customerid', target: 'account', from: 'deals', to: 'companies', typeId: ASSOCIATION_TYPES.dealToCompany },
  { entity: 'opportunity', column: 'customerid', target: 'contact', from: 'deals', to: 'contacts', typeId: ASSOCIATION_TYPES.dealToContact },
  { entity: 'opportunity', column: 'parentcontactid', target: 'contact', from: 'deals', to: 'contacts', typeId: ASSOCIATION_TYPES.dealToContact },
];

/** Single-target lookups need no annotation; polymorphic ones (Customer) carry it. */
const SINGLE_TARGET: Record<string, string> = { parentaccountid: 'account', parentcontactid: 'contact' };

function readLookup(record: Record<string, unknown>, column: string): { id: string; entity?: string } | undefined {
  const id = record[`_${column}_value`];
  if (typeof id !== 'string' || id === '') return undefined;
  const entity = record[`_${column}_value${LOOKUP_LOGICAL_NAME}`];
  return { id: id.toLowerCase(), entity: typeof entity === 'string' ? entity : SINGLE_TARGET[column] };
}

export interface FromDynamicsInput {
  entity: string;
  /** The Dataverse record (Web API form, `_x_value` + lookuplogicalname annotations). */
  record: Record<string, unknown>;
  /** HubSpot id of this record (already written). */
  hubspotId: string;
  /** Stored links: HubSpot id of a Dynamics record, if linked. */
  hubspotIdOf(entity: string, dynamicsId: string): string | undefined;
}

export function associationsFromDynamics(input: FromDynamicsInput): { associations: HubSpotAssociation[]; dependencies: Dependency[] } {
  const associations: HubSpotAssociation[] = [];
  const dependencies: Dependency[] = [];
  for (const rule of DYNAMICS_LOOKUP_RULES) {
    if (rule.entity !== input.entity) continue;
    const ref = readLookup(input.record, rule.column);
    if (!ref || ref.entity !== rule.target) continue;
    const toId = input.hubspotIdOf(ref.entity, ref.id);
    if (!toId) {
      if (!dependencies.some((d) => d.object === ref.entity && d.id === ref.id)) {
        dependencies.push({ system: 'dynamics', object: ref.entity, id: ref.id, reason: `${input.entity}.${rule.column} points to ${ref.entity} ${ref.id}, which is not linked to HubSpot yet` });
      }
      continue;
    }
    if (associations.some((a) => a.toObjectType === rule.to && a.toId === toId)) continue; // parentaccountid = customerid
    associations.push({
      fromObjectType: rule.from, fromId: input.hubspotId, toObjectType: rule.to, toId,
      types: [{ associationCategory: 'HUBSPOT_DEFINED', associationTypeId: rule.typeId }],
    });
  }
  return { associations, dependencies };
}

// ---- HubSpot → Dynamics -------------------------------------------------------------------------------------

export interface AssociatedRecord {
  id: string;
  /** Association type ids of this edge (from the v4 read); a primary type id marks the primary company. */
  typeIds?: number[];
}

export interface ToDynamicsInput {
  /** The Dynamics table being written: contact, lead or opportunity. */
  entity: string;
  associations: { companies?: AssociatedRecord[]; contacts?: AssociatedRecord[] };
  /** Stored links: the Dynamics record a HubSpot record is linked to. */
  dynamicsOf(object: 'companies' | 'contacts', hubspotId: string): { entity: string; id: string } | undefined;
}

export interface ToDynamicsResult {
  /** `@odata.bind` fields to add to the Dataverse write. */
  fields: Record<string, string>;
  dependencies: Dependency[];
  /** Associations that cannot become a lookup (several candidates, lead where a contact is needed), for the log. */
  skipped: string[];
}

const PRIMARY_COMPANY: Record<string, number> = {
  contact: ASSOCIATION_TYPES.contactToCompanyPrimary,
  lead: ASSOCIATION_TYPES.contactToCompanyPrimary,
  opportunity: ASSOCIATION_TYPES.dealToCompanyPrimary,
};

/** A lookup holds one record: the primary association, else the only one; several without a primary is skipped. */
function pickOne(list: AssociatedRecord[] | undefined, primaryType: number | undefined, what: string, skipped: string[]): AssociatedRecord | undefined {
  if (!list || list.length === 0) return undefined;
  if (list.length === 1) return list[0];
  const primary = primaryType === undefined ? [] : list.filter((a) => a.typeIds?.includes(primaryType));
  if (primary.length === 1) return primary[0];
  skipped.push(`${list.length} associated ${what} and none is primary; the lookup is left as it is`);
  return undefined;
}

export function associationsToDynamics(input: ToDynamicsInput): ToDynamicsResult {
  const res: ToDynamicsResult = { fields: {}, dependencies: [], skipped: [] };
  const resolve = (object: 'companies' | 'contacts', a: AssociatedRecord) => {
    const linked = input.dynamicsOf(object, a.id);
    if (!linked) {
      res.dependencies.push({ system: 'hubspot', object, id: a.id, reason: `HubSpot ${object} ${a.id} is associated but not linked to Dynamics yet` });
    }
    return linked;
  };

  const company = pickOne(input.associations.companies, PRIMARY_COMPANY[input.entity], 'companies', res.skipped);
  const account = company ? resolve('companies', company) : undefined;
  if (account && account.entity !== 'account') {
    res.skipped.push(`company ${company!.id} is linked to a ${account.entity}, not an account`);
  }
  const accountBind = account && account.entity === 'account' ? `/accounts(${account.id})` : undefined;

  if (input.entity === 'contact') {
    if (accountBind) res.fields['parentcustomerid_account@odata.bind'] = accountBind;
  } else if (input.entity === 'lead') {
    if (accountBind) res.fields['parentaccountid@odata.bind'] = accountBind;
  } else if (input.entity === 'opportunity') {
    if (accountBind) {
      res.fields['parentaccountid@odata.bind'] = accountBind;
      res.fields['customerid_account@odata.bind'] = accountBind;
    }
    const contactAssoc = pickOne(input.associations.contacts, undefined, 'contacts', res.skipped);
    const contact = contactAssoc ? resolve('contacts', contactAssoc) : undefined;
    if (contact && contact.entity !== 'contact') {
      res.skipped.push(`contact ${contactAssoc!.id} is linked to a Dynamics ${contact.entity}; an opportunity's contact must be a Dynamics contact (qualify the lead)`);
    } else if (contact) {
      const bind = `/contacts(${contact.id})`;
      res.fields['parentcontactid@odata.bind'] = bind;
      // The customer is the account when there is one; otherwise the contact.
      if (!accountBind && !(input.associations.companies?.length)) res.fields['customerid_contact@odata.bind'] = bind;
    }
  }
  return res;
}
