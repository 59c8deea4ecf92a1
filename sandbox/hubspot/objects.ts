import express, { type Request, type Response } from 'express';
import { auth } from './auth.ts';
import { HubSpotError, notFound, validationError } from './errors.ts';
import { categoryOf, HUBSPOT_DEFINED } from './association-types.ts';
import type { Portal } from './store.ts';
import { SINGULAR, type Actor, type CrmRecord, type ObjectType } from './types.ts';
import { intParam, listParam, objectTypeParam, recordJson, withAssociations } from './views.ts';

/** CRM v3 objects (contacts, companies, deals): single-record CRUD, list paging and the batch endpoints. */

export const BATCH_LIMIT = 100;

type Body = Record<string, unknown>;
const bodyOf = (req: Request): Body => {
  const b = req.body;
  if (b === undefined || b === null) return {};
  if (typeof b !== 'object' || Array.isArray(b)) throw validationError('Invalid input JSON: expected an object');
  return b as Body;
};

function inputsOf(body: Body): Body[] {
  const inputs = body.inputs;
  if (!Array.isArray(inputs)) throw validationError('Invalid input JSON: inputs must be an array', { context: { inputs: ['required'] } });
  if (inputs.length > BATCH_LIMIT) {
    throw validationError(`inputs: size must be between 0 and ${BATCH_LIMIT}, got ${inputs.length}`, {
      context: { inputs: [`size must be between 0 and ${BATCH_LIMIT}`] },
    });
  }
  return inputs.map((i) => (i && typeof i === 'object' && !Array.isArray(i) ? (i as Body) : {}));
}

interface AssociationInput {
  toType: ObjectType;
  toId: string;
  typeId: number;
}

/** `associations: [{to:{id}, types:[{associationCategory, associationTypeId}]}]` of a create, checked before writing. */
function parseCreateAssociations(portal: Portal, type: ObjectType, raw: unknown): AssociationInput[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw validationError('associations must be an array');
  const out: AssociationInput[] = [];
  for (const a of raw as Array<{ to?: { id?: unknown }; types?: Array<{ associationCategory?: string; associationTypeId?: number }> }>) {
    const toId = String(a?.to?.id ?? '');
    for (const t of a?.types ?? []) {
      const info = HUBSPOT_DEFINED.get(Number(t.associationTypeId));
      if (!info || info.from !== type || t.associationCategory !== categoryOf(Number(t.associationTypeId))) {
        throw validationError(`${t.associationCategory ?? '?'} ${t.associationTypeId} is not a valid association type from ${SINGULAR[type]}`);
      }
      if (!portal.get(info.to, toId)) throw validationError(`No ${SINGULAR[info.to]} with ID ${toId} exists to associate with.`);
      out.push({ toType: info.to, toId, typeId: Number(t.associationTypeId) });
    }
  }
  return out;
}

function createOne(portal: Portal, type: ObjectType, input: Body, actor: Actor): CrmRecord {
  const values = portal.normalise(type, input.properties);
  const assoc = parseCreateAssociations(portal, type, input.associations);
  const record = portal.create(type, values, actor);
  for (const a of assoc) portal.associate(type, record.id, a.toType, a.toId, a.typeId, actor);
  return record;
}

function batchError(err: unknown, extraContext: Record<string, string[]> = {}) {
  const e = err instanceof HubSpotError ? err : new HubSpotError(500, 'INTERNAL_ERROR', 'internal error');
  return { status: 'error', category: e.category, message: e.message, context: { ...e.extra.context, ...extraContext }, errors: [], links: {} };
}

function batchResponse(res: Response, okStatus: number, results: unknown[], errors: unknown[], startedAt: string): void {
  const body: Record<string, unknown> = { status: 'COMPLETE', results, startedAt, completedAt: new Date().toISOString() };
  if (errors.length) Object.assign(body, { numErrors: errors.length, errors });
  res.status(errors.length ? 207 : okStatus).json(body);
}

function rejectDuplicateIds(inputs: Body[]): void {
  const seen = new Set<string>();
  for (const i of inputs) {
    const id = String(i.id ?? '');
    if (seen.has(id)) throw validationError(`Duplicate IDs found in batch input: [${id}]. IDs must be unique`);
    seen.add(id);
  }
}

