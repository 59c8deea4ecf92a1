import type { Kysely } from 'kysely';
import type { Database } from '../schema.ts';
import type { Clock } from '../clock.ts';
import { Keyring } from '../../security/encryption.ts';

/**
 * Per-tenant secrets (OAuth tokens, Dynamics client secret, webhook key). Only ciphertext reaches the
 * database; the tenant id and name are bound in as associated data, so a ciphertext copied to another tenant's
 * row does not decrypt there.
 */
export class SecretsRepository {
  constructor(private readonly db: Kysely<Database>, private readonly keyring: Keyring, private readonly clock: Clock) {}

  private aad(tenantId: string, name: string): string {
    return `secret\u0000${tenantId}\u0000${name}`;
  }

  async put(tenantId: string, name: string, plaintext: string): Promise<void> {
    const ciphertext = this.keyring.encrypt(plaintext, this.aad(tenantId, name));
    const row = { ciphertext, key_id: this.keyring.currentKeyId, updated_at: this.clock() };
    await this.db
      .insertInto('secrets')
      .values({ tenant_id: tenantId, name, ...row })
      .onConflict((oc) => oc.columns(['tenant_id', 'name']).doUpdateSet(row))
      .execute();
  }

  /** Decrypted value, or undefined when absent. Throws `DecryptionError` for an unknown key or tampered row. */
  async get(tenantId: string, name: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('secrets')
      .select('ciphertext')
      .where('tenant_id', '=', tenantId)
      .where('name', '=', name)
      .executeTakeFirst();
    return row && this.keyring.decrypt(row.ciphertext, this.aad(tenantId, name));
  }

  async names(tenantId: string): Promise<string[]> {
    const rows = await this.db.selectFrom('secrets').select('name').where('tenant_id', '=', tenantId).orderBy('name').execute();
    return rows.map((r) => r.name);
  }

  async delete(tenantId: string, name: string): Promise<boolean> {
    const r = await this.db.deleteFrom('secrets').where('tenant_id', '=', tenantId).where('name', '=', name).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }

  /**
   * Key rotation: rewrites every secret not under the current key. Run after deploying a new ENCRYPTION_KEY
   * with the old one in ENCRYPTION_OLD_KEYS; once it returns, the old key can be removed.
   */
  async reencryptAll(batchSize = 100): Promise<number> {
    let done = 0;
    for (;;) {
      const rows = await this.db
        .selectFrom('secrets')
        .select(['tenant_id', 'name', 'ciphertext'])
        .where('key_id', '!=', this.keyring.currentKeyId)
        .limit(batchSize)
        .execute();
      if (rows.length === 0) return done;
      for (const r of rows) {
        const plaintext = this.keyring.decrypt(r.ciphertext, this.aad(r.tenant_id, r.name));
        await this.db
          .updateTable('secrets')
          .set({ ciphertext: this.keyring.encrypt(plaintext, this.aad(r.tenant_id, r.name)), key_id: this.keyring.currentKeyId })
          // Only if unchanged since read: a concurrent put() already wrote it under the current key.
          .where('tenant_id', '=', r.tenant_id)
          .where('name', '=', r.name)
          .where('ciphertext', '=', r.ciphertext)
          .execute();
        done++;
      }
    }
  }
}
