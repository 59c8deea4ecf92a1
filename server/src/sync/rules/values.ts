import type { DynamicsAttributeMeta, DynamicsType, HubSpotPropertyMeta, HubSpotType, RuleError } from './types.ts';

/**
 * Scalar type conversion between HubSpot (every value a string) and Dataverse (typed JSON). Dropdowns, owners
 * and lookups are not here (dropdowns.ts, mapping.ts, associations.ts). A value that cannot convert becomes an
 * error naming the field and saying how to fix it, never a guess: forcing it would write nonsense.
 */

export type Converted<T> = { ok: true; value: T } | { ok: false; error: RuleError };

const DAY = 86_400_000;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

const fail = (field: string, code: string, message: string): { ok: false; error: RuleError } => ({ ok: false, error: { field, code, message } });
const hsSays = (p: string, v: unknown) => `HubSpot property ${p} is '${String(v)}'`;
const dvSays = (a: string, v: unknown) => `Dynamics column ${a} is '${typeof v === 'object' ? JSON.stringify(v) : String(v)}'`;
const FIX = 'change the value or the mapping';

/** ms since epoch from ms digits, ISO 8601, `YYYY-MM-DD` or the webhook form `/Date(ms)/`; null otherwise. */
export function parseInstant(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.getTime();
  if (typeof value !== 'string') return null;
  const s = value.trim();
  const wcf = /^\/Date\((-?\d+)([+-]\d{4})?\)\/$/.exec(s);
  if (wcf) return Number(wcf[1]);
  if (/^-?\d{1,16}$/.test(s)) return Number(s);
  if (!/^\d{4}-\d{2}-\d{2}/.test(s)) return null;
  const ms = Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s);
  return Number.isNaN(ms) ? null : ms;
}

const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const midnight = (ms: number) => Math.floor(ms / DAY) * DAY;

/** Money/decimal values from a webhook context arrive as `{ Value }`; Web API reads are plain. */
function unwrap(v: unknown): unknown {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && 'Value' in v ? (v as { Value: unknown }).Value : v;
}

function parseBool(s: string): boolean | null {
  const v = s.trim().toLowerCase();
  if (v === 'true' || v === 'yes' || v === '1') return true;
  if (v === 'false' || v === 'no' || v === '0') return false;
  return null;
}

const TEXT_TYPES: DynamicsType[] = ['String', 'Memo'];

/**
 * HubSpot string → Dataverse JSON value for a scalar column. The caller has already skipped blanks.
 */
export function toDynamicsValue(hsValue: string, hs: Pick<HubSpotPropertyMeta, 'name' | 'type'>, dv: DynamicsAttributeMeta): Converted<unknown> {
  const p = hs.name;
  const col = dv.logicalName;
  const v = hsValue;
  switch (dv.type) {
    case 'String': case 'Memo': {
      let text = v;
      // A HubSpot date/datetime read back into a text column reads better as ISO than as ms digits.
      if (hs.type === 'date' || hs.type === 'datetime') {
        const ms = parseInstant(v);
        if (ms !== null) text = hs.type === 'date' ? isoDate(ms) : new Date(ms).toISOString();
      }
      if (dv.maxLength !== undefined && text.length > dv.maxLength) {
        return fail(col, 'too_long', `${hsSays(p, v.length > 40 ? `${v.slice(0, 40)}…` : v)}, ${text.length} characters; Dynamics column ${col} holds at most ${dv.maxLength}; shorten the value or map a longer column`);
      }
      return { ok: true, value: text };
    }
    case 'Integer': case 'BigInt': case 'Decimal': case 'Double': case 'Money': {
      const s = v.trim();
      if (!NUMBER.test(s)) return fail(col, 'not_a_number', `${hsSays(p, v)}, which is not a number; ${FIX}`);
      const n = Number(s);
      if ((dv.type === 'Integer' || dv.type === 'BigInt') && !Number.isInteger(n)) {
        return fail(col, 'not_an_integer', `${hsSays(p, v)}, which is not a whole number, and Dynamics column ${col} holds whole numbers; ${FIX}`);
      }
      if ((dv.minValue !== undefined && n < dv.minValue) || (dv.maxValue !== undefined && n > dv.maxValue)) {
        return fail(col, 'out_of_range', `${hsSays(p, v)}, outside the range ${dv.minValue} to ${dv.maxValue} of Dynamics column ${col}; ${FIX}`);
      }
      return { ok: true, value: n };
    }
    case 'Boolean': {
      const b = parseBool(v);
      if (b === null) return fail(col, 'not_a_boolean', `${hsSays(p, v)}, which is not true or false; ${FIX}`);
      return { ok: true, value: b };
    }
    case 'DateTime': {
      const ms = parseInstant(v);
      if (ms === null) return fail(col, 'not_a_date', `${hsSays(p, v)}, which is not a date; use YYYY-MM-DD or an ISO date-time, or ${FIX}`);
      return { ok: true, value: dv.dateOnly ? isoDate(ms) : new Date(ms).toISOString() };
    }
    case 'Uniqueidentifier': {
      const g = v.trim().replace(/^\{|\}$/g, '').toLowerCase();
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(g)) {
        return fail(col, 'not_a_guid', `${hsSays(p, v)}, which is not a GUID; ${FIX}`);
      }
      return { ok: true, value: g };
    }
    default:
      return fail(col, 'unsupported_type', `Dynamics column ${col} is a ${dv.type}, which a ${hs.type} HubSpot property cannot fill directly; map a ${TEXT_TYPES.join('/')} column or change the mapping`);
  }
}

