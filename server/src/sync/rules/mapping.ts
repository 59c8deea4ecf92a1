import {
  dynamicsBoolToHubSpot, dynamicsBoolToHubSpotEnum, dynamicsMultiToHubSpot, dynamicsToHubSpot, hubspotBoolToDynamics,
  hubspotEnumToDynamicsBool, hubspotMultiToDynamics, hubspotToDynamics, parseDynamicsMulti, splitHubSpotMulti,
} from './dropdowns.ts';
import { normaliseDomain, normaliseEmail } from './match.ts';
import type { FieldMappingRow } from './pairs.ts';
import { toDynamicsValue, toHubSpotValue } from './values.ts';
import {
  isBlank, type DynamicsAttributeMeta, type DynamicsType, type HubSpotPropertyMeta, type RuleError, type Unmatched, type Way,
} from './types.ts';

/**
 * Applies a pair's mapping rows to one source record and returns what to write to the other side. Pure: the
 * worker supplies the record it re-read, cached metadata and the owner directory.
 *
 * Rules: rows whose direction excludes this way are skipped; a blank source value is skipped (it never blanks
 * the target, as the seed says: fields without data do not sync); a value that cannot map is reported
 * (unmatched dropdown item, or an error with how to fix) and only that field is left out.
 */

export const FORMATTED = '@OData.Community.Display.V1.FormattedValue';
export const LOOKUP_LOGICAL_NAME = '@Microsoft.Dynamics.CRM.lookuplogicalname';

/** Looks owners up both ways by exact (normalised) email. */
export interface OwnerDirectory {
  emailOfHubSpotOwner(ownerId: string): string | undefined;
  hubspotOwnerIdByEmail(email: string): string | undefined;
  emailOfSystemUser(systemUserId: string): string | undefined;
  systemUserIdByEmail(email: string): string | undefined;
}

export interface MetadataAccess {
  hubspotProperty(name: string): HubSpotPropertyMeta | undefined;
  dynamicsAttribute(logicalName: string): DynamicsAttributeMeta | undefined;
}

export interface MappingInput {
  way: Way;
  rows: FieldMappingRow[];
  /** HubSpot `properties` (toDynamics) or a Dataverse Web API record with annotations (toHubSpot). */
  record: Record<string, unknown>;
  metadata: MetadataAccess;
  owners?: OwnerDirectory;
  /** Tenant switch; owner rows are skipped when false. Default true. */
  ownerSync?: boolean;
  /** Our own application user in Dynamics: records it owns (those the sync created) keep their HubSpot owner. */
  integrationUserId?: string;
  /** The Dynamics side: table logical name, record id (if known) and org URL (for `dynamics_url`). */
  dynamics: { entity: string; recordId?: string; orgUrl?: string };
}

export interface AddOptionRequest {
  property: string;
  label: string;
  value: string;
}

export interface MappingResult {
  /** HubSpot: property → string. Dataverse: column → JSON value, incl. `ownerid@odata.bind`. */
  fields: Record<string, unknown>;
  unmatched: Unmatched[];
  /** Options to add to HubSpot properties BEFORE writing `fields` (which already use their values). */
  addOptions: AddOptionRequest[];
  errors: RuleError[];
}

const CHOICE: DynamicsType[] = ['Picklist', 'State', 'Status'];
const LOOKUPS: DynamicsType[] = ['Lookup', 'Customer', 'Owner'];
const isMultiHs = (p: HubSpotPropertyMeta) => p.type === 'enumeration' && p.fieldType === 'checkbox';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Tenant rows replace default rows joining the same column and property; the rest are appended (and win). */
export function mergeMappings(defaults: FieldMappingRow[], tenant: FieldMappingRow[]): FieldMappingRow[] {
  const same = (a: FieldMappingRow, b: FieldMappingRow) => a.dynamics === b.dynamics && a.hubspot === b.hubspot;
  return [...defaults.filter((d) => !tenant.some((t) => same(d, t))), ...tenant];
}

export function recordUrl(orgUrl: string, entity: string, id: string): string {
  return `${orgUrl.replace(/\/+$/, '')}/main.aspx?etn=${encodeURIComponent(entity)}&id=${encodeURIComponent(id)}&pagetype=entityrecord`;
}

export function mapRecord(input: MappingInput): MappingResult {
  const out: MappingResult = { fields: {}, unmatched: [], addOptions: [], errors: [] };
  for (const row of input.rows) {
    if (row.kind === 'match') continue;
    if (row.direction !== 'both' && row.direction !== input.way) continue;
    if (row.kind === 'owner' && input.ownerSync === false) continue;
    if (input.way === 'toDynamics') mapToDynamics(input, row, out);
    else mapToHubSpot(input, row, out);
  }
  return out;
}

