/**
 * Rollouts and their targets. FROZEN: once released, never edit this file; add a new dated migration instead.
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

/** A share (0…1): PostgreSQL's `real` is single precision, so 0.1 would read back as 0.100000001. */
function shareType(db: Kysely<unknown>): RawBuilder<unknown> {
  return isPostgres(db) ? sql`double precision` : sql`real`;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  const key = keyType(db);

  await db.schema
    .createTable('rollouts')
    .addColumn('id', key, (c) => c.primaryKey())
    .addColumn('template_id', 'bigint', (c) => c.notNull())
    .addColumn('user_version', 'text', (c) => c.notNull())
    .addColumn('user_desc', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('failures_acknowledged', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('auto_release', 'integer', (c) => c.notNull())
    .addColumn('max_failure_rate', shareType(db), (c) => c.notNull())
    .addColumn('concurrency', 'integer', (c) => c.notNull())
    .addColumn('waves_json', 'text', (c) => c.notNull())
    .addColumn('current_wave', 'integer', (c) => c.notNull())
    .addColumn('pause_reason', 'text')
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .execute();
  await db.schema.createIndex('rollouts_status_id').on('rollouts').columns(['status', 'id']).execute();

  await db.schema
    .createTable('rollout_targets')
    .addColumn('rollout_id', key, (c) => c.notNull())
    .addColumn('app_id', key, (c) => c.notNull())
    .addColumn('wave', 'integer', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_run_at', 'bigint', (c) => c.notNull())
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'bigint')
    .addColumn('last_error_code', 'text')
    .addColumn('last_error', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('rollout_targets_pk', ['rollout_id', 'app_id'])
    .execute();
  // Claims: the due targets of one rollout's wave in some states, in next_run_at order.
  await db.schema
    .createIndex('rollout_targets_claim')
    .on('rollout_targets')
    .columns(['rollout_id', 'wave', 'state', 'next_run_at'])
    .execute();
  // Wakes: one merchant's targets in a state (an audit push names the merchant, not the rollout).
  // The in-flight cap: a rollout's live leases, without reading its every target.
  await db.schema.createIndex('rollout_targets_lease').on('rollout_targets').columns(['rollout_id', 'lease_until']).execute();
  await db.schema.createIndex('rollout_targets_app_id_state').on('rollout_targets').columns(['app_id', 'state']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['rollout_targets', 'rollouts']) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
