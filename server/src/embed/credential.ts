import { randomBytes } from 'node:crypto';
import type { Store } from '../store/index.ts';
import type { Tenant } from '../store/repositories/tenants.ts';
import { constantTimeEqual } from '../security/constant-time.ts';
import { SECRET_NAMES } from '../tenants/settings.ts';

/**
 * The embed credential: the HubSpot tab's bearer token. It sits in a web resource of the org, so every
 * Dynamics user who can open a form can read it; what it grants is therefore kept small — reading the embed
 * view of this one tenant's records, nothing else (the admin API and webhooks never accept it).
 *
 * Format `hdse_<tenant id, base64url>.<32 random bytes, base64url>`: the tenant is found without trying every
 * tenant's credential, and the whole string is then compared in constant time with the tenant's stored
 * (encrypted) credential, so a forged tenant part gains nothing. Rotating replaces it: the old one stops at once.
 */

const PREFIX = 'hdse_';
const SHAPE = /^hdse_([A-Za-z0-9_-]{1,400})\.[A-Za-z0-9_-]{43}$/;

/** Compared against when the named tenant has none, so "no such tenant" takes as long as "wrong credential". */
const DUMMY = `${PREFIX}${randomBytes(8).toString('base64url')}.${randomBytes(32).toString('base64url')}`;

export function generateEmbedCredential(tenantId: string): string {
  return `${PREFIX}${Buffer.from(tenantId, 'utf8').toString('base64url')}.${randomBytes(32).toString('base64url')}`;
}

/** Issues (or rotates) the tenant's credential; the caller shows it once. */
export async function issueEmbedCredential(store: Store, tenantId: string): Promise<string> {
  const credential = generateEmbedCredential(tenantId);
  await store.secrets.put(tenantId, SECRET_NAMES.embedCredential, credential);
  return credential;
}

/** The tenant this credential belongs to, or undefined (malformed, unknown tenant, rotated or never issued). */
export async function tenantOfEmbedCredential(store: Store, credential: string): Promise<Tenant | undefined> {
  const m = SHAPE.exec(credential);
  const tenantId = m ? Buffer.from(m[1], 'base64url').toString('utf8') : undefined;
  const tenant = tenantId ? await store.tenants.get(tenantId) : undefined;
  const expected = tenant ? await store.secrets.get(tenant.id, SECRET_NAMES.embedCredential) : undefined;
  const same = constantTimeEqual(expected ?? DUMMY, credential);
  return same && expected !== undefined ? tenant : undefined;
}
