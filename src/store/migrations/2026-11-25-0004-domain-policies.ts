/**
 * Domain policies as rollouts: a rollout's kind (`template`, the only one before, or `domains`) and the
 * domain policy it applies (JSON, null for none). Old rows stay valid: they are template rollouts without
 * a policy. A `domains` rollout keeps placeholders (0, '') in the NOT NULL template columns of 0002.
 * FROZEN: once released, never edit this file; add a new dated migration instead.
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('rollouts').addColumn('kind', 'text', (c) => c.notNull().defaultTo('template')).execute();
  await db.schema.alterTable('rollouts').addColumn('domains_json', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('rollouts').dropColumn('domains_json').execute();
  await db.schema.alterTable('rollouts').dropColumn('kind').execute();
}
