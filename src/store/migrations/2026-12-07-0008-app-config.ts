/**
 * App config (issue #13): beside each ext document — a template's defaults, a merchant's overrides, every
 * version in the history — the app.json fields its uploads' ext.json sets (pages, extPages, subPackages,
 * window, tabBar, networkTimeout) as JSON text; null: none. The custom config stays where it was (it is
 * the ext.json's `ext`), so existing documents upload the same custom config.
 * FROZEN: once released, never edit this file; add a new dated migration instead.
 * It imports nothing from the app, so later changes to `schema.ts` cannot change what it does.
 */
import type { Kysely } from 'kysely';

const TABLES = ['template_ext', 'merchant_ext', 'ext_history'] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const table of TABLES) await db.schema.alterTable(table).addColumn('app_config_json', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of TABLES) await db.schema.alterTable(table).dropColumn('app_config_json').execute();
}