export function objectsRouter(): express.Router {
  const r = express.Router();

  r.get('/crm/v3/objects/:objectType', (req, res) => {
    const { portal } = auth(res);
    const type = objectTypeParam(String(req.params.objectType));
    const limit = Math.max(1, intParam(req.query.limit, 'limit', 10, 100));
    const names = listParam(req.query.properties);
    const assoc = listParam(req.query.associations);
    const results = [];
    let next: string | undefined;
    if (req.query.archived === 'true') {
      const all = [...portal.archivedRecords[type].values()];
      const start = intParam(req.query.after, 'after', 0);
      for (const rec of all.slice(start, start + limit)) results.push(recordJson(portal, type, rec, names));
      if (start + limit < all.length) next = String(start + limit);
    } else {
      // `after` is the id to resume at; ids only grow, so a binary search finds the page start.
      const order = portal.order[type];
      const after = req.query.after === undefined ? 0 : Number(req.query.after);
      if (!Number.isFinite(after)) throw validationError(`after must be a cursor returned by a previous page`);
      let lo = 0, hi = order.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (order[mid] < after) lo = mid + 1;
        else hi = mid;
      }
      for (let i = lo; i < order.length; i++) {
        const rec = portal.get(type, String(order[i]));
        if (!rec) continue;
        if (results.length === limit) {
          next = rec.id;
          break;
        }
        results.push(withAssociations(portal, type, recordJson(portal, type, rec, names), assoc));
      }
    }
    res.json(next ? { results, paging: { next: { after: next, link: `?after=${next}` } } } : { results });
  });

  r.post('/crm/v3/objects/:objectType', (req, res) => {
    const { portal, actor } = auth(res);
    const type = objectTypeParam(String(req.params.objectType));
    const record = createOne(portal, type, bodyOf(req), actor);
    res.status(201).json(recordJson(portal, type, record, null));
  });

  r.get('/crm/v3/objects/:objectType/:id', (req, res) => {
    const { portal } = auth(res);
    const type = objectTypeParam(String(req.params.objectType));
    const archived = req.query.archived === 'true';
    const record = archived
      ? portal.archivedRecords[type].get(String(req.params.id))
      : portal.findBy(type, req.query.idProperty as string | undefined, String(req.params.id));
    if (!record) throw notFound();
    const json = recordJson(portal, type, record, listParam(req.query.properties));
    res.json(withAssociations(portal, type, json, listParam(req.query.associations)));
  });

  r.patch('/crm/v3/objects/:objectType/:id', (req, res) => {
    const { portal, actor } = auth(res);
    const type = objectTypeParam(String(req.params.objectType));
    const record = portal.findBy(type, req.query.idProperty as string | undefined, String(req.params.id));
    if (!record) throw notFound();
    const values = portal.normalise(type, bodyOf(req).properties);
    portal.update(type, record, values, actor);
    res.json(recordJson(portal, type, record, null));
  });

  // Archiving an unknown id is not an error in HubSpot (idempotent delete).
  r.delete('/crm/v3/objects/:objectType/:id', (req, res) => {
    const { portal, actor } = auth(res);
    portal.archive(objectTypeParam(String(req.params.objectType)), String(req.params.id), actor);
    res.status(204).end();
  });

  r.post('/crm/v3/objects/:objectType/batch/read', (req, res) => {
    const { portal } = auth(res);
    const type = objectTypeParam(String(req.params.objectType));
    const body = bodyOf(req);
    const inputs = inputsOf(body);
    const startedAt = new Date().toISOString();
    const names = listParam(body.properties);
    const idProperty = typeof body.idProperty === 'string' ? body.idProperty : undefined;
    const results = [];
    const missing: string[] = [];
    for (const input of inputs) {
      const id = String(input.id ?? '');
      const record = req.query.archived === 'true' ? portal.archivedRecords[type].get(id) : portal.findBy(type, idProperty, id);
      if (record) results.push(recordJson(portal, type, record, names));
      else missing.push(id);
    }
    const errors = missing.length
      ? [batchError(new HubSpotError(404, 'OBJECT_NOT_FOUND',
          `Could not get some ${SINGULAR[type].toUpperCase()} objects, they may be deleted or not exist. Check that ids are valid.`), { ids: missing })]
      : [];
    batchResponse(res, 200, results, errors, startedAt);
  });

  /**
   * Batch writes validate every input first and fail the whole batch (as HubSpot does) unless inputs carry
   * `objectWriteTraceId`, which opts into per-input outcomes reported as a 207.
   */
  r.post('/crm/v3/objects/:objectType/batch/create', (req, res) => {
    const { portal, actor } = auth(res);
    const type = objectTypeParam(String(req.params.objectType));
    const inputs = inputsOf(bodyOf(req));
    const startedAt = new Date().toISOString();
    const traced = inputs.some((i) => i.objectWriteTraceId !== undefined);
    const results = [];
    const errors = [];
    if (!traced) {
      // All or nothing: check values, associations and unique clashes (also within the batch) before writing.
      const seen = new Map<string, number>();
      for (const input of inputs) {
        const values = portal.normalise(type, input.properties);
        parseCreateAssociations(portal, type, input.associations);
        portal.checkCreate(type, values);
        const email = values.get('email');
        if (type === 'contacts' && email) {
          if (seen.has(email)) throw validationError(`Duplicate email ${email} in batch input`);
          seen.set(email, 1);
        }
      }
    }
    for (const input of inputs) {
      try {
        results.push(recordJson(portal, type, createOne(portal, type, input, actor), null));
      } catch (err) {
        if (!traced) throw err;
        errors.push(batchError(err, { objectWriteTraceId: [String(input.objectWriteTraceId)] }));
      }
    }
    batchResponse(res, 201, results, errors, startedAt);
  });

  r.post('/crm/v3/objects/:objectType/batch/update', (req, res) => {
    const { portal, actor } = auth(res);
    const type = objectTypeParam(String(req.params.objectType));
    const inputs = inputsOf(bodyOf(req));
    rejectDuplicateIds(inputs);
    const startedAt = new Date().toISOString();
    const traced = inputs.some((i) => i.objectWriteTraceId !== undefined);
    const planned: Array<{ record: CrmRecord; values: Map<string, string> } | { error: unknown; trace?: unknown }> = [];
    for (const input of inputs) {
      try {
        const idProperty = typeof input.idProperty === 'string' ? input.idProperty : undefined;
        const record = portal.findBy(type, idProperty, String(input.id ?? ''));
        if (!record) {
          planned.push({ error: new HubSpotError(404, 'OBJECT_NOT_FOUND', 'resource not found', { context: { ids: [String(input.id)] } }), trace: input.objectWriteTraceId });
          continue;
        }
        const values = portal.normalise(type, input.properties);
        portal.checkUpdate(type, record.id, values);
        planned.push({ record, values });
      } catch (err) {
        if (!traced) throw err;
        planned.push({ error: err, trace: input.objectWriteTraceId });
      }
    }
    const results = [];
    const errors = [];
    for (const p of planned) {
      if ('error' in p) errors.push(batchError(p.error, p.trace === undefined ? {} : { objectWriteTraceId: [String(p.trace)] }));
      else results.push(recordJson(portal, type, portal.update(type, p.record, p.values, actor), null));
    }
    batchResponse(res, 200, results, errors, startedAt);
  });

  r.post('/crm/v3/objects/:objectType/batch/upsert', (req, res) => {
    const { portal, actor } = auth(res);
    const type = objectTypeParam(String(req.params.objectType));
    const inputs = inputsOf(bodyOf(req));
    rejectDuplicateIds(inputs);
    const startedAt = new Date().toISOString();
    const planned: Array<{ record?: CrmRecord; values: Map<string, string> }> = [];
    for (const input of inputs) {
      const idProperty = typeof input.idProperty === 'string' ? input.idProperty : undefined;
      if (!idProperty) throw validationError('idProperty is required for upsert', { context: { idProperty: ['required'] } });
      const id = String(input.id ?? '');
      const record = portal.findBy(type, idProperty, id);
      const values = portal.normalise(type, input.properties);
      if (idProperty !== 'hs_object_id' && !record) {
        // A create keyed by the unique property: the id value becomes that property's value.
        values.set(idProperty, portal.normalise(type, { [idProperty]: id }).get(idProperty) ?? id);
      }
      if (record) portal.checkUpdate(type, record.id, values);
      else if (idProperty === 'hs_object_id') throw notFound();
      planned.push({ record, values });
    }
    const results = planned.map(({ record, values }) => {
      const isNew = !record;
      const saved = record ? portal.update(type, record, values, actor) : portal.create(type, values, actor);
      return { ...recordJson(portal, type, saved, null), new: isNew };
    });
    batchResponse(res, 200, results, [], startedAt);
  });

  r.post('/crm/v3/objects/:objectType/batch/archive', (req, res) => {
    const { portal, actor } = auth(res);
    const type = objectTypeParam(String(req.params.objectType));
    for (const input of inputsOf(bodyOf(req))) portal.archive(type, String(input.id ?? ''), actor);
    res.status(204).end();
  });

  return r;
}
