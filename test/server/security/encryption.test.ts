import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring, DecryptionError, generateKey } from '../../../server/src/security/encryption.ts';
import { loadKeyring, KEY_FILE_NAME } from '../../../server/src/security/key-file.ts';
import { loadConfig } from '../../../server/src/config.ts';

const k1 = { id: 'k1', key: generateKey() };
const k2 = { id: 'k2', key: generateKey() };
const isCode = (code: string) => (e: unknown) => e instanceof DecryptionError && e.code === code;

describe('security: encryption (AES-256-GCM with key ids)', () => {
  it('round-trips, names its key and uses a fresh IV each time', () => {
    const ring = new Keyring(k1);
    const a = ring.encrypt('client-secret-ü', 'ctx');
    const b = ring.encrypt('client-secret-ü', 'ctx');
    assert.match(a, /^v1:k1:[\w-]{16}:[\w-]{22}:[\w-]+$/);
    assert.notEqual(a, b);
    assert.equal(ring.decrypt(a, 'ctx'), 'client-secret-ü');
    assert.equal(Keyring.keyIdOf(a), 'k1');
  });

  it('rotation: a new current key still reads values made under an old key', () => {
    const old = new Keyring(k1).encrypt('s');
    const rotated = new Keyring(k2, [k1]);
    assert.equal(rotated.decrypt(old), 's');
    assert.equal(rotated.needsReencryption(old), true);
    assert.equal(rotated.needsReencryption(rotated.encrypt('s')), false);
  });

  it('unknown key id: says which id and how to supply it', () => {
    const token = new Keyring(k1).encrypt('s');
    assert.throws(() => new Keyring(k2).decrypt(token), (e: unknown) => isCode('unknown-key')(e) && /"k1".*ENCRYPTION_OLD_KEYS/.test((e as Error).message));
  });

  it('tampered data, tag, key id relabel, wrong context or wrong key material all fail authentication', () => {
    const ring = new Keyring(k1);
    const token = ring.encrypt('secret value', 'tenant-a');
    const parts = token.split(':');
    const flip = (s: string) => {
      const b = Buffer.from(s, 'base64url');
      b[0] ^= 1;
      return b.toString('base64url');
    };
    assert.throws(() => ring.decrypt([...parts.slice(0, 4), flip(parts[4])].join(':'), 'tenant-a'), isCode('tampered'));
    assert.throws(() => ring.decrypt([...parts.slice(0, 3), flip(parts[3]), parts[4]].join(':'), 'tenant-a'), isCode('tampered'));
    assert.throws(() => ring.decrypt(token, 'tenant-b'), isCode('tampered'));
    assert.throws(() => new Keyring({ id: 'k1', key: generateKey() }).decrypt(token, 'tenant-a'), isCode('tampered'));
    const both = new Keyring(k1, [{ id: 'k9', key: k1.key }]);
    assert.throws(() => both.decrypt(['v1', 'k9', ...parts.slice(2)].join(':'), 'tenant-a'), isCode('tampered'));
    assert.throws(() => ring.decrypt('plain text'), isCode('malformed'));
    assert.throws(() => ring.decrypt('v1:k1:AA:AA:AA'), isCode('malformed'));
  });

  it('rejects bad keys up front', () => {
    assert.throws(() => new Keyring({ id: 'k', key: Buffer.alloc(16) }), /32 bytes/);
    assert.throws(() => new Keyring({ id: 'a:b', key: generateKey() }), /key id/);
    assert.throws(() => new Keyring(k1, [k1]), /twice/);
  });
});

describe('security: key file (embedded mode)', () => {
  it('generates DATA_DIR/encryption-key.json once with mode 0600 and reuses it', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'sync-key-')), 'data');
    try {
      const config = loadConfig({ DATA_DIR: dir });
      const first = loadKeyring(config);
      const path = join(dir, KEY_FILE_NAME);
      assert.equal(statSync(path).mode & 0o777, 0o600);
      const token = first.encrypt('x');
      const second = loadKeyring(config);
      assert.equal(second.decrypt(token), 'x');
      assert.equal(second.currentKeyId, first.currentKeyId);
      assert.equal(JSON.parse(readFileSync(path, 'utf8')).id, first.currentKeyId);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('uses ENCRYPTION_KEY when given (no file)', () => {
    const key = generateKey();
    const ring = loadKeyring(loadConfig({ DATA_DIR: '/nonexistent/never', ENCRYPTION_KEY: key.toString('base64'), ENCRYPTION_KEY_ID: 'prod2' }));
    assert.equal(ring.currentKeyId, 'prod2');
  });
});
