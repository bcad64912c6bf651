/**
 * Brings the schema up to date on start, safely when several instances start at once: on PostgreSQL
 * Kysely's migrator holds an advisory lock; on SQLite the whole run is one BEGIN IMMEDIATE transaction
 * (the file's write lock, which other processes wait for), queued behind any other run in this process.
 */
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import type { Database } from './database.ts';
import * as initial from './migrations/2026-11-25-0001-initial.ts';
import * as rollouts from './migrations/2026-11-25-0002-rollouts.ts';
import * as templatesExt from './migrations/2026-11-25-0003-templates-ext.ts';
import * as domainPolicies from './migrations/2026-11-25-0004-domain-policies.ts';
import * as rolloutStepClaims from './migrations/2026-11-25-0005-rollout-step-claims.ts';
import * as channelsOnboarding from './migrations/2026-11-25-0006-channels-onboarding.ts';
import * as channelCreatedAt from './migrations/2026-12-07-0007-channel-created-at.ts';
import * as appConfig from './migrations/2026-12-07-0008-app-config.ts';
import * as runtime from './migrations/2026-12-07-0009-runtime.ts';
import type { Schema } from './schema.ts';

/** Every migration, by name; names sort by date. Add new ones at the end; never edit a released one. */
const MIGRATIONS: Record<string, Migration> = {
  '2026-11-25-0001-initial': initial,
  '2026-11-25-0002-rollouts': rollouts,
  '2026-11-25-0003-templates-ext': templatesExt,
  '2026-11-25-0004-domain-policies': domainPolicies,
  '2026-11-25-0005-rollout-step-claims': rolloutStepClaims,
  '2026-11-25-0006-channels-onboarding': channelsOnboarding,
  '2026-12-07-0007-channel-created-at': channelCreatedAt,
  '2026-12-07-0008-app-config': appConfig,
  '2026-12-07-0009-runtime': runtime,
};

/** Names of the migrations this build knows, oldest first. */
export const migrationNames: readonly string[] = Object.keys(MIGRATIONS).sort();

const provider: MigrationProvider = { getMigrations: () => Promise.resolve(MIGRATIONS) };

/** Applies pending migrations; returns the names applied now (empty when already up to date). */
export async function migrateToLatest(database: Database): Promise<string[]> {
  const { error, results = [] } = database.dialect === 'postgres' ? await migratePostgres(database) : await migrateSqlite(database);
  if (error !== undefined) {
    const failed = results.find((r) => r.status === 'Error')?.migrationName;
    const reason = error instanceof Error ? error.message : 'see cause';
    throw new Error(`database migration${failed ? ` ${failed}` : ''} failed: ${reason}`, { cause: error });
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

function migratePostgres(database: Database): Promise<MigrationResultSet> {
  // The bookkeeping tables live in our schema: Kysely would otherwise find another schema's.
  return new Migrator({ db: database.db, provider, migrationTableSchema: database.schema }).migrateToLatest();
}

/** SQLite runs in this process, queued per file: a second connection would block the event loop on the lock. */
const sqliteRuns = new Map<string, Promise<unknown>>();

function migrateSqlite(database: Database): Promise<MigrationResultSet> {
  const file = database.sqliteFile ?? ':memory:';
  const run = (): Promise<MigrationResultSet> => database.db.connection().execute((connection) => migrateLocked(connection));
  if (file === ':memory:') return run();
  const queued = (sqliteRuns.get(file) ?? Promise.resolve()).then(run, run);
  sqliteRuns.set(file, queued.catch(() => undefined));
  return queued;
}

async function migrateLocked(connection: Kysely<Schema>): Promise<MigrationResultSet> {
  await sql`begin immediate`.execute(connection);
  let result: MigrationResultSet;
  try {
    result = await new Migrator({ db: connection, provider, disableTransactions: true }).migrateToLatest();
  } catch (error) {
    await sql`rollback`.execute(connection);
    throw error;
  }
  await sql.raw(result.error === undefined ? 'commit' : 'rollback').execute(connection);
  return result;
}
