import { propertyValueError, type PropertyValueError } from './errors.ts';
import type { PropertyDefinition } from './types.ts';

/**
 * Checks and normalises one written property value the way HubSpot stores it: always a string, '' clears,
 * numbers must parse, enumerations must name an existing option, dates are midnight UTC, date-times are kept as
 * ISO strings. Pure, so objects, batch and upsert share exactly the same rules.
 */
export type Normalised = { ok: true; value: string } | { ok: false; error: PropertyValueError };

const ok = (value: string): Normalised => ({ ok: true, value });
const bad = (def: PropertyDefinition, code: string, message: string): Normalised =>
  ({ ok: false, error: propertyValueError(def.name, code, message) });

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INTEGER_MS = /^-?\d{1,16}$/;

/** Parses ms epoch or ISO 8601 into ms, or null. */
export function parseInstant(value: string): number | null {
  if (INTEGER_MS.test(value)) return Number(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value)) return null;
  const ms = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
  return Number.isNaN(ms) ? null : ms;
}

export function normaliseValue(def: PropertyDefinition, raw: unknown, isOwner: (id: string) => boolean): Normalised {
  if (raw === null || raw === undefined) return ok('');
  if (typeof raw === 'object') return bad(def, 'INVALID_TYPE', `${JSON.stringify(raw)} is not a valid value for ${def.name}: expected a string.`);
  const value = String(raw).trim();
  if (value === '') return ok('');
  switch (def.type) {
    case 'number':
      if (!NUMBER.test(value)) {
        return value.includes('.')
          ? bad(def, 'INVALID_DOUBLE', `${value} was not a valid double.`)
          : bad(def, 'INVALID_LONG', `${value} was not a valid long.`);
      }
      return ok(value);
    case 'bool': {
      const lower = value.toLowerCase();
      if (lower !== 'true' && lower !== 'false') return bad(def, 'INVALID_BOOLEAN', `${value} is not a valid boolean; use true or false.`);
      return ok(lower);
    }
    case 'date': {
      const ms = parseInstant(value);
      if (ms === null) return bad(def, 'INVALID_DATE', `${value} was not a valid date.`);
      const d = new Date(ms);
      if (ms % 86_400_000 !== 0) {
        const t = `${d.getUTCHours()}:${d.getUTCMinutes()}:${d.getUTCSeconds()}.${d.getUTCMilliseconds()}`;
        return bad(def, 'INVALID_DATE', `${value} is at ${t} UTC, not midnight!`);
      }
      return ok(d.toISOString().slice(0, 10));
    }
    case 'datetime': {
      const ms = parseInstant(value);
      if (ms === null) return bad(def, 'INVALID_DATETIME', `${value} was not a valid date-time.`);
      return ok(new Date(ms).toISOString());
    }
    case 'enumeration': {
      if (def.name === 'hubspot_owner_id') {
        return isOwner(value) ? ok(value) : bad(def, 'INVALID_OWNER_ID', `${value} is not a valid owner id`);
      }
      // Multi-select values are ';'-separated; every item must be an option.
      const items = def.fieldType === 'checkbox' ? value.split(';').filter((v) => v !== '') : [value];
      for (const item of items) {
        if (!def.options.some((o) => o.value === item)) {
          const allowed = def.options.map((o) => o.value).join(', ');
          return bad(def, 'INVALID_OPTION', `${item} was not one of the allowed options: [${allowed}]`);
        }
      }
      return ok(items.join(';'));
    }
    default:
      return ok(value);
  }
}
