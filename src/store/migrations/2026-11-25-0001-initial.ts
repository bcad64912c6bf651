/**
 * The initial schema. FROZEN: once released, never edit this file; add a new dated migration instead.
 * It imports nothing from the app, so later changes to `schema.ts` cannot change what it does.
 */
import { PostgresAdapter, sql, type Kysely, type RawBuilder } from 'kysely';

/** Keys we order by compare bytewise on both dialects (PostgreSQL would otherwise use the locale's order). */
function keyType(db: Kysely<unknown>): RawBuilder<unknown> {
  return db.getExecutor().adapter instanceof PostgresAdapter ? sql`text collate "C"` : sql`text`;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  const key = keyType(db);

  await db.schema
    .createTable('credentials')
    .addColumn('key', key, (c) => c.primaryKey())
    .addColumn('value_hash', 'text', (c) => c.notNull())
    .addColumn('value_enc', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('refresh_enc', 'text')
    .addColumn('refresh_expires_at', 'bigint')
    .addColumn('meta_json', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('leases')
    .addColumn('key', key, (c) => c.primaryKey())
    .addColumn('owner', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('merchants')
    .addColumn('app_id', key, (c) => c.primaryKey())
    .addColumn('name', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('permissions_json', 'text', (c) => c.notNull())
    .addColumn('authorized_at', 'bigint', (c) => c.notNull())
    .addColumn('revoked_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('last_audit_json', 'text')
    .execute();
  await db.schema.createIndex('merchants_status_app_id').on('merchants').columns(['status', 'app_id']).execute();

  await db.schema
    .createTable('merchant_capabilities')
    .addColumn('app_id', key, (c) => c.notNull())
    .addColumn('capability', key, (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('merchant_capabilities_pk', ['app_id', 'capability'])
    .execute();

  await db.schema
    .createTable('push_events')
    .addColumn('msg_id', key, (c) => c.primaryKey())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('app_id', 'text')
    .addColumn('received_at', 'bigint', (c) => c.notNull())
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('summary_json', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('push_events_received_at').on('push_events').columns(['received_at', 'msg_id']).execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('actor_key_id', key)
    .addColumn('actor_role', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('app_id', key)
    .addColumn('summary_json', 'text', (c) => c.notNull())
    .addColumn('result', 'text', (c) => c.notNull())
    .addColumn('error_code', 'text')
    .execute();
  await db.schema.createIndex('audit_log_app_id_id').on('audit_log').columns(['app_id', 'id']).execute();
  await db.schema.createIndex('audit_log_actor_key_id_id').on('audit_log').columns(['actor_key_id', 'id']).execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .execute();

  await db.schema
    .createTable('versions_cache')
    .addColumn('app_id', key, (c) => c.primaryKey())
    .addColumn('versions_json', 'text', (c) => c.notNull())
    .addColumn('fetched_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['versions_cache', 'api_keys', 'audit_log', 'push_events', 'merchant_capabilities', 'merchants', 'leases', 'credentials']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
