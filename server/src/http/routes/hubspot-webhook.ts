import express, { type Request } from 'express';
import type { Store } from '../../store/index.ts';
import type { Intake } from '../../intake/accept.ts';
import { verifyHubSpotRequest } from '../../security/hubspot-signature.ts';
import { SECRET_NAMES } from '../../tenants/settings.ts';
import { HttpError } from '../errors.ts';

export interface HubSpotWebhookDeps {
  store: Store;
  intake: Intake;
  /** External base URL (PUBLIC_URL): HubSpot signs the URL it called, which a proxy may have rewritten. */
  publicUrl?: string;
  /** The app's client secret (HUBSPOT_CLIENT_SECRET). Without it, the secret stored with the portal's tenant is used. */
  clientSecret?: string;
  /** Body limit (default 1 MB; HubSpot sends at most 100 events per request). */
  limit?: string | number;
}

/** The URL as HubSpot called it: PUBLIC_URL + path when set (behind a proxy), else this request's own. */
export function calledUrl(req: Request, publicUrl: string | undefined): string {
  return publicUrl ? `${publicUrl.replace(/\/+$/, '')}${req.originalUrl}` : `${req.protocol}://${req.get('host')}${req.originalUrl}`;
}

/**
 * POST /webhooks/hubspot — the app's event deliveries. The raw bytes are verified (signature v3 over
 * method + URL + body + timestamp, at most 5 minutes old) BEFORE any parsing, then recorded and queued; the
 * answer comes as soon as the inbox write is durable, because HubSpot times out after 5 s and retries.
 */
export function hubspotWebhookRouter(deps: HubSpotWebhookDeps): express.Router {
  const r = express.Router();

  async function secretFor(raw: Buffer): Promise<string | undefined> {
    if (deps.clientSecret) return deps.clientSecret;
    // No app secret configured: one app per tenant (self-hosted private app). Which tenant is only known from the
    // body, so peek at the first portal id — nothing from the body is used before the signature is checked.
    let portalId: unknown;
    try {
      portalId = (JSON.parse(raw.toString('utf8')) as Array<{ portalId?: unknown }>)[0]?.portalId;
    } catch {
      return undefined;
    }
    const tenant = portalId === undefined ? undefined : await deps.store.tenants.findByPortalId(String(portalId));
    return tenant ? deps.store.secrets.get(tenant.id, SECRET_NAMES.hubspotClientSecret) : undefined;
  }

  r.post('/webhooks/hubspot', express.raw({ type: () => true, limit: deps.limit ?? '1mb' }), async (req, res) => {
    const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const secret = await secretFor(raw);
    if (!secret) throw new HttpError(401, 'invalid_signature', 'Cannot verify the request: no HubSpot client secret is configured for it (set HUBSPOT_CLIENT_SECRET).');
    const check = verifyHubSpotRequest({
      clientSecret: secret, method: req.method, uri: calledUrl(req, deps.publicUrl), body: raw, headers: req.headers, allowLegacy: false,
    });
    if (!check.ok) throw new HttpError(401, 'invalid_signature', `HubSpot signature rejected (${check.reason}): ${check.message}.`);
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new HttpError(400, 'malformed_json', 'The request body is not valid JSON (expected an array of HubSpot webhook events).');
    }
    const result = await deps.intake.acceptHubSpotDelivery(body);
    res.status(200).json(result);
  });
  return r;
}
