import { ENGAGEMENT_ASSOCIATION_TYPES } from './activities.ts';
import type { ObjectType } from './types.ts';

/**
 * HubSpot-defined association type ids between contacts, companies and deals (api-client `AssociationTypes`),
 * plus those of activities (activities.ts).
 * Every type has an inverse that HubSpot keeps in step, so a contact→company 279 is also a company→contact 280.
 */
export interface AssociationTypeInfo {
  from: ObjectType;
  to: ObjectType;
  inverse: number;
  primary: boolean;
  /** The v3 `associations.<type>.results[].type` name. */
  v3Name: string;
}

export const HUBSPOT_DEFINED: ReadonlyMap<number, AssociationTypeInfo> = new Map([
  [279, { from: 'contacts', to: 'companies', inverse: 280, primary: false, v3Name: 'contact_to_company_unlabeled' }],
  [280, { from: 'companies', to: 'contacts', inverse: 279, primary: false, v3Name: 'company_to_contact_unlabeled' }],
  [1, { from: 'contacts', to: 'companies', inverse: 2, primary: true, v3Name: 'contact_to_company' }],
  [2, { from: 'companies', to: 'contacts', inverse: 1, primary: true, v3Name: 'company_to_contact' }],
  [3, { from: 'deals', to: 'contacts', inverse: 4, primary: false, v3Name: 'deal_to_contact' }],
  [4, { from: 'contacts', to: 'deals', inverse: 3, primary: false, v3Name: 'contact_to_deal' }],
  [341, { from: 'deals', to: 'companies', inverse: 342, primary: false, v3Name: 'deal_to_company_unlabeled' }],
  [342, { from: 'companies', to: 'deals', inverse: 341, primary: false, v3Name: 'company_to_deal_unlabeled' }],
  [5, { from: 'deals', to: 'companies', inverse: 6, primary: true, v3Name: 'deal_to_company' }],
  [6, { from: 'companies', to: 'deals', inverse: 5, primary: true, v3Name: 'company_to_deal' }],
  ...ENGAGEMENT_ASSOCIATION_TYPES,
]);

/** The unlabeled ("default") type for each ordered pair. */
export function defaultTypeId(from: ObjectType, to: ObjectType): number | undefined {
  for (const [id, info] of HUBSPOT_DEFINED) if (info.from === from && info.to === to && !info.primary) return id;
  return undefined;
}

/** The primary type id for the pair, when one exists (a contact or deal has one primary company). */
export function primaryTypeId(from: ObjectType, to: ObjectType): number | undefined {
  for (const [id, info] of HUBSPOT_DEFINED) if (info.from === from && info.to === to && info.primary) return id;
  return undefined;
}

/** USER_DEFINED labels are not modelled as pairs: a custom type id is its own inverse. */
export function inverseTypeId(typeId: number): number {
  return HUBSPOT_DEFINED.get(typeId)?.inverse ?? typeId;
}

export function categoryOf(typeId: number): 'HUBSPOT_DEFINED' | 'USER_DEFINED' {
  return HUBSPOT_DEFINED.has(typeId) ? 'HUBSPOT_DEFINED' : 'USER_DEFINED';
}

export function labelOf(typeId: number): string | null {
  return HUBSPOT_DEFINED.get(typeId)?.primary ? 'Primary' : null;
}
