import type { Kysely, Selectable } from 'kysely';
import type { LastAudit, Merchant, MerchantStatus, Page } from '../fleet/model.ts';
import type { MerchantListQuery, MerchantRepository } from '../fleet/ports.ts';
import { containsIgnoringCase, decodeKeyCursor, toPage } from './paging.ts';
import type { MerchantsTable, Schema } from './schema.ts';

export class SqlMerchantRepository implements MerchantRepository {
  constructor(
    private readonly db: Kysely<Schema>,
    private readonly now: () => number = Date.now,
  ) {}

  /** A re-authorization clears the revocation and takes `at` as the new authorization time. */
  async upsertAuthorized(appId: string, permissions: number[], at: number): Promise<Merchant> {
    const row = await this.db
      .insertInto('merchants')
      .values({
        app_id: appId,
        name: null,
        status: 'authorized',
        permissions_json: JSON.stringify(permissions),
        authorized_at: at,
        revoked_at: null,
        created_at: at,
        updated_at: at,
        last_audit_json: null,
      })
      .onConflict((oc) =>
        oc.column('app_id').doUpdateSet((eb) => ({
          status: 'authorized',
          permissions_json: eb.ref('excluded.permissions_json'),
          authorized_at: eb.ref('excluded.authorized_at'),
          revoked_at: null,
          updated_at: eb.ref('excluded.updated_at'),
        })),
      )
      .returningAll()
      .executeTakeFirstOrThrow();
    return toMerchant(row);
  }

  /** Keeps the first revocation time when the merchant is already revoked. */
  async markRevoked(appId: string, at: number): Promise<Merchant | undefined> {
    const row = await this.db
      .updateTable('merchants')
      .set((eb) => ({ status: 'revoked', revoked_at: eb.fn.coalesce('revoked_at', eb.val(at)), updated_at: at }))
      .where('app_id', '=', appId)
      .returningAll()
      .executeTakeFirst();
    return row && toMerchant(row);
  }

  async get(appId: string): Promise<Merchant | undefined> {
    const row = await this.db.selectFrom('merchants').selectAll().where('app_id', '=', appId).executeTakeFirst();
    return row && toMerchant(row);
  }

  async list(query: MerchantListQuery): Promise<Page<Merchant>> {
    let select = this.db.selectFrom('merchants').selectAll().orderBy('app_id').limit(query.limit + 1);
    if (query.status !== undefined) select = select.where('status', '=', query.status);
    const needle = query.q?.trim();
    if (needle) select = select.where((eb) => eb.or([containsIgnoringCase('app_id', needle), containsIgnoringCase('name', needle)]));
    if (query.cursor !== undefined) select = select.where('app_id', '>', decodeKeyCursor(query.cursor));
    return toPage(await select.execute(), query.limit, toMerchant, (row) => [row.app_id]);
  }

  async setLastAudit(appId: string, audit: LastAudit): Promise<void> {
    await this.db
      .updateTable('merchants')
      .set({ last_audit_json: JSON.stringify(audit), updated_at: this.now() })
      .where('app_id', '=', appId)
      .execute();
  }

  async setName(appId: string, name: string | null): Promise<void> {
    await this.db.updateTable('merchants').set({ name, updated_at: this.now() }).where('app_id', '=', appId).execute();
  }

  async authorizedAppIds(): Promise<string[]> {
    const rows = await this.db.selectFrom('merchants').select('app_id').where('status', '=', 'authorized').orderBy('app_id').execute();
    return rows.map((row) => row.app_id);
  }
}

function toMerchant(row: Selectable<MerchantsTable>): Merchant {
  return {
    appId: row.app_id,
    name: row.name,
    status: row.status as MerchantStatus,
    permissions: JSON.parse(row.permissions_json) as number[],
    authorizedAt: row.authorized_at,
    revokedAt: row.revoked_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    lastAudit: row.last_audit_json === null ? null : (JSON.parse(row.last_audit_json) as LastAudit),
  };
}
