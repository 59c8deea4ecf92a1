import express from 'express';
import type { Store } from '../../store/index.ts';
import type { Intake } from '../../intake/accept.ts';
import { DATAVERSE_WEBHOOK_KEY_HEADER, verifyDataverseWebhookKey } from '../../security/webhook-key.ts';
import { SECRET_NAMES } from '../../tenants/settings.ts';
import { HttpError } from '../errors.ts';

/** The header our service endpoints use (authtype HttpHeader); `x-sync-webhook-key` is accepted as well. */
export const DYNAMICS_KEY_HEADER = 'x-hds-key';

export interface DynamicsWebhookDeps {
  store: Store;
  intake: Intake;
  /** Dataverse posts the whole context; it is cut at 256 KB, but leave room for escaping (default 2 MB). */
  limit?: string | number;
}

/**
 * POST /webhooks/dynamics/:tenant — RemoteExecutionContext JSON from the tenant's SDK steps. The tenant's
 * webhook key arrives as a header or `?code=` (authtype WebhookKey) and is compared in constant time.
 */
export function dynamicsWebhookRouter(deps: DynamicsWebhookDeps): express.Router {
  const r = express.Router();
  r.post('/webhooks/dynamics/:tenant', express.raw({ type: () => true, limit: deps.limit ?? '2mb' }), async (req, res) => {
    const tenantId = String(req.params.tenant);
    const tenant = await deps.store.tenants.get(tenantId);
    if (!tenant) throw new HttpError(404, 'unknown_tenant', `No tenant ${tenantId} here; check the service endpoint URL in Dynamics.`);
    const check = verifyDataverseWebhookKey({
      expected: await deps.store.secrets.get(tenant.id, SECRET_NAMES.dynamicsWebhookKey),
      header: req.headers[DYNAMICS_KEY_HEADER] ?? req.headers[DATAVERSE_WEBHOOK_KEY_HEADER],
      code: req.query.code,
    });
    if (!check.ok) throw new HttpError(401, 'invalid_webhook_key', `${check.message}.`);
    const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      throw new HttpError(400, 'malformed_json', 'The request body is not valid JSON (expected a Dataverse RemoteExecutionContext).');
    }
    const result = await deps.intake.acceptDynamicsWebhook(tenant, body, req.get('x-ms-dynamics-entity-name'));
    res.status(200).json(result);
  });
  return r;
}
