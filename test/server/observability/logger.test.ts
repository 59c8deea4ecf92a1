import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, redactUrl } from '../../../server/src/observability/logger.ts';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { lines, log: createLogger({ level: 'debug', destination }) };
}

describe('observability: logger', () => {
  it('redacts authorization headers, tokens, client secrets and keys at any usual depth', () => {
    const { lines, log } = capture();
    log.info({
      req: { method: 'POST', url: '/webhooks/dynamics/t1?code=SECRETCODE&x=1', headers: { authorization: 'Bearer SECRETBEARER', 'x-sync-webhook-key': 'SECRETKEY', 'content-type': 'application/json' } },
      tokens: { access_token: 'SECRETAT', refreshToken: 'SECRETRT' },
      clientSecret: 'SECRETCS',
      dynamics: { client_secret: 'SECRETCS2' },
      error: { code: 'ECONNRESET' },
    }, 'webhook');
    const out = lines.join('');
    assert.doesNotMatch(out, /SECRET/);
    const entry = JSON.parse(out);
    assert.equal(entry.req.url, '/webhooks/dynamics/t1?code=[redacted]&x=1');
    assert.equal(entry.req.headers['content-type'], 'application/json');
    assert.equal(entry.tokens.access_token, '[redacted]');
    assert.equal(entry.error.code, 'ECONNRESET', 'error codes are not secrets');
  });

  it('scrubs code/token query params and connection-string passwords in messages and errors', () => {
    const { lines, log } = capture();
    log.warn('called https://h/oauth/callback?code=SECRET1&state=SECRET2&portal=5');
    log.error({ err: new Error('connect failed for postgres://sync:SECRET3@db:5432/sync') }, 'db down');
    log.info({ query: { code: 'SECRET4' }, url: '/x?access_token=SECRET5' }, 'q');
    const out = lines.join('');
    assert.doesNotMatch(out, /SECRET\d/);
    assert.match(out, /portal=5/);
    assert.match(out, /postgres:\/\/\[redacted\]@db:5432/);
  });

  it('redactUrl keeps non-secret parameters', () => {
    assert.equal(redactUrl('/a?x=1&Code=2&token=3#f'), '/a?x=1&Code=[redacted]&token=[redacted]#f');
    assert.equal(redactUrl('/plain'), '/plain');
  });
});
