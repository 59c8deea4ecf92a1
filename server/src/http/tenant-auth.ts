import { randomBytes } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Store } from '../store/index.ts';
import type { Tenant } from '../store/repositories/tenants.ts';
import { constantTimeEqual } from '../security/constant-time.ts';
import { SECRET_NAMES } from '../tenants/settings.ts';
import { HttpError } from './errors.ts';

/** Compared against when the tenant has no key, so "no such tenant" takes as long as "wrong key". */
const DUMMY = randomBytes(32).toString('base64url');

/**
 * `Authorization: Bearer <tenant API key>` for /api/tenants/:id/… The key is checked against the tenant named
 * in the path only, so one tenant's key can never read another's data. An unknown tenant and a wrong key get
 * the same 403, so the API does not tell strangers which tenant ids exist.
 */
export function requireTenantKey(store: Store): RequestHandler {
  return async (req, res, next) => {
    const header = req.get('authorization') ?? '';
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) {
      throw new HttpError(401, 'unauthorized', 'Send the tenant\'s API key as "Authorization: Bearer <key>".', { 'www-authenticate': 'Bearer realm="hubspot-dynamics-sync"' });
    }
    const tenantId = String(req.params.id);
    const tenant = await store.tenants.get(tenantId);
    const expected = tenant ? await store.secrets.get(tenant.id, SECRET_NAMES.apiKey) : undefined;
    const ok = constantTimeEqual(expected ?? DUMMY, m[1]) && tenant !== undefined && expected !== undefined;
    if (!ok) throw new HttpError(403, 'forbidden', `This API key does not grant access to tenant ${tenantId}.`);
    res.locals.tenant = tenant satisfies Tenant;
    next();
  };
}
