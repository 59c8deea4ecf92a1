import express from 'express';
import { auth } from './auth.ts';
import { notFound } from './errors.ts';
import { intParam } from './views.ts';

/** Owners (`/crm/v3/owners`, also with the trailing slash the api-client sends): email filter and id paging. */
export function ownersRouter(): express.Router {
  const r = express.Router();
  r.get(['/crm/v3/owners', '/crm/v3/owners/'], (req, res) => {
    const { portal } = auth(res);
    const limit = Math.max(1, intParam(req.query.limit, 'limit', 100, 500));
    const email = typeof req.query.email === 'string' ? req.query.email.toLowerCase() : undefined;
    const archived = req.query.archived === 'true';
    const after = req.query.after === undefined ? 0 : Number(req.query.after);
    const all = [...portal.owners.values()].filter(
      (o) => o.archived === archived && (!email || o.email.toLowerCase() === email) && Number(o.id) >= after,
    );
    const results = all.slice(0, limit);
    const next = all[limit];
    res.json(next ? { results, paging: { next: { after: next.id, link: `?after=${next.id}` } } } : { results });
  });
  r.get('/crm/v3/owners/:ownerId', (req, res) => {
    const { portal } = auth(res);
    const id = String(req.params.ownerId);
    const owner = req.query.idProperty === 'userId'
      ? [...portal.owners.values()].find((o) => String(o.userId) === id)
      : portal.owners.get(id);
    if (!owner || owner.archived !== (req.query.archived === 'true')) throw notFound(`Owner ${id} not found`);
    res.json(owner);
  });
  return r;
}
