import express, { type Request } from 'express';
import { auth } from './auth.ts';
import { validationError } from './errors.ts';
import { categoryOf, HUBSPOT_DEFINED, labelOf } from './association-types.ts';
import { BATCH_LIMIT } from './objects.ts';
import type { Portal } from './store.ts';
import { TYPE_ID, type Actor, type ObjectType } from './types.ts';
import { intParam, objectTypeParam } from './views.ts';

/** Associations v4: default and labelled associations, per-record and batch. */

const ASSOC_PAGE_MAX = 500;

function requireRecord(portal: Portal, type: ObjectType, id: string): void {
  if (!portal.get(type, id)) throw validationError(`${type} ${id} does not exist`, { subCategory: 'crm.associations.INVALID_OBJECT_IDS' });
}

function parseTypes(raw: unknown, from: ObjectType, to: ObjectType): number[] {
  if (!Array.isArray(raw) || raw.length === 0) throw validationError('A non-empty array of association types is required');
  return raw.map((t: { associationCategory?: string; associationTypeId?: unknown }) => {
    const typeId = Number(t?.associationTypeId);
    const info = HUBSPOT_DEFINED.get(typeId);
    const category = t?.associationCategory;
    if (!Number.isInteger(typeId) || (category !== 'HUBSPOT_DEFINED' && category !== 'USER_DEFINED' && category !== 'INTEGRATOR_DEFINED')) {
      throw validationError(`Invalid association type ${JSON.stringify(t)}`);
    }
    if (info && (category !== 'HUBSPOT_DEFINED' || info.from !== from || info.to !== to)) {
      throw validationError(`${category} ${typeId} is not a valid association type from ${from} to ${to}`, { subCategory: 'crm.associations.INVALID_ASSOCIATION_TYPE' });
    }
    if (!info && category === 'HUBSPOT_DEFINED') throw validationError(`HUBSPOT_DEFINED ${typeId} does not exist`);
    return typeId;
  });
}

const spec = (typeId: number) => ({ associationCategory: categoryOf(typeId), associationTypeId: typeId });
const labelled = (typeIds: Iterable<number>) =>
  [...typeIds].map((typeId) => ({ category: categoryOf(typeId), typeId, label: labelOf(typeId) }));

function pairLabels(portal: Portal, from: ObjectType, fromId: string, to: ObjectType, toId: string) {
  return {
    fromObjectTypeId: TYPE_ID[from], fromObjectId: Number(fromId), toObjectTypeId: TYPE_ID[to], toObjectId: Number(toId),
    labels: portal.associations.types(from, fromId, to, toId).map(labelOf).filter((l): l is string => l !== null),
  };
}

function removeAll(portal: Portal, from: ObjectType, fromId: string, to: ObjectType, toId: string, actor: Actor): void {
  for (const typeId of portal.associations.types(from, fromId, to, toId)) portal.dissociate(from, fromId, to, toId, typeId, actor);
}

function inputsOf(req: Request): Array<Record<string, any>> {
  const inputs = (req.body as { inputs?: unknown })?.inputs;
  if (!Array.isArray(inputs)) throw validationError('inputs must be an array');
  if (inputs.length > BATCH_LIMIT) throw validationError(`inputs: size must be between 0 and ${BATCH_LIMIT}, got ${inputs.length}`);
  return inputs;
}

