/**
 * When each release channel was created, so the onboarding sweep can tell merchants who authorized after
 * the channel existed (whose onboarding a crash may have lost) from those who authorized before it.
 * FROZEN: once released, never edit this file; add a new dated migration instead.
 * It imports nothing from the app, so later changes to `schema.ts` cannot change what it does.
 */
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('channels').addColumn('created_at', 'bigint').execute();
  // The first write is the best known creation time of channels that exist already.
  await sql`update channels set created_at = updated_at`.execute(db);
  // Authorized merchants by authorization time, for the sweep.
  await db.schema.createIndex('merchants_status_authorized_at').on('merchants').columns(['status', 'authorized_at']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('merchants_status_authorized_at').execute();
  await db.schema.alterTable('channels').dropColumn('created_at').execute();
}
