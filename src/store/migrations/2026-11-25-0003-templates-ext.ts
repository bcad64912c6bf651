/**
 * Templates synced from the platform (A12), their ext defaults, merchants' ext overrides, and the history of
 * every change to either. FROZEN: once released, never edit this file; add a new dated migration instead.
 * It imports nothing from the app, so later changes to `schema.ts` cannot change what it does.
 */
import { PostgresAdapter, sql, type Kysely, type RawBuilder } from 'kysely';

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/** Keys we order by compare bytewise on both dialects (PostgreSQL would otherwise use the locale's order). */
function keyType(db: Kysely<unknown>): RawBuilder<unknown> {
  return isPostgres(db) ? sql`text collate "C"` : sql`text`;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  const key = keyType(db);

  await db.schema
    .createTable('templates')
    .addColumn('template_id', 'bigint', (c) => c.primaryKey())
    .addColumn('user_version', 'text', (c) => c.notNull())
    .addColumn('user_desc', 'text', (c) => c.notNull())
    // The platform's creation time.
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('synced_at', 'bigint', (c) => c.notNull())
    // Set when a sync no longer finds the template on the platform; cleared if it comes back.
    .addColumn('removed_at', 'bigint')
    .execute();

  // One defaults document per template.
  await db.schema
    .createTable('template_ext')
    .addColumn('template_id', 'bigint', (c) => c.primaryKey())
    .addColumn('ext_json', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_by', 'text')
    .execute();

  // One overrides document per merchant and template.
  await db.schema
    .createTable('merchant_ext')
    .addColumn('app_id', key, (c) => c.notNull())
    .addColumn('template_id', 'bigint', (c) => c.notNull())
    .addColumn('overrides_json', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_by', 'text')
    .addPrimaryKeyConstraint('merchant_ext_pk', ['app_id', 'template_id'])
    .execute();

  // Every version of every document. app_id '' is the template's defaults. The key makes a second writer of
  // the same version fail even if it got past the version check.
  await db.schema
    .createTable('ext_history')
    .addColumn('template_id', 'bigint', (c) => c.notNull())
    .addColumn('app_id', key, (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('document_json', 'text', (c) => c.notNull())
    .addColumn('actor_key_id', 'text')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('ext_history_pk', ['template_id', 'app_id', 'version'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['ext_history', 'merchant_ext', 'template_ext', 'templates']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
