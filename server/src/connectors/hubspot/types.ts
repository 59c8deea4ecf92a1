import type { ConnectorError } from '../errors.ts';

/** The CRM objects the sync touches (and any other object type name HubSpot accepts). */
export type HubSpotObjectType = 'contacts' | 'companies' | 'deals' | (string & {});

/** A record as the sync sees it: property values are strings (HubSpot's wire format), null when unset. */
export interface HubSpotRecord {
  id: string;
  properties: Record<string, string | null>;
  /** Associated ids by object type, when asked for. */
  associations?: Record<string, string[]>;
  createdAt?: string;
  updatedAt?: string;
  archived?: boolean;
}

/** Per-input outcome of a batch write, in input order. */
export type BatchOutcome =
  | { ok: true; id: string; record: HubSpotRecord; isNew?: boolean }
  | { ok: false; error: ConnectorError };

export interface UpsertInput {
  /** The value of `idProperty` (e.g. an email, or `dynamics_id`). */
  id: string;
  idProperty: string;
  properties: Record<string, string>;
}

export interface CreateInput {
  properties: Record<string, string>;
  associations?: Array<{ toId: string; associationTypeId: number; associationCategory?: 'HUBSPOT_DEFINED' | 'USER_DEFINED' | 'INTEGRATOR_DEFINED' }>;
}

export interface UpdateInput {
  id: string;
  idProperty?: string;
  properties: Record<string, string>;
}

export interface EnumerationOption {
  label: string;
  value: string;
  displayOrder?: number;
  hidden?: boolean;
  description?: string;
}

export interface PropertyDefinition {
  name: string;
  label: string;
  type: 'string' | 'number' | 'date' | 'datetime' | 'enumeration' | 'bool' | 'phone_number';
  fieldType: 'text' | 'textarea' | 'html' | 'number' | 'select' | 'radio' | 'checkbox' | 'booleancheckbox' | 'date' | 'file' | 'phonenumber' | 'calculation_equation';
  groupName?: string;
  description?: string;
  hasUniqueValue?: boolean;
  /** Shown in forms / editable in the UI; our link properties are written by the sync only. */
  formField?: boolean;
  options?: EnumerationOption[];
}

export interface HubSpotProperty {
  name: string;
  label: string;
  type: string;
  fieldType: string;
  groupName: string;
  options: EnumerationOption[];
  hasUniqueValue?: boolean;
  calculated?: boolean;
  readOnlyValue?: boolean;
  readOnlyOptions?: boolean;
  hubspotDefined?: boolean;
}

export interface HubSpotOwner {
  id: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  userId?: number;
  archived: boolean;
}

export interface AssociatedObject {
  toObjectId: string;
  types: Array<{ category: string; typeId: number; label?: string | null }>;
}