export function associationsRouter(): express.Router {
  const r = express.Router();
  const single = '/crm/v4/objects/:fromType/:fromId/associations';

  r.put(`${single}/default/:toType/:toId`, (req, res) => {
    const { portal, actor } = auth(res);
    const from = objectTypeParam(String(req.params.fromType));
    const to = objectTypeParam(String(req.params.toType));
    const fromId = String(req.params.fromId);
    const toId = String(req.params.toId);
    requireRecord(portal, from, fromId);
    requireRecord(portal, to, toId);
    const startedAt = new Date().toISOString();
    const typeIds = portal.associateDefault(from, fromId, to, toId, actor);
    const results = typeIds.map((typeId) => ({ from: { id: fromId }, to: { id: toId }, associationSpec: spec(typeId) }));
    res.json({ status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() });
  });

  r.put(`${single}/:toType/:toId`, (req, res) => {
    const { portal, actor } = auth(res);
    const from = objectTypeParam(String(req.params.fromType));
    const to = objectTypeParam(String(req.params.toType));
    const fromId = String(req.params.fromId);
    const toId = String(req.params.toId);
    const typeIds = parseTypes(req.body, from, to);
    requireRecord(portal, from, fromId);
    requireRecord(portal, to, toId);
    for (const typeId of typeIds) portal.associate(from, fromId, to, toId, typeId, actor);
    res.status(201).json(pairLabels(portal, from, fromId, to, toId));
  });

  r.delete(`${single}/:toType/:toId`, (req, res) => {
    const { portal, actor } = auth(res);
    removeAll(portal, objectTypeParam(String(req.params.fromType)), String(req.params.fromId),
      objectTypeParam(String(req.params.toType)), String(req.params.toId), actor);
    res.status(204).end();
  });

  r.get(`${single}/:toType`, (req, res) => {
    const { portal } = auth(res);
    const from = objectTypeParam(String(req.params.fromType));
    const to = objectTypeParam(String(req.params.toType));
    const limit = Math.max(1, intParam(req.query.limit, 'limit', ASSOC_PAGE_MAX, ASSOC_PAGE_MAX));
    const offset = intParam(req.query.after, 'after', 0);
    const all = portal.associations.list(from, String(req.params.fromId), to);
    const results = all.slice(offset, offset + limit).map(([toId, types]) => ({ toObjectId: Number(toId), associationTypes: labelled(types) }));
    const next = offset + limit < all.length ? String(offset + limit) : undefined;
    res.json(next ? { results, paging: { next: { after: next, link: '' } } } : { results });
  });

  const batch = '/crm/v4/associations/:fromType/:toType/batch';

  r.post(`${batch}/associate/default`, (req, res) => {
    const { portal, actor } = auth(res);
    const from = objectTypeParam(String(req.params.fromType));
    const to = objectTypeParam(String(req.params.toType));
    const startedAt = new Date().toISOString();
    const results = [];
    const errors = [];
    for (const input of inputsOf(req)) {
      const fromId = String(input?.from?.id ?? '');
      const toId = String(input?.to?.id ?? '');
      if (!portal.get(from, fromId) || !portal.get(to, toId)) {
        errors.push({ status: 'error', category: 'VALIDATION_ERROR', subCategory: 'crm.associations.INVALID_OBJECT_IDS',
          message: `No ${!portal.get(from, fromId) ? `${from} ${fromId}` : `${to} ${toId}`} exists`, context: { fromId: [fromId], toId: [toId] } });
        continue;
      }
      for (const typeId of portal.associateDefault(from, fromId, to, toId, actor)) {
        results.push({ from: { id: fromId }, to: { id: toId }, associationSpec: spec(typeId) });
      }
    }
    const out: Record<string, unknown> = { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() };
    if (errors.length) Object.assign(out, { numErrors: errors.length, errors });
    // The api-client only accepts 200 here; failures are reported in errors[].
    res.status(200).json(out);
  });

  r.post(`${batch}/create`, (req, res) => {
    const { portal, actor } = auth(res);
    const from = objectTypeParam(String(req.params.fromType));
    const to = objectTypeParam(String(req.params.toType));
    const startedAt = new Date().toISOString();
    const results = [];
    const errors = [];
    for (const input of inputsOf(req)) {
      const fromId = String(input?.from?.id ?? '');
      const toId = String(input?.to?.id ?? '');
      const typeIds = parseTypes(input?.types, from, to);
      if (!portal.get(from, fromId) || !portal.get(to, toId)) {
        errors.push({ status: 'error', category: 'VALIDATION_ERROR', subCategory: 'crm.associations.INVALID_OBJECT_IDS',
          message: `Object ids do not exist: ${fromId} -> ${toId}`, context: { fromId: [fromId], toId: [toId] } });
        continue;
      }
      for (const typeId of typeIds) portal.associate(from, fromId, to, toId, typeId, actor);
      results.push(pairLabels(portal, from, fromId, to, toId));
    }
    const out: Record<string, unknown> = { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() };
    if (errors.length) Object.assign(out, { numErrors: errors.length, errors });
    res.status(errors.length ? 207 : 201).json(out);
  });

  r.post(`${batch}/read`, (req, res) => {
    const { portal } = auth(res);
    const from = objectTypeParam(String(req.params.fromType));
    const to = objectTypeParam(String(req.params.toType));
    const startedAt = new Date().toISOString();
    const results = [];
    const missing: string[] = [];
    for (const input of inputsOf(req)) {
      const id = String(input?.id ?? '');
      const offset = input?.after === undefined ? 0 : Number(input.after) || 0;
      const all = portal.associations.list(from, id, to);
      if (!portal.get(from, id) || all.length === 0) {
        missing.push(id);
        continue;
      }
      const page = all.slice(offset, offset + ASSOC_PAGE_MAX);
      const item: Record<string, unknown> = {
        from: { id }, to: page.map(([toId, types]) => ({ toObjectId: Number(toId), associationTypes: labelled(types) })),
      };
      if (offset + ASSOC_PAGE_MAX < all.length) item.paging = { next: { after: String(offset + ASSOC_PAGE_MAX), link: '' } };
      results.push(item);
    }
    const out: Record<string, unknown> = { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() };
    if (missing.length) {
      Object.assign(out, { numErrors: missing.length, errors: missing.map((id) => ({
        status: 'error', category: 'OBJECT_NOT_FOUND', subCategory: 'crm.associations.NO_ASSOCIATIONS_FOUND',
        message: `No ${to} is associated with ${from} ${id}.`, context: { fromObjectId: [id] },
      })) });
    }
    res.status(missing.length ? 207 : 200).json(out);
  });

  r.post(`${batch}/archive`, (req, res) => {
    const { portal, actor } = auth(res);
    const from = objectTypeParam(String(req.params.fromType));
    const to = objectTypeParam(String(req.params.toType));
    for (const input of inputsOf(req)) {
      const fromId = String(input?.from?.id ?? '');
      for (const t of Array.isArray(input?.to) ? input.to : []) removeAll(portal, from, fromId, to, String(t?.id ?? ''), actor);
    }
    res.status(204).end();
  });

  return r;
}
