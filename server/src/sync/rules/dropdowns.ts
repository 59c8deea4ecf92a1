import type { DynamicsOption, HubSpotOption, Unmatched } from './types.ts';

/**
 * DESIGN §3, the seed's dropdown algorithm. Dropdowns match on text labels, never on internal ids, so HubSpot
 * workflows and lists that reference option values never break and sandbox → production moves rewrite nothing.
 * Labels compare exactly (the seed says "equals"); nothing is fuzzy-matched.
 */

/** HubSpot multi-checkbox values are `;`-separated. */
export const splitHubSpotMulti = (value: string): string[] => value.split(';').map((v) => v.trim()).filter((v) => v !== '');

/**
 * Dataverse multi-select values arrive as an int array, a comma-separated string (Web API) or an array of
 * `{ Value }` OptionSetValue objects (webhook context); all become an int array. Non-integers are dropped.
 */
export function parseDynamicsMulti(value: unknown): number[] {
  const items: unknown[] = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : typeof value === 'number' ? [value] : [];
  const out: number[] = [];
  for (const item of items) {
    const raw = item !== null && typeof item === 'object' && 'Value' in item ? (item as { Value: unknown }).Value : item;
    const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
    if (typeof n === 'number' && Number.isInteger(n) && !out.includes(n)) out.push(n);
  }
  return out;
}

// ---- HubSpot → Dynamics ---------------------------------------------------------------------------------

export type ToDynamicsChoice = { value: number } | { unmatched: Unmatched };

/**
 * 1. find the HubSpot option by value in the cached property metadata;
 * 2. the Dynamics option whose label equals the HubSpot value, else whose label equals the HubSpot label;
 * 3. else do not send the field and report `{ property_name, value }`.
 * A value missing from a stale cache still gets step 2's first test (its label is unknown).
 */
export function hubspotToDynamics(propertyName: string, hsValue: string, hsOptions: HubSpotOption[], dynOptions: DynamicsOption[]): ToDynamicsChoice {
  const hsOption = hsOptions.find((o) => o.value === hsValue);
  const byValue = dynOptions.find((o) => o.label === hsValue);
  if (byValue) return { value: byValue.value };
  if (hsOption) {
    const byLabel = dynOptions.find((o) => o.label === hsOption.label);
    if (byLabel) return { value: byLabel.value };
  }
  return { unmatched: { property_name: propertyName, value: hsValue } };
}

/**
 * Multi-select: the same per item. Matched items are sent (in HubSpot's order, without duplicates); each
 * unmatched item is reported. `value` is absent when no item matched: then the field is not sent at all.
 */
export function hubspotMultiToDynamics(propertyName: string, hsValue: string, hsOptions: HubSpotOption[], dynOptions: DynamicsOption[]): { value?: number[]; unmatched: Unmatched[] } {
  const values: number[] = [];
  const unmatched: Unmatched[] = [];
  for (const item of splitHubSpotMulti(hsValue)) {
    const r = hubspotToDynamics(propertyName, item, hsOptions, dynOptions);
    if ('value' in r) {
      if (!values.includes(r.value)) values.push(r.value);
    } else unmatched.push(r.unmatched);
  }
  return values.length > 0 ? { value: values, unmatched } : { unmatched };
}

// ---- Dynamics → HubSpot ---------------------------------------------------------------------------------

export interface AddOption {
  label: string;
  value: string;
}
/**
 * `addOption`: the caller adds the option to the HubSpot property (sending ALL existing options too, since the
 * properties API replaces the whole list), refreshes its cache, then writes `addOption.value`.
 * `unknown`: the Dynamics value is not in the cached option-set metadata (stale cache): refresh and retry.
 */
export type ToHubSpotChoice = { value: string } | { addOption: AddOption } | { unknown: number };

/**
 * 1. find the Dynamics option by its integer value in the cached option-set metadata;
 * 2. the HubSpot option whose label equals the Dynamics label, else whose value equals the Dynamics label;
 * 3. else add a HubSpot option with label = value = the Dynamics label.
 * `knownLabel` (the record's FormattedValue) stands in for step 1 when the cache does not know the value yet.
 */
export function dynamicsToHubSpot(dynValue: number, dynOptions: DynamicsOption[], hsOptions: HubSpotOption[], knownLabel?: string): ToHubSpotChoice {
  const label = dynOptions.find((o) => o.value === dynValue)?.label ?? knownLabel;
  if (label === undefined) return { unknown: dynValue };
  const byLabel = hsOptions.find((o) => o.label === label);
  if (byLabel) return { value: byLabel.value };
  const byValue = hsOptions.find((o) => o.value === label);
  if (byValue) return { value: byValue.value };
  return { addOption: { label, value: label } };
}