function err(out: MappingResult, field: string, code: string, message: string): void {
  out.errors.push({ field, code, message });
}

// ---- HubSpot → Dynamics -----------------------------------------------------------------------------------

function mapToDynamics(input: MappingInput, row: FieldMappingRow, out: MappingResult): void {
  if (row.compute) return; // computed rows only describe values we derive for HubSpot
  const raw = input.record[row.hubspot];
  if (isBlank(raw)) return;
  const value = String(raw);
  const dv = input.metadata.dynamicsAttribute(row.dynamics);
  if (!dv) {
    if (!row.optional) err(out, row.dynamics, 'missing_column', `Dynamics column ${row.dynamics} does not exist on ${input.dynamics.entity}; create it (or import the solution) or remove the mapping`);
    return;
  }
  // Without cached metadata the row's declared type stands in (hs_object_id is not always cached).
  const hs: HubSpotPropertyMeta = input.metadata.hubspotProperty(row.hubspot) ?? { name: row.hubspot, type: row.hubspotType };

  if (row.kind === 'owner' || dv.type === 'Owner') return ownerToDynamics(input, row, value, out);
  if (LOOKUPS.includes(dv.type)) {
    return err(out, row.dynamics, 'lookup_not_mapped', `Dynamics column ${row.dynamics} is a lookup; lookups sync as associations, map a text column instead`);
  }
  const hsOptions = hs.options ?? [];
  const dynOptions = dv.options ?? [];

  if (hs.type === 'enumeration' || hs.type === 'bool') {
    if (CHOICE.includes(dv.type)) {
      if (isMultiHs(hs) && splitHubSpotMulti(value).length > 1) {
        return err(out, row.dynamics, 'multi_into_single', `HubSpot property ${hs.name} has several values ('${value}') but Dynamics column ${row.dynamics} takes one; map a multi-select column`);
      }
      const r = hubspotToDynamics(hs.name, splitHubSpotMulti(value)[0] ?? value, hsOptions, dynOptions);
      if ('unmatched' in r) return void out.unmatched.push(r.unmatched);
      out.fields[row.dynamics] = r.value;
      // A status reason only holds in its own state, so the state travels with it.
      const state = dv.type === 'Status' ? dynOptions.find((o) => o.value === r.value)?.state : undefined;
      if (state !== undefined) out.fields.statecode = state;
      return;
    }
    if (dv.type === 'MultiSelectPicklist') {
      const r = hubspotMultiToDynamics(hs.name, value, hsOptions, dynOptions);
      out.unmatched.push(...r.unmatched);
      // The Web API reads and writes multi-select choices as comma-separated values.
      if (r.value) out.fields[row.dynamics] = r.value.join(',');
      return;
    }
    if (dv.type === 'Boolean') {
      const r = hs.type === 'bool' ? hubspotBoolToDynamics(hs.name, value, hs.options, dv.options) : hubspotEnumToDynamicsBool(hs.name, value, hsOptions, dv.options);
      if ('unmatched' in r) return void out.unmatched.push(r.unmatched);
      out.fields[row.dynamics] = r.value;
      return;
    }
    if ((dv.type === 'String' || dv.type === 'Memo') && hs.type === 'enumeration') {
      // Dropdown → text: the readable label, never the internal value.
      const labels = splitHubSpotMulti(value).map((v) => hsOptions.find((o) => o.value === v)?.label ?? v);
      const r = toDynamicsValue(labels.join('; '), { name: hs.name, type: 'string' }, dv);
      if (r.ok) out.fields[row.dynamics] = r.value;
      else out.errors.push(r.error);
      return;
    }
  } else if (CHOICE.includes(dv.type) || dv.type === 'MultiSelectPicklist') {
    return err(out, row.dynamics, 'text_into_dropdown', `HubSpot property ${hs.name} is '${value}', text, and Dynamics column ${row.dynamics} is a dropdown; text cannot sync to a dropdown, map a dropdown property or a text column instead`);
  }
  const r = toDynamicsValue(value, hs, dv);
  if (r.ok) out.fields[row.dynamics] = r.value;
  else out.errors.push(r.error);
}

