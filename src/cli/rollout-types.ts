/** The rollout shapes the REST API answers with (as much as the CLI reads). */

export const ROLLOUT_STATUSES = ['running', 'paused', 'completed', 'aborted', 'rolling_back', 'rolled_back'] as const;
export type RolloutStatus = (typeof ROLLOUT_STATUSES)[number];

export const TARGET_STATES = ['pending', 'uploaded', 'auditing', 'audit_passed', 'released', 'rejected', 'failed', 'skipped', 'rolled_back', 'applied'] as const;
export type TargetState = (typeof TARGET_STATES)[number];

/** States a target does not leave by itself. */
export const TERMINAL_STATES: readonly TargetState[] = ['released', 'rejected', 'failed', 'skipped', 'rolled_back', 'applied'];
/** A rollout in one of these is over: the event stream ends. */
export const FINISHED_STATUSES: readonly string[] = ['completed', 'aborted', 'rolled_back'];

export type Counts = Partial<Record<string, number>>;

export interface Rollout {
  id: string;
  /** `template` (a version for every merchant) or `domains` (a domain policy; no template fields). Absent on older servers. */
  kind?: 'template' | 'domains';
  templateId: number | null;
  userVersion: string | null;
  userDesc: string | null;
  status: string;
  autoRelease: boolean;
  maxFailureRate: number;
  concurrency: number;
  waves: { wave: number; size: number }[];
  currentWave: number;
  pauseReason: string | null;
  createdBy: string | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

export interface Progress {
  total: number;
  byState: Counts;
  byWave: { wave: number; size: number; byState: Counts }[];
}

export interface RolloutWithProgress {
  rollout: Rollout;
  progress: Progress;
}

export interface Target {
  appId: string;
  wave: number;
  state: string;
  attempts: number;
  nextRunAt: number;
  lastErrorCode: string | null;
  lastError: string | null;
  updatedAt: number;
}

export function count(counts: Counts, state: string): number {
  return counts[state] ?? 0;
}

/** Targets that ended badly: failed on the platform or rejected by the audit. */
export function failures(counts: Counts): number {
  return count(counts, 'failed') + count(counts, 'rejected');
}
