import express, { type Request } from 'express';
import { auth } from './auth.ts';
import { HubSpotError, notFound, validationError } from './errors.ts';
import type { Portal } from './store.ts';
import {
  FIELD_TYPES, PROPERTY_TYPES, type FieldType, type ObjectType, type PropertyDefinition, type PropertyOption, type PropertyType,
} from './types.ts';
import { objectTypeParam } from './views.ts';

/**
 * Properties API: definitions and groups per object type. PATCH with `options` replaces the whole option list
 * (HubSpot's rule the dropdown logic depends on); HubSpot-defined properties keep their type and cannot be archived.
 */

/** Which field types HubSpot allows for each property type. */
const COMPATIBLE: Record<PropertyType, FieldType[]> = {
  string: ['text', 'textarea', 'html', 'phonenumber', 'file'],
  number: ['number', 'calculation_equation'],
  date: ['date'],
  datetime: ['date'],
  enumeration: ['select', 'radio', 'checkbox', 'booleancheckbox', 'calculation_equation'],
  bool: ['booleancheckbox', 'calculation_equation'],
  phone_number: ['phonenumber'],
};

type Body = Record<string, unknown>;
const body = (req: Request): Body => (req.body && typeof req.body === 'object' && !Array.isArray(req.body) ? req.body : {}) as Body;

/** The definition as JSON; owner options are the portal's owners (HubSpot fills them from the owners list). */
export function propertyJson(portal: Portal, def: PropertyDefinition): PropertyDefinition {
  if (def.name !== 'hubspot_owner_id') return def;
  const options = [...portal.owners.values()].map((o, i) => ({
    label: `${o.firstName} ${o.lastName} (${o.email})`, value: o.id, displayOrder: i, hidden: false,
  }));
  return { ...def, options };
}

function parseOptions(raw: unknown): PropertyOption[] {
  if (!Array.isArray(raw)) throw validationError('options must be an array');
  const seen = new Set<string>();
  return raw.map((o: Record<string, unknown>, i) => {
    if (!o || typeof o.label !== 'string' || typeof o.value !== 'string') {
      throw validationError(`options[${i}]: label and value are required strings`);
    }
    if (seen.has(o.value)) throw validationError(`Duplicate option value "${o.value}"`);
    seen.add(o.value);
    const option: PropertyOption = {
      label: o.label, value: o.value, displayOrder: typeof o.displayOrder === 'number' ? o.displayOrder : i, hidden: o.hidden === true,
    };
    if (typeof o.description === 'string') option.description = o.description;
    return option;
  });
}

function checkTypes(type: unknown, fieldType: unknown): void {
  if (!PROPERTY_TYPES.includes(type as PropertyType)) {
    throw validationError(`Invalid type ${JSON.stringify(type)}; one of ${PROPERTY_TYPES.join(', ')}`);
  }
  if (!FIELD_TYPES.includes(fieldType as FieldType)) {
    throw validationError(`Invalid fieldType ${JSON.stringify(fieldType)}; one of ${FIELD_TYPES.join(', ')}`);
  }
  if (!COMPATIBLE[type as PropertyType].includes(fieldType as FieldType)) {
    throw validationError(`fieldType ${fieldType} is not valid for a property of type ${type}`);
  }
}

function createProperty(portal: Portal, type: ObjectType, b: Body): PropertyDefinition {
  for (const field of ['name', 'label', 'type', 'fieldType', 'groupName']) {
    if (typeof b[field] !== 'string' || b[field] === '') {
      throw validationError(`${field} is required to create a property`, { context: { [field]: ['required'] } });
    }
  }
  const name = String(b.name);
  if (!/^[a-z][a-z0-9_]*$/.test(name)) throw validationError(`Property name ${name} must be lower case letters, digits and underscores, starting with a letter`);
  if (portal.properties[type].has(name)) {
    throw new HubSpotError(409, 'OBJECT_ALREADY_EXISTS', `Property named '${name}' already exists.`);
  }
  checkTypes(b.type, b.fieldType);
  if (!portal.groups[type].has(String(b.groupName))) throw validationError(`Property group ${b.groupName} does not exist`);
  const now = new Date().toISOString();
  const isEnum = b.type === 'enumeration' || b.type === 'bool';
  const def: PropertyDefinition = {
    name, label: String(b.label), type: b.type as PropertyType, fieldType: b.fieldType as FieldType,
    description: typeof b.description === 'string' ? b.description : '', groupName: String(b.groupName),
    options: b.options === undefined ? [] : parseOptions(b.options),
    displayOrder: typeof b.displayOrder === 'number' ? b.displayOrder : -1, calculated: false, externalOptions: false,
    hasUniqueValue: b.hasUniqueValue === true, hidden: b.hidden === true, hubspotDefined: false, formField: b.formField === true,
    modificationMetadata: { archivable: true, readOnlyDefinition: false, readOnlyValue: false, ...(isEnum ? { readOnlyOptions: false } : {}) },
    createdAt: now, updatedAt: now, archived: false,
  };
  portal.properties[type].set(name, def);
  return def;
}