function numberText(n: number): string {
  // HubSpot wants plain decimals; avoid exponent notation for large/small money values.
  if (Math.abs(n) >= 1e21) return BigInt(Math.trunc(n)).toString();
  return n !== 0 && Math.abs(n) < 1e-6 ? n.toFixed(20).replace(/\.?0+$/, '') : String(n);
}

/**
 * Dataverse value → HubSpot string for a scalar property. Dates: a HubSpot `date` takes midnight UTC in ms
 * (a Dynamics date-time keeps its UTC calendar day); a `datetime` takes ISO 8601.
 */
export function toHubSpotValue(dvRaw: unknown, dv: Pick<DynamicsAttributeMeta, 'logicalName' | 'type' | 'dateOnly'>, hs: Pick<HubSpotPropertyMeta, 'name' | 'type'>): Converted<string> {
  const col = dv.logicalName;
  const p = hs.name;
  const v = unwrap(dvRaw);
  const type: HubSpotType = hs.type;
  switch (type) {
    case 'string': case 'phone_number': {
      if (typeof v === 'string') {
        if (dv.type === 'DateTime' && !dv.dateOnly) {
          const ms = parseInstant(v);
          if (ms !== null) return { ok: true, value: new Date(ms).toISOString() };
        }
        return { ok: true, value: v };
      }
      if (typeof v === 'number') return { ok: true, value: numberText(v) };
      if (typeof v === 'boolean') return { ok: true, value: v ? 'true' : 'false' };
      return fail(p, 'unsupported_value', `${dvSays(col, v)}, which cannot be written as text to HubSpot property ${p}; ${FIX}`);
    }
    case 'number': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && NUMBER.test(v.trim()) ? Number(v.trim()) : NaN;
      if (!Number.isFinite(n)) return fail(p, 'not_a_number', `${dvSays(col, v)}, which is not a number, and HubSpot property ${p} is a number; ${FIX}`);
      return { ok: true, value: numberText(n) };
    }
    case 'bool': {
      const b = typeof v === 'boolean' ? v : typeof v === 'number' && (v === 0 || v === 1) ? v === 1 : typeof v === 'string' ? parseBool(v) : null;
      if (b === null) return fail(p, 'not_a_boolean', `${dvSays(col, v)}, which is not true or false, and HubSpot property ${p} is a checkbox; ${FIX}`);
      return { ok: true, value: b ? 'true' : 'false' };
    }
    case 'date': case 'datetime': {
      const ms = parseInstant(v);
      if (ms === null) return fail(p, 'not_a_date', `${dvSays(col, v)}, which is not a date, and HubSpot property ${p} is a ${type}; ${FIX}`);
      return { ok: true, value: type === 'date' ? String(midnight(ms)) : new Date(ms).toISOString() };
    }
    case 'enumeration':
      return fail(p, 'text_into_dropdown', `${dvSays(col, v)}, and HubSpot property ${p} is a dropdown; text cannot sync to a dropdown, map a dropdown column or a text property instead`);
  }
}
