/**
 * What the CLI makes of a rollout's counts. The shapes themselves (Rollout, RolloutWithProgress, states)
 * are the API's, generated: web/src/api/shapes.ts.
 */
import type { Progress, RolloutStatus, TargetState } from '../../web/src/api/shapes.ts';

/** States a target does not leave by itself. */
export const TERMINAL_STATES: readonly TargetState[] = ['released', 'rejected', 'failed', 'skipped', 'rolled_back', 'applied'];
/** A rollout in one of these is over: the event stream ends. */
export const FINISHED_STATUSES: readonly RolloutStatus[] = ['completed', 'aborted', 'rolled_back'];

export type Counts = Progress['byState'];

export function count(counts: Counts, state: TargetState): number {
  return counts[state] ?? 0;
}

/** Targets that ended badly: failed on the platform or rejected by the audit. */
export function failures(counts: Counts): number {
  return count(counts, 'failed') + count(counts, 'rejected');
}
