import assert from 'node:assert/strict';
import { Signature } from '@hubspot/api-client';
import {
  decodeSignatureUri, signV1, signV3, verifyHubSpotRequest, verifyV1, verifyV2, verifyV3, SIGNATURE_MAX_AGE_MS,
} from '../../../server/src/security/hubspot-signature.ts';

const clientSecret = 'yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy';
const body = '[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]';
const uri = 'https://sync.example.com/webhooks/hubspot?portal=62515';

describe('security: HubSpot signatures', () => {
  const now = Date.now();

  it('v3 matches @hubspot/api-client both ways', () => {
    const ours = signV3({ clientSecret, method: 'POST', uri, body, timestamp: now });
    const theirs = Signature.getSignature('POST', 'v3', { clientSecret, requestBody: body, url: uri, timestamp: now, signature: '' });
    assert.equal(ours, theirs);
    assert.equal(Signature.isValid({ signatureVersion: 'v3', signature: ours, clientSecret, requestBody: body, url: uri, method: 'POST', timestamp: now }), true);
    assert.deepEqual(verifyV3({ clientSecret, method: 'POST', uri, body, signature: theirs, timestamp: String(now), now }), { ok: true, version: 'v3' });
  });

  it('v1 and v2 match @hubspot/api-client and the documented example hash', () => {
    const v1 = Signature.getSignature('POST', 'v1', { clientSecret, requestBody: body, signature: '' });
    assert.equal(v1, '232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de');
    assert.equal(signV1({ clientSecret, body }), v1);
    assert.deepEqual(verifyV1({ clientSecret, body, signature: v1 }), { ok: true, version: 'v1' });
    assert.deepEqual(verifyV1({ clientSecret, body: Buffer.from(body), signature: v1.toUpperCase() }), { ok: true, version: 'v1' });
    const get = Signature.getSignature('GET', 'v2', { clientSecret, requestBody: '', url: 'https://www.example.com/webhook_uri', signature: '' });
    assert.equal(get, 'eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e');
    assert.equal(verifyV2({ clientSecret, method: 'GET', uri: 'https://www.example.com/webhook_uri', body: '', signature: get }).ok, true);
  });

  it('rejects a tampered body, another secret, another method or URL, with reason "mismatch"', () => {
    const signature = signV3({ clientSecret, method: 'POST', uri, body, timestamp: now });
    const base = { clientSecret, method: 'POST', uri, body, signature, timestamp: now, now };
    assert.equal(verifyV3(base).ok, true);
    for (const bad of [{ body: body.replace('123', '124') }, { clientSecret: 'other' }, { method: 'PUT' }, { uri: `${uri}&x=1` }, { signature: signature.slice(0, -2) }]) {
      const r = verifyV3({ ...base, ...bad });
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.reason, 'mismatch');
    }
    const v1 = verifyV1({ clientSecret, body: `${body} `, signature: signV1({ clientSecret, body }) });
    assert.equal(!v1.ok && v1.reason, 'mismatch');
  });

  it('enforces the 5-minute window (stale and far-future), like the api-client', () => {
    const stale = now - SIGNATURE_MAX_AGE_MS - 1;
    const sig = signV3({ clientSecret, method: 'POST', uri, body, timestamp: stale });
    const r = verifyV3({ clientSecret, method: 'POST', uri, body, signature: sig, timestamp: stale, now });
    assert.equal(!r.ok && r.reason, 'stale-timestamp');
    assert.throws(() => Signature.isValid({ signatureVersion: 'v3', signature: sig, clientSecret, requestBody: body, url: uri, method: 'POST', timestamp: stale }), /Timestamp is invalid/);
    const edge = now - SIGNATURE_MAX_AGE_MS;
    assert.equal(verifyV3({ clientSecret, method: 'POST', uri, body, signature: signV3({ clientSecret, method: 'POST', uri, body, timestamp: edge }), timestamp: edge, now }).ok, true);
    const future = now + SIGNATURE_MAX_AGE_MS + 1;
    const f = verifyV3({ clientSecret, method: 'POST', uri, body, signature: signV3({ clientSecret, method: 'POST', uri, body, timestamp: future }), timestamp: future, now });
    assert.equal(!f.ok && f.reason, 'future-timestamp');
  });

  it('reports missing or malformed headers', () => {
    const reason = (r: ReturnType<typeof verifyV3>) => (!r.ok ? r.reason : 'ok');
    assert.equal(reason(verifyV3({ clientSecret, method: 'POST', uri, body, signature: undefined, timestamp: now })), 'missing-signature');
    assert.equal(reason(verifyV3({ clientSecret, method: 'POST', uri, body, signature: 'x', timestamp: undefined })), 'missing-timestamp');
    assert.equal(reason(verifyV3({ clientSecret, method: 'POST', uri, body, signature: 'x', timestamp: '12abc' })), 'bad-timestamp');
  });

  it('decodes exactly the documented escapes before signing', () => {
    assert.equal(
      decodeSignatureUri('https://h/p%3Aq%2Fr%3Fs%40t%21u%24v%27w%28x%29y%2Az%2C%3B?a=%20b%26c%3Dd%2a'),
      "https://h/p:q/r?s@t!u$v'w(x)y*z,;?a=%20b%26c%3Dd*",
    );
    const encoded = 'https://sync.example.com/webhooks/hubspot?email=a%40b.com&next=%2Fcards%3Fid%3D1&q=%20x';
    const decoded = 'https://sync.example.com/webhooks/hubspot?email=a@b.com&next=/cards?id%3D1&q=%20x';
    // HubSpot signs the decoded form; the api-client (no decoding) agrees only when given that form.
    const theirs = Signature.getSignature('POST', 'v3', { clientSecret, requestBody: body, url: decoded, timestamp: now, signature: '' });
    assert.equal(verifyV3({ clientSecret, method: 'POST', uri: encoded, body, signature: theirs, timestamp: now, now }).ok, true);
    assert.equal(verifyV3({ clientSecret, method: 'POST', uri: decoded, body, signature: theirs, timestamp: now, now }).ok, true);
    const raw = Signature.getSignature('POST', 'v3', { clientSecret, requestBody: body, url: encoded, timestamp: now, signature: '' });
    assert.equal(verifyV3({ clientSecret, method: 'POST', uri: encoded, body, signature: raw, timestamp: now, now }).ok, false);
  });

  it('verifyHubSpotRequest: v3 when present (no fallback to legacy), else the legacy version header', () => {
    const v1 = signV1({ clientSecret, body });
    const staleTs = now - SIGNATURE_MAX_AGE_MS - 10;
    const headers = {
      'x-hubspot-signature': v1,
      'x-hubspot-signature-version': 'v1',
      'x-hubspot-signature-v3': signV3({ clientSecret, method: 'POST', uri, body, timestamp: staleTs }),
      'x-hubspot-request-timestamp': String(staleTs),
    };
    const r = verifyHubSpotRequest({ clientSecret, method: 'POST', uri, body, headers, now });
    assert.equal(!r.ok && r.reason, 'stale-timestamp');
    assert.deepEqual(verifyHubSpotRequest({ clientSecret, method: 'POST', uri, body, headers: { 'x-hubspot-signature': v1, 'x-hubspot-signature-version': 'v1' }, now }), { ok: true, version: 'v1' });
    const strict = verifyHubSpotRequest({ clientSecret, method: 'POST', uri, body, headers: { 'x-hubspot-signature': v1 }, now, allowLegacy: false });
    assert.equal(!strict.ok && strict.reason, 'missing-signature');
    const odd = verifyHubSpotRequest({ clientSecret, method: 'POST', uri, body, headers: { 'x-hubspot-signature': v1, 'x-hubspot-signature-version': 'v9' }, now });
    assert.equal(!odd.ok && odd.reason, 'unsupported-version');
  });
});