/** Multi-select: per item; the value lists matched and to-be-added options, `;`-separated. */
export function dynamicsMultiToHubSpot(dynValues: number[], dynOptions: DynamicsOption[], hsOptions: HubSpotOption[]): { value: string; addOptions: AddOption[]; unknown: number[] } {
  const values: string[] = [];
  const addOptions: AddOption[] = [];
  const unknown: number[] = [];
  for (const v of dynValues) {
    const r = dynamicsToHubSpot(v, dynOptions, hsOptions);
    if ('unknown' in r) unknown.push(r.unknown);
    else {
      const value = 'value' in r ? r.value : r.addOption.value;
      if ('addOption' in r && !addOptions.some((a) => a.value === value)) addOptions.push(r.addOption);
      if (!values.includes(value)) values.push(value);
    }
  }
  return { value: values.join(';'), addOptions, unknown };
}

// ---- Booleans (by label too) ----------------------------------------------------------------------------

/** HubSpot bool properties normally list these; used when the cached definition has no options. */
export const HUBSPOT_BOOL_OPTIONS: HubSpotOption[] = [{ label: 'Yes', value: 'true' }, { label: 'No', value: 'false' }];
/** Dataverse two-option columns: 1 = true, 0 = false (labels vary: "Do Not Allow"/"Allow", …). */
export const DYNAMICS_BOOL_OPTIONS: DynamicsOption[] = [{ value: 1, label: 'Yes' }, { value: 0, label: 'No' }];

const hsBoolOptions = (o: HubSpotOption[] | undefined) => (o && o.length > 0 ? o : HUBSPOT_BOOL_OPTIONS);
const dynBoolOptions = (o: DynamicsOption[] | undefined) => (o && o.length > 0 ? o : DYNAMICS_BOOL_OPTIONS);

/**
 * HubSpot bool → Dataverse Boolean: §3 by label first. Booleans have exactly two options whose meaning is
 * fixed, so when the labels differ ("Yes" vs "Do Not Allow") the truth value decides instead of dropping the
 * field; only a value that is neither "true" nor "false" is reported.
 */
export function hubspotBoolToDynamics(propertyName: string, hsValue: string, hsOptions: HubSpotOption[] | undefined, dynOptions: DynamicsOption[] | undefined): { value: boolean } | { unmatched: Unmatched } {
  const r = hubspotToDynamics(propertyName, hsValue, hsBoolOptions(hsOptions), dynBoolOptions(dynOptions));
  if ('value' in r && (r.value === 0 || r.value === 1)) return { value: r.value === 1 };
  const v = hsValue.trim().toLowerCase();
  if (v === 'true' || v === 'false') return { value: v === 'true' };
  return { unmatched: { property_name: propertyName, value: hsValue } };
}

/** Dataverse Boolean → HubSpot bool: by label, then by truth value (a bool property cannot take new options). */
export function dynamicsBoolToHubSpot(value: boolean, dynOptions: DynamicsOption[] | undefined, hsOptions: HubSpotOption[] | undefined): { value: string } {
  const r = dynamicsToHubSpot(value ? 1 : 0, dynBoolOptions(dynOptions), hsBoolOptions(hsOptions));
  if ('value' in r && (r.value === 'true' || r.value === 'false')) return r;
  return { value: value ? 'true' : 'false' };
}

/**
 * Dataverse Boolean → a HubSpot enumeration (not bool): a two-option column is a dropdown with two labels, so §3
 * applies unchanged, including adding the label as an option.
 */
export function dynamicsBoolToHubSpotEnum(value: boolean, dynOptions: DynamicsOption[] | undefined, hsOptions: HubSpotOption[]): ToHubSpotChoice {
  return dynamicsToHubSpot(value ? 1 : 0, dynBoolOptions(dynOptions), hsOptions);
}

/** HubSpot enumeration → Dataverse Boolean: §3 against the column's two labels. */
export function hubspotEnumToDynamicsBool(propertyName: string, hsValue: string, hsOptions: HubSpotOption[], dynOptions: DynamicsOption[] | undefined): { value: boolean } | { unmatched: Unmatched } {
  const r = hubspotToDynamics(propertyName, hsValue, hsOptions, dynBoolOptions(dynOptions));
  return 'value' in r ? { value: r.value === 1 } : r;
}
