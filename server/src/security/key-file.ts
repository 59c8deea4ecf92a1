import { mkdirSync, readFileSync, writeFileSync, chmodSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { Keyring, generateKey } from './encryption.ts';

/** File name of the generated key in DATA_DIR (embedded mode only). */
export const KEY_FILE_NAME = 'encryption-key.json';

interface KeyFile {
  id: string;
  key: string;
}

/**
 * Builds the keyring from the config. With no ENCRYPTION_KEY (embedded mode) the key is generated once into
 * DATA_DIR with mode 0600 and read back on every later start, so a demo needs no set-up yet its secrets still
 * survive restarts. Losing that file means losing the stored secrets (tenants must reconnect), so the error
 * messages say so instead of silently making a new key.
 */
export function loadKeyring(config: Config): Keyring {
  if (config.encryption.current) return new Keyring(config.encryption.current, config.encryption.old);
  return new Keyring(readOrCreateKeyFile(config.dataDir), config.encryption.old);
}

function readOrCreateKeyFile(dataDir: string): { id: string; key: Buffer } {
  const path = join(dataDir, KEY_FILE_NAME);
  mkdirSync(dataDir, { recursive: true });
  const fresh: KeyFile = { id: 'local1', key: generateKey().toString('base64') };
  try {
    // 'wx' = create only if absent: two processes starting together cannot both write different keys.
    writeFileSync(path, `${JSON.stringify(fresh)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  // umask may have widened nothing, but an older copy restored from a backup could be world-readable.
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  let parsed: KeyFile;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as KeyFile;
  } catch {
    throw new Error(`${path} is not valid JSON; restore it from a backup, or delete it to generate a new key (stored secrets become unreadable)`);
  }
  const key = Buffer.from(String(parsed.key ?? ''), 'base64');
  if (typeof parsed.id !== 'string' || key.length !== 32) {
    throw new Error(`${path} must hold {"id": "...", "key": "<32 bytes base64>"}; restore it from a backup or set ENCRYPTION_KEY`);
  }
  return { id: parsed.id, key };
}
