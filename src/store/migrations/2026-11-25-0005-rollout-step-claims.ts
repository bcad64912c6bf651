/**
 * Rollout targets remember enough to act without reading the platform first when that is safe.
 * FROZEN: once released, never edit this file; add a new dated migration instead.
 *
 * - `state_claims`: how many times the target was claimed in its current state (the claim adds 1, a change
 *   of state resets it to 0). 1 means no earlier claim can have started this state's platform call.
 * - `audit_pushed`: the userVersion an audit push said PASSED for this target (set by the push's wake).
 */
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('rollout_targets').addColumn('state_claims', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('rollout_targets').addColumn('audit_pushed', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('rollout_targets').dropColumn('audit_pushed').execute();
  await db.schema.alterTable('rollout_targets').dropColumn('state_claims').execute();
}
