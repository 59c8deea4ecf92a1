import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM for secrets at rest. A ciphertext names the key it was made with, so keys can rotate: new writes
 * use the current key, reads accept any key still in the keyring, and `needsReencryption` finds rows to rewrite.
 *
 * Format: `v1:<keyId>:<iv b64url>:<tag b64url>:<ciphertext b64url>` — text, so it fits a TEXT column in both
 * SQLite and PostgreSQL and survives JSON/log tooling; the version lets the format change later.
 */

const FORMAT = 'v1';
const IV_BYTES = 12; // GCM's native nonce size; random per message, far from the 2^32 messages-per-key limit
const TAG_BYTES = 16;

export interface KeyringKey {
  id: string;
  key: Buffer;
}

export type DecryptionErrorCode = 'malformed' | 'unknown-key' | 'tampered';

export class DecryptionError extends Error {
  readonly code: DecryptionErrorCode;
  constructor(code: DecryptionErrorCode, message: string) {
    super(message);
    this.name = 'DecryptionError';
    this.code = code;
  }
}

export class Keyring {
  readonly currentKeyId: string;
  private readonly keys = new Map<string, Buffer>();

  constructor(current: KeyringKey, old: KeyringKey[] = []) {
    for (const k of [current, ...old]) {
      if (k.key.length !== 32) throw new Error(`encryption key "${k.id}" must be 32 bytes, got ${k.key.length}`);
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(k.id)) throw new Error(`encryption key id "${k.id}" must be 1-32 of [A-Za-z0-9_-]`);
      if (this.keys.has(k.id)) throw new Error(`encryption key id "${k.id}" is given twice`);
      this.keys.set(k.id, k.key);
    }
    this.currentKeyId = current.id;
  }

  knows(keyId: string): boolean {
    return this.keys.has(keyId);
  }

  /** `aad` binds the ciphertext to its context (e.g. tenant + secret name): moved to another row, it fails to open. */
  encrypt(plaintext: string, aad = ''): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentKeyId)!, iv, { authTagLength: TAG_BYTES });
    // The key id is authenticated too, so a ciphertext cannot be relabelled to another key.
    cipher.setAAD(Buffer.from(`${FORMAT}:${this.currentKeyId}:${aad}`, 'utf8'));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [FORMAT, this.currentKeyId, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join(':');
  }

  decrypt(token: string, aad = ''): string {
    const parts = token.split(':');
    if (parts.length !== 5 || parts[0] !== FORMAT) {
      throw new DecryptionError('malformed', `not an encrypted value of format ${FORMAT} (expected ${FORMAT}:<keyId>:<iv>:<tag>:<data>)`);
    }
    const [, keyId, ivText, tagText, dataText] = parts;
    const key = this.keys.get(keyId);
    if (!key) {
      throw new DecryptionError(
        'unknown-key',
        `value was encrypted with key id "${keyId}", which is not configured; add it to ENCRYPTION_OLD_KEYS as ${keyId}:<base64 key>`,
      );
    }
    const iv = Buffer.from(ivText, 'base64url');
    const tag = Buffer.from(tagText, 'base64url');
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new DecryptionError('malformed', 'encrypted value has a bad iv or tag length');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(`${FORMAT}:${keyId}:${aad}`, 'utf8'));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(Buffer.from(dataText, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      // GCM cannot tell a wrong key from altered data or a different context; say all three.
      throw new DecryptionError('tampered', `encrypted value failed authentication (altered data, wrong key material for id "${keyId}", or used outside its record)`);
    }
  }

  /** Key id of a ciphertext, without decrypting it; undefined when it is not in our format. */
  static keyIdOf(token: string): string | undefined {
    const parts = token.split(':');
    return parts.length === 5 && parts[0] === FORMAT ? parts[1] : undefined;
  }

  needsReencryption(token: string): boolean {
    return Keyring.keyIdOf(token) !== this.currentKeyId;
  }
}

export function generateKey(): Buffer {
  return randomBytes(32);
}
