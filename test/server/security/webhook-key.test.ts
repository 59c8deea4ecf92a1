import assert from 'node:assert/strict';
import { generateWebhookKey, verifyDataverseWebhookKey } from '../../../server/src/security/webhook-key.ts';
import { constantTimeEqual } from '../../../server/src/security/constant-time.ts';

describe('security: Dataverse webhook key', () => {
  const expected = generateWebhookKey();

  it('generates URL-safe 256-bit keys', () => {
    assert.match(expected, /^[\w-]{43}$/);
    assert.notEqual(generateWebhookKey(), expected);
  });

  it('accepts the key by header or by ?code=', () => {
    assert.deepEqual(verifyDataverseWebhookKey({ expected, header: expected }), { ok: true, via: 'header' });
    assert.deepEqual(verifyDataverseWebhookKey({ expected, code: expected }), { ok: true, via: 'code' });
    assert.deepEqual(verifyDataverseWebhookKey({ expected, header: [expected] }), { ok: true, via: 'header' });
  });

  it('rejects wrong, missing, array-valued code, and tenants without a key', () => {
    const reason = (r: ReturnType<typeof verifyDataverseWebhookKey>) => (r.ok ? 'ok' : r.reason);
    assert.equal(reason(verifyDataverseWebhookKey({ expected, code: `${expected}x` })), 'mismatch');
    assert.equal(reason(verifyDataverseWebhookKey({ expected, header: expected.slice(1) })), 'mismatch');
    assert.equal(reason(verifyDataverseWebhookKey({ expected })), 'missing-key');
    assert.equal(reason(verifyDataverseWebhookKey({ expected, code: [expected, expected] })), 'missing-key');
    assert.equal(reason(verifyDataverseWebhookKey({ expected: undefined, code: 'anything' })), 'no-key-configured');
    assert.equal(reason(verifyDataverseWebhookKey({ expected: '', code: '' })), 'no-key-configured');
  });

  it('constantTimeEqual handles different lengths without throwing', () => {
    assert.equal(constantTimeEqual('a', 'a'), true);
    assert.equal(constantTimeEqual('a', 'ab'), false);
    assert.equal(constantTimeEqual(Buffer.from('x'), 'x'), true);
  });
});
