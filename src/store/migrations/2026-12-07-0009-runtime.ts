/**
 * The merchant runtime's tables (docs/runtime.md): sessions of merchants' mini-program users (the token's
 * SHA-256 only, the session_key sealed), the users of each merchant (their phone sealed, a masked copy for
 * display), and a record of every subscription message sent on a merchant's behalf.
 * FROZEN: once released, never edit this file; add a new dated migration instead.
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
    .createTable('runtime_sessions')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('app_id', key, (c) => c.notNull())
    .addColumn('open_id', key, (c) => c.notNull())
    .addColumn('session_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('ended_at', 'bigint')
    .addColumn('ended_reason', 'text')
    .execute();
  // A merchant's open sessions (ending them on revocation, counting them); expired ones for pruning.
  await db.schema.createIndex('runtime_sessions_app_ended').on('runtime_sessions').columns(['app_id', 'ended_at']).execute();
  await db.schema.createIndex('runtime_sessions_expires_at').on('runtime_sessions').column('expires_at').execute();

  await db.schema
    .createTable('runtime_users')
    .addColumn('app_id', key, (c) => c.notNull())
    .addColumn('open_id', key, (c) => c.notNull())
    .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('phone', 'text')
    .addColumn('phone_masked', 'text')
    .addColumn('phone_bound_at', 'bigint')
    .addPrimaryKeyConstraint('runtime_users_pk', ['app_id', 'open_id'])
    .execute();

  await db.schema
    .createTable('runtime_messages')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('app_id', key, (c) => c.notNull())
    .addColumn('open_id', key, (c) => c.notNull())
    .addColumn('template_id', 'text', (c) => c.notNull())
    .addColumn('page', 'text')
    .addColumn('sent_at', 'bigint', (c) => c.notNull())
    .addColumn('result', 'text', (c) => c.notNull())
    .addColumn('error_code', 'text')
    .execute();
  await db.schema.createIndex('runtime_messages_app_sent_at').on('runtime_messages').columns(['app_id', 'sent_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['runtime_messages', 'runtime_users', 'runtime_sessions']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
