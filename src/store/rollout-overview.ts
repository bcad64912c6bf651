/**
 * The scheduler's one read per round: for every active rollout, its progress and its targets due now, by
 * wave and state (one grouped query per OVERVIEW_CHUNK rollouts instead of several queries per rollout).
 */
import type { Kysely } from 'kysely';
import { progressOf, type Rollout, type TargetCount, type TargetState } from '../fleet/rollout-model.ts';
import type { RolloutOverview } from '../fleet/rollout-ports.ts';
import type { Schema } from './schema.ts';

/** Rollout ids per query: far below both dialects' parameter limits. */
const OVERVIEW_CHUNK = 1000;

/** Due: its next run has come and no live lease holds it. */
export async function readOverview(db: Kysely<Schema>, rollouts: readonly Rollout[], now: number): Promise<Map<string, RolloutOverview>> {
  const counts = new Map<string, TargetCount[]>();
  const due = new Map<string, TargetCount[]>();
  for (let i = 0; i < rollouts.length; i += OVERVIEW_CHUNK) {
    const ids = rollouts.slice(i, i + OVERVIEW_CHUNK).map((rollout) => rollout.id);
    const rows = await db
      .selectFrom('rollout_targets')
      .select((eb) => [
        'rollout_id',
        'wave',
        'state',
        eb.fn.countAll<number>().as('count'),
        eb.fn
          .sum<number>(
            eb
              .case()
              .when(eb.and([eb('next_run_at', '<=', now), eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)])]))
              .then(1)
              .else(0)
              .end(),
          )
          .as('due'),
      ])
      .where('rollout_id', 'in', ids)
      .groupBy(['rollout_id', 'wave', 'state'])
      .execute();
    for (const row of rows) {
      const state = row.state as TargetState;
      pushTo(counts, row.rollout_id, { wave: row.wave, state, count: Number(row.count) });
      if (Number(row.due) > 0) pushTo(due, row.rollout_id, { wave: row.wave, state, count: Number(row.due) });
    }
  }
  return new Map(rollouts.map((rollout) => [rollout.id, { progress: progressOf(rollout.waves, counts.get(rollout.id) ?? []), due: due.get(rollout.id) ?? [] }]));
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
