/**
 * Release channels, the onboarding policy, per-merchant onboarding records, channel promotions, and the
 * rollout columns onboarding needs (origin, promoteTo, an ext defaults layer).
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
    .createTable('channels')
    .addColumn('name', key, (c) => c.primaryKey())
    .addColumn('template_id', 'bigint', (c) => c.notNull())
    .addColumn('user_version', 'text', (c) => c.notNull())
    .addColumn('user_desc', 'text', (c) => c.notNull())
    .addColumn('ext_defaults_json', 'text')
    .addColumn('domain_policy_json', 'text')
    .addColumn('auto_release', 'integer', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_by', 'text')
    .execute();

  // One row per promoted rollout: the primary key makes a promotion happen once.
  await db.schema
    .createTable('channel_promotions')
    .addColumn('rollout_id', key, (c) => c.primaryKey())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('promoted_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('onboarding_policy')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('auto_release', 'integer')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_by', 'text')
    .execute();

  await db.schema
    .createTable('onboardings')
    .addColumn('app_id', key, (c) => c.primaryKey())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('template_id', 'bigint', (c) => c.notNull())
    .addColumn('user_version', 'text', (c) => c.notNull())
    .addColumn('rollout_id', key)
    .addColumn('reason_code', 'text')
    .addColumn('reason', 'text')
    .addColumn('missing_permissions_json', 'text', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('domains_at', 'bigint')
    .addColumn('uploaded_at', 'bigint')
    .addColumn('auditing_at', 'bigint')
    .addColumn('live_at', 'bigint')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // The sweep: blocked rows, and starting rows by age.
  await db.schema.createIndex('onboardings_status_updated').on('onboardings').columns(['status', 'updated_at']).execute();

  await db.schema.alterTable('rollouts').addColumn('origin', 'text', (c) => c.notNull().defaultTo('operator')).execute();
  await db.schema.alterTable('rollouts').addColumn('promote_to', 'text').execute();
  await db.schema.alterTable('rollouts').addColumn('ext_defaults_json', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const column of ['ext_defaults_json', 'promote_to', 'origin']) {
    await db.schema.alterTable('rollouts').dropColumn(column).execute();
  }
  for (const table of ['onboardings', 'onboarding_policy', 'channel_promotions', 'channels']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
