import express, { type RequestHandler } from 'express';
import { EMBED_API_VERSION, isEmbedEntity, parseEmbedResponse } from '../../../../dynamics-solution/webresource/embed-contract.ts';
import { tenantOfEmbedCredential } from '../../embed/credential.ts';
import { OrgOrigins, originOf } from '../../embed/org-origins.ts';
import { EmbedNotConnectedError, EmbedUpstreamError, RecordViews, type RecordViewDeps } from '../../embed/record-view.ts';
import type { Store } from '../../store/index.ts';
import { HttpError } from '../errors.ts';

export interface EmbedRouteDeps {
  store: Store;
  contexts: RecordViewDeps['contexts'];
  /** Options of the record views (cache lifetime, deadline); tests shorten them. */
  views?: Omit<RecordViewDeps, 'store' | 'contexts'>;
}

const PATH = `/embed/${EMBED_API_VERSION}/records/:entity/:id`;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CHALLENGE = 'Bearer realm="hubspot-dynamics-sync-embed"';

/**
 * GET /embed/v1/records/:entity/:id — the HubSpot tab's read API, exactly as
 * dynamics-solution/webresource/embed-contract.ts says (its parser checks every answer before it leaves,
 * so the two ends cannot drift). The embed credential is the only way in, and it opens nothing else.
 */
export function embedRouter(deps: EmbedRouteDeps): express.Router {
  const origins = new OrgOrigins(deps.store);
  const views = new RecordViews({ store: deps.store, contexts: deps.contexts, ...deps.views });
  const r = express.Router();

  // Decided before anything else, so that the panel can also read a 401/403 and say "no access".
  const cors: RequestHandler = async (req, res, next) => {
    res.vary('Origin');
    const origin = req.get('origin');
    if (origin && (await origins.has(origin))) {
      res.set('Access-Control-Allow-Origin', origin);
      res.locals.corsAllowed = true;
    }
    next();
  };

  r.options(PATH, cors, (req, res) => {
    if (!res.locals.corsAllowed) {
      throw new HttpError(403, 'origin_not_allowed', `${req.get('origin') ?? 'A page without an Origin'} is not the Dynamics organisation of any tenant on this server.`);
    }
    res.set({ 'Access-Control-Allow-Methods': 'GET', 'Access-Control-Allow-Headers': 'Authorization, Accept', 'Access-Control-Max-Age': '600' });
    // A self-hosted server on a private network answers Chrome's Private Network Access preflight too.
    if (req.get('access-control-request-private-network') === 'true') res.set('Access-Control-Allow-Private-Network', 'true');
    res.status(204).end();
  });

  r.get(PATH, cors, async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (!bearer) {
      throw new HttpError(401, 'missing_credential', 'Send the embed credential as "Authorization: Bearer <credential>".', { 'www-authenticate': CHALLENGE });
    }
    const tenant = await tenantOfEmbedCredential(deps.store, bearer[1]);
    if (!tenant) {
      throw new HttpError(401, 'invalid_credential', 'The embed credential is not valid: it was replaced by a newer one, or never issued.', { 'www-authenticate': `${CHALLENGE}, error="invalid_token"` });
    }
    const origin = req.get('origin');
    if (origin && origin !== originOf(tenant.dataverseOrgUrl)) {
      throw new HttpError(403, 'other_organization', `This embed credential belongs to another Dynamics organisation than ${origin}.`);
    }
    const entity = String(req.params.entity);
    if (!isEmbedEntity(entity)) {
      throw new HttpError(403, 'table_not_synced', `${entity} records are not synced with HubSpot; the tab covers leads, contacts, accounts and opportunities.`);
    }
    const id = String(req.params.id).toLowerCase();
    if (!GUID.test(id)) throw new HttpError(400, 'invalid_id', `The record id must be a GUID without braces, got ${JSON.stringify(id.slice(0, 60))}.`);
    try {
      res.json(parseEmbedResponse(await views.view(tenant, entity, id)));
    } catch (err) {
      if (err instanceof EmbedUpstreamError) throw new HttpError(err.timeout ? 504 : 502, err.timeout ? 'upstream_timeout' : 'upstream_error', err.message);
      if (err instanceof EmbedNotConnectedError) throw new HttpError(503, 'not_connected', `The sync server cannot reach this tenant's systems: ${err.message}`);
      throw err;
    }
  });

  return r;
}
