import { randomBytes } from 'node:crypto';
import { constantTimeEqual } from './constant-time.ts';

/**
 * Dataverse webhooks (service endpoints) authenticate with a shared secret we generate per tenant. The
 * endpoint's auth type decides where it arrives: WebhookKey sends `?code=<key>`, HttpHeader sends a header
 * (we register it under `DATAVERSE_WEBHOOK_KEY_HEADER`).
 */

export const DATAVERSE_WEBHOOK_KEY_HEADER = 'x-sync-webhook-key';

export type WebhookKeyResult = { ok: true; via: 'header' | 'code' } | { ok: false; reason: 'no-key-configured' | 'missing-key' | 'mismatch'; message: string };

/** 32 random bytes, URL-safe so it can travel as the `code` query parameter unescaped. */
export function generateWebhookKey(): string {
  return randomBytes(32).toString('base64url');
}

export function verifyDataverseWebhookKey(i: { expected: string | undefined; header?: string | string[]; code?: unknown }): WebhookKeyResult {
  if (!i.expected) return { ok: false, reason: 'no-key-configured', message: 'this tenant has no Dataverse webhook key; connect Dynamics first' };
  const header = Array.isArray(i.header) ? i.header[0] : i.header;
  // Express parses `?code=a&code=b` into an array; only a single string is a key.
  const code = typeof i.code === 'string' ? i.code : undefined;
  const given = header || code;
  if (!given) return { ok: false, reason: 'missing-key', message: `webhook key missing: send it as the ${DATAVERSE_WEBHOOK_KEY_HEADER} header or the code query parameter` };
  return constantTimeEqual(i.expected, given)
    ? { ok: true, via: header ? 'header' : 'code' }
    : { ok: false, reason: 'mismatch', message: 'webhook key does not match this tenant' };
}
