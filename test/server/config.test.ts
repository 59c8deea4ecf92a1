import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from '../../server/src/config.ts';

const key = () => randomBytes(32).toString('base64');
const problems = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.problems;
  }
  assert.fail('expected a ConfigError');
};

describe('config', () => {
  it('has working defaults for the embedded mode', () => {
    const c = loadConfig({});
    assert.equal(c.port, 3000);
    assert.equal(c.dataDir, './data');
    assert.equal(c.databaseUrl, undefined);
    assert.equal(c.encryption.current, undefined);
    assert.equal(c.logLevel, 'info');
    assert.equal(c.pollIntervalMinutes, 5);
  });

  it('reads a full production environment; blank means unset', () => {
    const k = key();
    const old = key();
    const c = loadConfig({
      PORT: '8080', DATA_DIR: '/var/lib/sync', DATABASE_URL: 'postgresql://u:p@db:5432/sync', ENCRYPTION_KEY: k, ENCRYPTION_KEY_ID: 'k2',
      ENCRYPTION_OLD_KEYS: `k1:${old}`, LOG_LEVEL: 'DEBUG', PUBLIC_URL: 'https://sync.example.com/', HUBSPOT_CLIENT_ID: 'cid',
      HUBSPOT_CLIENT_SECRET: 'cs', HUBSPOT_APP_ID: '123', POLL_INTERVAL_MINUTES: '15', HUBSPOT_UNUSED: '',
      WORKER_CONCURRENCY: '8', JOB_LEASE_SECONDS: '30',
    });
    assert.equal(c.port, 8080);
    assert.equal(c.databaseUrl, 'postgresql://u:p@db:5432/sync');
    assert.deepEqual(c.encryption.current, { id: 'k2', key: Buffer.from(k, 'base64') });
    assert.deepEqual(c.encryption.old, [{ id: 'k1', key: Buffer.from(old, 'base64') }]);
    assert.equal(c.logLevel, 'debug');
    assert.equal(c.publicUrl, 'https://sync.example.com');
    assert.deepEqual(c.hubspot, { clientId: 'cid', clientSecret: 'cs', appId: '123' });
    assert.equal(c.pollIntervalMinutes, 15);
    assert.deepEqual([c.workerConcurrency, c.jobLeaseMs], [8, 30_000]);
    const defaults = loadConfig({ PORT: '', DATABASE_URL: ' ' });
    assert.deepEqual([defaults.port, defaults.workerConcurrency, defaults.jobLeaseMs], [3000, 4, 60_000]);
  });

  it('lists every problem at once, each saying what to set', () => {
    const p = problems({
      PORT: 'abc', DATABASE_URL: 'mysql://root:hunter2@db/sync', LOG_LEVEL: 'loud', PUBLIC_URL: 'ftp://x',
      HUBSPOT_APP_ID: 'app', POLL_INTERVAL_MINUTES: '0', ENCRYPTION_KEY: 'c2hvcnQ=', HUBSPOT_CLIENT_ID: 'only-id',
      WORKER_CONCURRENCY: '100', JOB_LEASE_SECONDS: 'soon',
    });
    const text = p.join('\n');
    assert.match(text, /PORT must be an integer from 0 to 65535, got "abc"/);
    assert.match(text, /DATABASE_URL must be a postgres:\/\/ URL .* got "mysql:\/\/…@db\/sync"/);
    assert.doesNotMatch(text, /hunter2/, 'no password echoed');
    assert.match(text, /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got "loud"/);
    assert.match(text, /PUBLIC_URL must be an http\(s\) URL/);
    assert.match(text, /HUBSPOT_APP_ID must be the numeric app id/);
    assert.match(text, /POLL_INTERVAL_MINUTES must be an integer from 1 to 1440, got "0"/);
    assert.match(text, /ENCRYPTION_KEY must be 32 bytes of base64 .* got 5 bytes/);
    assert.match(text, /HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET must be set together/);
    assert.match(text, /WORKER_CONCURRENCY must be an integer from 1 to 64, got "100"/);
    assert.match(text, /JOB_LEASE_SECONDS must be an integer from 1 to 3600, got "soon"/);
    assert.equal(p.length, 10);
    assert.throws(() => loadConfig({ PORT: 'x' }), /Invalid configuration:\n {2}- PORT must be/);
  });

  it('key rules: PostgreSQL needs ENCRYPTION_KEY; old keys are id:base64 with distinct ids', () => {
    assert.match(problems({ DATABASE_URL: 'postgres://db/sync' }).join(), /ENCRYPTION_KEY is required with DATABASE_URL/);
    assert.match(problems({ ENCRYPTION_KEY_ID: 'k2' }).join(), /ENCRYPTION_KEY_ID is set but ENCRYPTION_KEY is not/);
    assert.match(problems({ ENCRYPTION_KEY: key(), ENCRYPTION_OLD_KEYS: 'nocolon' }).join(), /comma-separated list of <keyId>:<base64 key>/);
    assert.match(problems({ ENCRYPTION_KEY: key(), ENCRYPTION_OLD_KEYS: `k1:${key()}` }).join(), /contains "k1", the id of the current key/);
    assert.match(problems({ ENCRYPTION_KEY: key(), ENCRYPTION_KEY_ID: 'k3', ENCRYPTION_OLD_KEYS: `k1:${key()},k1:${key()}` }).join(), /lists key id "k1" twice/);
    assert.match(problems({ ENCRYPTION_KEY: 'not base64!!' }).join(), /ENCRYPTION_KEY must be base64/);
    assert.equal(loadConfig({ ENCRYPTION_KEY: randomBytes(32).toString('base64url') }).encryption.current?.key.length, 32);
  });
});
