import { PostgresAdapter, sql, type Kysely, type RawBuilder, type Selectable } from 'kysely';
import type { LastAudit, Merchant, MerchantStatus, Page } from '../fleet/model.ts';
import type { MerchantFilter, MerchantListQuery, MerchantRepository } from '../fleet/ports.ts';
import { containsIgnoringCase, decodeKeyCursor, decodeTextKeyCursor, decodeTimeKeyCursor, toPage } from './paging.ts';
import type { MerchantsTable, Schema } from './schema.ts';

export class SqlMerchantRepository implements MerchantRepository {
  private readonly postgres: boolean;

  constructor(
    private readonly db: Kysely<Schema>,
    private readonly now: () => number = Date.now,
  ) {
    this.postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  }

  /** A field of the last audit (JSON text): not indexed, a scan over the merchants (see docs/console.md). */
  private lastAuditField(field: 'state' | 'userVersion'): RawBuilder<string | null> {
    return this.postgres
      ? sql<string | null>`(last_audit_json::json ->> ${field})`
      : sql<string | null>`json_extract(last_audit_json, ${`$.${field}`})`;
  }

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

  /**
   * Keyset pages in any of the sorts (ties broken by appId). Only appId order is served by an index; the
   * other sorts and the audit filters read every merchant row (fine at 10,000: see bench/console).
   */
  async list(query: MerchantListQuery): Promise<Page<Merchant>> {
    const sort = query.sort ?? 'appId';
    const desc = query.order === 'desc';
    const direction = desc ? 'desc' : 'asc';
    const after = desc ? sql.raw('<') : sql.raw('>');
    let select = this.filtered(query).selectAll().limit(query.limit + 1);

    if (sort === 'appId') {
      select = select.orderBy('app_id', direction);
      if (query.cursor !== undefined) select = select.where('app_id', desc ? '<' : '>', decodeKeyCursor(query.cursor));
      return toPage(await select.execute(), query.limit, toMerchant, (row) => [row.app_id]);
    }
    if (sort === 'name') {
      const name = sql<string>`coalesce(name, '')`;
      select = select.orderBy(name, direction).orderBy('app_id', direction);
      if (query.cursor !== undefined) {
        const [value, key] = decodeTextKeyCursor(query.cursor);
        select = select.where(sql<boolean>`(coalesce(name, ''), app_id) ${after} (${value}, ${key})`);
      }
      return toPage(await select.execute(), query.limit, toMerchant, (row) => [row.name ?? '', row.app_id]);
    }
    const column = sort === 'authorizedAt' ? 'authorized_at' : 'updated_at';
    select = select.orderBy(column, direction).orderBy('app_id', direction);
    if (query.cursor !== undefined) {
      const [value, key] = decodeTimeKeyCursor(query.cursor);
      select = select.where(sql<boolean>`(${sql.ref(column)}, app_id) ${after} (${value}, ${key})`);
    }
    return toPage(await select.execute(), query.limit, toMerchant, (row) => [row[column], row.app_id]);
  }

  async count(query: MerchantFilter): Promise<number> {
    const row = await this.filtered(query).select((eb) => eb.fn.countAll<number | string>().as('count')).executeTakeFirstOrThrow();
    return Number(row.count);
  }

  private filtered(query: MerchantFilter) {
    let select = this.db.selectFrom('merchants');
    if (query.status !== undefined) select = select.where('status', '=', query.status);
    const needle = query.q?.trim();
    if (needle) select = select.where((eb) => eb.or([containsIgnoringCase('app_id', needle), containsIgnoringCase('name', needle)]));
    if (query.auditState === 'none') select = select.where('last_audit_json', 'is', null);
    else if (query.auditState !== undefined) select = select.where(this.lastAuditField('state'), '=', query.auditState);
    if (query.auditVersion !== undefined) select = select.where(this.lastAuditField('userVersion'), '=', query.auditVersion);
    return select;
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

  /** One GROUP BY over the (status, app_id) index. */
  async countByStatus(): Promise<Partial<Record<MerchantStatus, number>>> {
    const rows = await this.db.selectFrom('merchants').select((eb) => ['status', eb.fn.countAll<number | string>().as('count')]).groupBy('status').execute();
    return Object.fromEntries(rows.map((row) => [row.status, Number(row.count)]));
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