function mustGet(portal: Portal, type: ObjectType, name: string): PropertyDefinition {
  const def = portal.property(type, name);
  if (!def) throw notFound(`Unable to find property ${name} for object type ${type}`);
  return def;
}

export function propertiesRouter(): express.Router {
  const r = express.Router();
  const base = '/crm/v3/properties/:objectType';

  // Groups first: `/groups` would otherwise be read as a property name.
  r.get(`${base}/groups`, (req, res) => {
    const { portal } = auth(res);
    res.json({ results: [...portal.groups[objectTypeParam(String(req.params.objectType))].values()].filter((g) => !g.archived) });
  });
  r.post(`${base}/groups`, (req, res) => {
    const { portal } = auth(res);
    const groups = portal.groups[objectTypeParam(String(req.params.objectType))];
    const b = body(req);
    if (typeof b.name !== 'string' || typeof b.label !== 'string') throw validationError('name and label are required to create a group');
    if (groups.get(b.name)?.archived === false) throw new HubSpotError(409, 'OBJECT_ALREADY_EXISTS', `Property group named '${b.name}' already exists.`);
    const group = { name: b.name, label: b.label, displayOrder: typeof b.displayOrder === 'number' ? b.displayOrder : -1, archived: false };
    groups.set(b.name, group);
    res.status(201).json(group);
  });
  r.get(`${base}/groups/:groupName`, (req, res) => {
    const { portal } = auth(res);
    const group = portal.groups[objectTypeParam(String(req.params.objectType))].get(String(req.params.groupName));
    if (!group || group.archived) throw notFound(`Unable to find property group ${req.params.groupName}`);
    res.json(group);
  });
  r.patch(`${base}/groups/:groupName`, (req, res) => {
    const { portal } = auth(res);
    const group = portal.groups[objectTypeParam(String(req.params.objectType))].get(String(req.params.groupName));
    if (!group || group.archived) throw notFound(`Unable to find property group ${req.params.groupName}`);
    const b = body(req);
    if (typeof b.label === 'string') group.label = b.label;
    if (typeof b.displayOrder === 'number') group.displayOrder = b.displayOrder;
    res.json(group);
  });
  r.delete(`${base}/groups/:groupName`, (req, res) => {
    const { portal } = auth(res);
    const group = portal.groups[objectTypeParam(String(req.params.objectType))].get(String(req.params.groupName));
    if (group) group.archived = true;
    res.status(204).end();
  });

  r.post(`${base}/batch/read`, (req, res) => {
    const { portal } = auth(res);
    const type = objectTypeParam(String(req.params.objectType));
    const inputs = Array.isArray(body(req).inputs) ? (body(req).inputs as Array<{ name?: string }>) : [];
    const startedAt = new Date().toISOString();
    const results = [];
    const missing: string[] = [];
    for (const i of inputs) {
      const def = portal.property(type, String(i?.name));
      if (def) results.push(propertyJson(portal, def));
      else missing.push(String(i?.name));
    }
    const out: Record<string, unknown> = { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() };
    if (missing.length) {
      Object.assign(out, { numErrors: 1, errors: [{ status: 'error', category: 'OBJECT_NOT_FOUND', message: 'Some properties were not found', context: { names: missing } }] });
    }
    res.status(missing.length ? 207 : 200).json(out);
  });
  r.post(`${base}/batch/create`, (req, res) => {
    const { portal } = auth(res);
    const type = objectTypeParam(String(req.params.objectType));
    const inputs = Array.isArray(body(req).inputs) ? (body(req).inputs as Body[]) : [];
    const startedAt = new Date().toISOString();
    const results = inputs.map((i) => createProperty(portal, type, i ?? {}));
    res.status(201).json({ status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() });
  });
  r.post(`${base}/batch/archive`, (req, res) => {
    const { portal } = auth(res);
    const type = objectTypeParam(String(req.params.objectType));
    for (const i of (body(req).inputs as Array<{ name?: string }>) ?? []) {
      const def = portal.property(type, String(i?.name));
      if (def && !def.hubspotDefined) Object.assign(def, { archived: true, archivedAt: new Date().toISOString() });
    }
    res.status(204).end();
  });

  r.get(base, (req, res) => {
    const { portal } = auth(res);
    const type = objectTypeParam(String(req.params.objectType));
    const archived = req.query.archived === 'true';
    const results = [...portal.properties[type].values()].filter((d) => d.archived === archived).map((d) => propertyJson(portal, d));
    res.json({ results });
  });
  r.post(base, (req, res) => {
    const { portal } = auth(res);
    res.status(201).json(createProperty(portal, objectTypeParam(String(req.params.objectType)), body(req)));
  });
  r.get(`${base}/:propertyName`, (req, res) => {
    const { portal } = auth(res);
    const type = objectTypeParam(String(req.params.objectType));
    const name = String(req.params.propertyName);
    const def = req.query.archived === 'true' ? portal.properties[type].get(name) : portal.property(type, name);
    if (!def) throw notFound(`Unable to find property ${name} for object type ${type}`);
    res.json(propertyJson(portal, def));
  });
  r.patch(`${base}/:propertyName`, (req, res) => {
    const { portal } = auth(res);
    const type = objectTypeParam(String(req.params.objectType));
    const def = mustGet(portal, type, String(req.params.propertyName));
    const b = body(req);
    const nextType = (b.type ?? def.type) as PropertyType;
    const nextField = (b.fieldType ?? def.fieldType) as FieldType;
    if ((b.type !== undefined && b.type !== def.type) || (b.fieldType !== undefined && b.fieldType !== def.fieldType)) {
      if (def.modificationMetadata.readOnlyDefinition) {
        throw validationError(`The type of HubSpot-defined property ${def.name} cannot be changed`, { subCategory: 'READ_ONLY_DEFINITION' });
      }
      checkTypes(nextType, nextField);
    }
    if (b.groupName !== undefined && !portal.groups[type].has(String(b.groupName))) throw validationError(`Property group ${b.groupName} does not exist`);
    if (b.options !== undefined) {
      if (def.modificationMetadata.readOnlyOptions || def.externalOptions) {
        throw validationError(`The options of property ${def.name} cannot be changed`, { subCategory: 'READ_ONLY_OPTIONS' });
      }
      def.options = parseOptions(b.options); // replaces the whole list, as HubSpot does
    }
    def.type = nextType;
    def.fieldType = nextField;
    if (typeof b.label === 'string') def.label = b.label;
    if (typeof b.description === 'string') def.description = b.description;
    if (typeof b.groupName === 'string') def.groupName = b.groupName;
    if (typeof b.displayOrder === 'number') def.displayOrder = b.displayOrder;
    if (typeof b.hidden === 'boolean') def.hidden = b.hidden;
    if (typeof b.formField === 'boolean') def.formField = b.formField;
    def.updatedAt = new Date().toISOString();
    res.json(propertyJson(portal, def));
  });
  r.delete(`${base}/:propertyName`, (req, res) => {
    const { portal } = auth(res);
    const type = objectTypeParam(String(req.params.objectType));
    const def = mustGet(portal, type, String(req.params.propertyName));
    if (!def.modificationMetadata.archivable) {
      throw validationError(`HubSpot-defined property ${def.name} cannot be archived`, { subCategory: 'READ_ONLY_DEFINITION' });
    }
    def.archived = true;
    def.archivedAt = new Date().toISOString();
    res.status(204).end();
  });
  return r;
}