function ownerToDynamics(input: MappingInput, row: FieldMappingRow, ownerId: string, out: MappingResult): void {
  const dir = input.owners;
  if (!dir) return err(out, row.dynamics, 'no_owner_directory', 'owner sync is on but the owner directory is not loaded; retry');
  const email = dir.emailOfHubSpotOwner(ownerId);
  if (!email) return err(out, row.dynamics, 'owner_unknown', `HubSpot owner ${ownerId} is not in the owner list; refresh owners or assign an active owner`);
  const userId = dir.systemUserIdByEmail(normaliseEmail(email) ?? email);
  if (!userId) return err(out, row.dynamics, 'owner_unmatched', `HubSpot owner ${email} has no Dynamics user with the same email; give the user that email in Dynamics or change the owner`);
  out.fields[`${row.dynamics}@odata.bind`] = `/systemusers(${userId})`;
}

// ---- Dynamics → HubSpot -----------------------------------------------------------------------------------

function lookupValue(record: Record<string, unknown>, column: string): { id: string; entity?: string } | undefined {
  const id = record[`_${column}_value`];
  if (typeof id === 'string' && id !== '') {
    const entity = record[`_${column}_value${LOOKUP_LOGICAL_NAME}`];
    return { id, entity: typeof entity === 'string' ? entity : undefined };
  }
  // Webhook context form: an EntityReference object.
  const ref = record[column];
  if (ref && typeof ref === 'object' && 'Id' in ref) {
    const r = ref as { Id: unknown; LogicalName?: unknown };
    if (typeof r.Id === 'string') return { id: r.Id, entity: typeof r.LogicalName === 'string' ? r.LogicalName : undefined };
  }
  return undefined;
}

