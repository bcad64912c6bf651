/**
 * The durable `TokenStore`: credentials encrypted at rest, shared by every instance on the database.
 * Each compare-and-set and each lease grab is ONE statement, so the database decides races: on PostgreSQL
 * by row locks, on SQLite by its single writer.
 */
import type { Kysely } from 'kysely';
import type { StoredCredential, TokenStore } from '../kuaishou/tokens/token-store.ts';
import type { Schema, CredentialsTable } from './schema.ts';
import type { SecretBox } from './secret-box.ts';

export class SqlTokenStore implements TokenStore {
  constructor(
    private readonly db: Kysely<Schema>,
    private readonly box: SecretBox,
    private readonly now: () => number = Date.now,
  ) {}

  async get(key: string): Promise<StoredCredential | undefined> {
    const row = await this.db.selectFrom('credentials').selectAll().where('key', '=', key).executeTakeFirst();
    return row && this.toCredential(row);
  }

  async compareAndSet(key: string, expectedValue: string | undefined, next: StoredCredential | undefined): Promise<boolean> {
    if (expectedValue === undefined) {
      if (next === undefined) {
        // "Delete, only if nothing is stored" succeeds exactly when nothing is stored.
        const row = await this.db.selectFrom('credentials').select('key').where('key', '=', key).executeTakeFirst();
        return row === undefined;
      }
      const inserted = await this.db
        .insertInto('credentials')
        .values(this.toRow(key, next))
        .onConflict((oc) => oc.column('key').doNothing())
        .executeTakeFirst();
      return (inserted.numInsertedOrUpdatedRows ?? 0n) > 0n;
    }
    const expectedHash = this.box.hash(expectedValue);
    if (next === undefined) {
      const deleted = await this.db.deleteFrom('credentials').where('key', '=', key).where('value_hash', '=', expectedHash).executeTakeFirst();
      return deleted.numDeletedRows > 0n;
    }
    const { key: _key, ...columns } = this.toRow(key, next);
    const updated = await this.db
      .updateTable('credentials')
      .set(columns)
      .where('key', '=', key)
      .where('value_hash', '=', expectedHash)
      .executeTakeFirst();
    return updated.numUpdatedRows > 0n;
  }

  async tryAcquireLease(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    const result = await this.db
      .insertInto('leases')
      .values({ key, owner, expires_at: now + ttlMs })
      .onConflict((oc) =>
        oc
          .column('key')
          .doUpdateSet({ owner: (eb) => eb.ref('excluded.owner'), expires_at: (eb) => eb.ref('excluded.expires_at') })
          .where((eb) => eb.or([eb('leases.expires_at', '<=', now), eb('leases.owner', '=', eb.ref('excluded.owner'))])),
      )
      .executeTakeFirst();
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  async releaseLease(key: string, owner: string): Promise<void> {
    await this.db.deleteFrom('leases').where('key', '=', key).where('owner', '=', owner).execute();
  }

  private toRow(key: string, credential: StoredCredential): CredentialsTable {
    return {
      key,
      value_hash: this.box.hash(credential.value),
      value_enc: this.box.seal(credential.value, `${key}#value`),
      expires_at: credential.expiresAt,
      refresh_enc: credential.refreshToken === undefined ? null : this.box.seal(credential.refreshToken, `${key}#refresh`),
      refresh_expires_at: credential.refreshExpiresAt ?? null,
      meta_json: credential.meta === undefined ? null : JSON.stringify(credential.meta),
      updated_at: this.now(),
    };
  }

  private toCredential(row: CredentialsTable): StoredCredential {
    const credential: StoredCredential = { value: this.box.open(row.value_enc, `${row.key}#value`), expiresAt: row.expires_at };
    if (row.refresh_enc !== null) credential.refreshToken = this.box.open(row.refresh_enc, `${row.key}#refresh`);
    if (row.refresh_expires_at !== null) credential.refreshExpiresAt = row.refresh_expires_at;
    if (row.meta_json !== null) credential.meta = JSON.parse(row.meta_json) as Record<string, unknown>;
    return credential;
  }
}