function mapToHubSpot(input: MappingInput, row: FieldMappingRow, out: MappingResult): void {
  const rec = input.record;
  const hs = input.metadata.hubspotProperty(row.hubspot);
  const missing = () => {
    if (!row.optional) err(out, row.hubspot, 'missing_property', `HubSpot property ${row.hubspot} does not exist; create it (reinstalling the app creates ours) or remove the mapping`);
  };

  if (row.compute) {
    let value: string | null = null;
    if (row.compute === 'dynamicsEntity') value = input.dynamics.entity;
    else if (row.compute === 'dynamicsUrl') {
      const id = input.dynamics.recordId;
      value = input.dynamics.orgUrl && id ? recordUrl(input.dynamics.orgUrl, input.dynamics.entity, id) : null;
    } else if (row.compute === 'domain') value = normaliseDomain(rec[row.dynamics]);
    if (value === null) return;
    if (!hs) return missing();
    out.fields[row.hubspot] = value;
    return;
  }

  if (row.kind === 'owner') {
    const ref = lookupValue(rec, row.dynamics);
    if (!ref) return;
    if (!hs) return missing();
    return ownerToHubSpot(input, row, ref, out);
  }

  const raw = rec[row.dynamics];
  if (isBlank(raw)) return;
  if (!hs) return missing();
  const dv: DynamicsAttributeMeta = input.metadata.dynamicsAttribute(row.dynamics) ?? { logicalName: row.dynamics, type: row.dynamicsType };
  const formatted = typeof rec[`${row.dynamics}${FORMATTED}`] === 'string' ? (rec[`${row.dynamics}${FORMATTED}`] as string) : undefined;
  const hsOptions = hs.options ?? [];
  const dynOptions = dv.options ?? [];
  const unwrapped = raw !== null && typeof raw === 'object' && !Array.isArray(raw) && 'Value' in raw ? (raw as { Value: unknown }).Value : raw;

  if (CHOICE.includes(dv.type)) {
    const n = Number(unwrapped);
    if (!Number.isInteger(n)) return err(out, row.hubspot, 'bad_choice', `Dynamics column ${row.dynamics} holds '${String(unwrapped)}', not a choice value; refresh metadata`);
    if (hs.type === 'enumeration' || hs.type === 'bool') {
      const r = dynamicsToHubSpot(n, dynOptions, hs.type === 'bool' ? (hsOptions.length ? hsOptions : [{ label: 'Yes', value: 'true' }, { label: 'No', value: 'false' }]) : hsOptions, formatted);
      if ('unknown' in r) return err(out, row.hubspot, 'stale_metadata', `Dynamics column ${row.dynamics} has option ${n}, which the cached option set does not list; refresh metadata and retry`);
      if ('addOption' in r) {
        if (hs.type === 'bool') return err(out, row.hubspot, 'no_such_option', `Dynamics column ${row.dynamics} is '${r.addOption.label}', which HubSpot checkbox ${hs.name} cannot hold; change the mapping`);
        out.addOptions.push({ property: hs.name, ...r.addOption });
        out.fields[row.hubspot] = r.addOption.value;
        return;
      }
      out.fields[row.hubspot] = r.value;
      return;
    }
    if (hs.type === 'string' || hs.type === 'phone_number') {
      const label = dynOptions.find((o) => o.value === n)?.label ?? formatted;
      if (label === undefined) return err(out, row.hubspot, 'stale_metadata', `Dynamics column ${row.dynamics} has option ${n}, which the cached option set does not list; refresh metadata and retry`);
      out.fields[row.hubspot] = label;
      return;
    }
    return err(out, row.hubspot, 'unsupported_pair', `Dynamics dropdown ${row.dynamics} cannot fill HubSpot ${hs.type} property ${hs.name}; map a dropdown or text property`);
  }

  if (dv.type === 'MultiSelectPicklist') {
    const values = parseDynamicsMulti(unwrapped);
    if (values.length === 0) return;
    if (hs.type === 'enumeration') {
      if (!isMultiHs(hs) && values.length > 1) {
        return err(out, row.hubspot, 'multi_into_single', `Dynamics column ${row.dynamics} has several values but HubSpot property ${hs.name} takes one; map a multiple-checkbox property`);
      }
      const r = dynamicsMultiToHubSpot(values, dynOptions, hsOptions);
      if (r.unknown.length > 0) return err(out, row.hubspot, 'stale_metadata', `Dynamics column ${row.dynamics} has options ${r.unknown.join(', ')}, which the cached option set does not list; refresh metadata and retry`);
      for (const a of r.addOptions) out.addOptions.push({ property: hs.name, ...a });
      out.fields[row.hubspot] = r.value;
      return;
    }
    if (hs.type === 'string') {
      const labels = values.map((v) => dynOptions.find((o) => o.value === v)?.label ?? String(v));
      out.fields[row.hubspot] = labels.join('; ');
      return;
    }
    return err(out, row.hubspot, 'unsupported_pair', `Dynamics multi-select ${row.dynamics} cannot fill HubSpot ${hs.type} property ${hs.name}; map a multiple-checkbox or text property`);
  }

  if (dv.type === 'Boolean' && typeof unwrapped === 'boolean') {
    if (hs.type === 'bool') {
      out.fields[row.hubspot] = dynamicsBoolToHubSpot(unwrapped, dv.options, hs.options).value;
      return;
    }
    if (hs.type === 'enumeration') {
      const r = dynamicsBoolToHubSpotEnum(unwrapped, dv.options, hsOptions);
      if ('unknown' in r) return;
      if ('addOption' in r) {
        out.addOptions.push({ property: hs.name, ...r.addOption });
        out.fields[row.hubspot] = r.addOption.value;
      } else out.fields[row.hubspot] = r.value;
      return;
    }
  }

  if (LOOKUPS.includes(dv.type)) {
    return err(out, row.hubspot, 'lookup_not_mapped', `Dynamics column ${row.dynamics} is a lookup; lookups sync as associations, map a text column instead`);
  }
  if (row.kind === 'link' && dv.type === 'Uniqueidentifier' && typeof unwrapped === 'string' && GUID.test(unwrapped)) {
    out.fields[row.hubspot] = unwrapped.toLowerCase();
    return;
  }
  const r = toHubSpotValue(unwrapped, dv, hs);
  if (r.ok) out.fields[row.hubspot] = r.value;
  else out.errors.push(r.error);
}

function ownerToHubSpot(input: MappingInput, row: FieldMappingRow, ref: { id: string; entity?: string }, out: MappingResult): void {
  // HubSpot owners are people: a team-owned record keeps whatever owner HubSpot has, and so does one owned by
  // the integration's own user (it owns what it creates; that is not a choice a person made).
  if (ref.entity && ref.entity !== 'systemuser') return;
  if (input.integrationUserId && ref.id.toLowerCase() === input.integrationUserId.toLowerCase()) return;
  const dir = input.owners;
  if (!dir) return err(out, row.hubspot, 'no_owner_directory', 'owner sync is on but the owner directory is not loaded; retry');
  const email = dir.emailOfSystemUser(ref.id);
  if (!email) return err(out, row.hubspot, 'owner_unknown', `Dynamics user ${ref.id} has no primary email; give the user one that matches a HubSpot owner`);
  const ownerId = dir.hubspotOwnerIdByEmail(normaliseEmail(email) ?? email);
  if (!ownerId) return err(out, row.hubspot, 'owner_unmatched', `Dynamics user ${email} is not a HubSpot owner with the same email; add them as a HubSpot user or change the owner`);
  out.fields[row.hubspot] = ownerId;
}
