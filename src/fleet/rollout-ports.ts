/** What the rollout engine needs from storage (implemented by src/store). */
import type { Page } from './model.ts';
import type { Rollout, RolloutProgress, RolloutStatus, RolloutTarget, TargetCount, TargetState } from './rollout-model.ts';

export interface ClaimRequest {
  rolloutId: string;
  wave: number;
  /** Only targets in these states… */
  states: readonly TargetState[];
  /** …whose nextRunAt has come and whose lease (if any) has expired. */
  now: number;
  owner: string;
  leaseMs: number;
  limit: number;
  /** The rollout's cap on targets in flight: claims at most `maxInFlight` minus its live leases (any owner). */
  maxInFlight: number;
}

export type RolloutPatch = Partial<Pick<Rollout, 'status' | 'currentWave' | 'pauseReason' | 'finishedAt' | 'autoRelease' | 'failuresAcknowledged'>>;

export interface TargetUpdate {
  state?: TargetState;
  attempts?: number;
  nextRunAt?: number;
  lastErrorCode?: string | null;
  lastError?: string | null;
}

export interface RolloutOverview {
  progress: RolloutProgress;
  due: TargetCount[];
}

/** An audit result that wakes a merchant's rollout targets; `passedVersion` when it passed. */
export interface AuditWake {
  appId: string;
  passedVersion?: string;
}

export interface RolloutRepository {
  /** Stores a new rollout and its targets (in one transaction). */
  create(rollout: Rollout, targets: RolloutTarget[]): Promise<void>;
  get(id: string): Promise<Rollout | undefined>;
  list(query: { status?: RolloutStatus; limit: number; cursor?: string }): Promise<Page<Rollout>>;
  /** Ids of rollouts some instance should be advancing (running or rolling back). */
  active(): Promise<Rollout[]>;
  /**
   * Applies `patch`. With `ifStatus`, only while the rollout's status is still that one (compare-and-set):
   * returns whether it applied (false also for an unknown rollout).
   */
  update(id: string, patch: RolloutPatch, at: number, ifStatus?: RolloutStatus): Promise<boolean>;
  progress(id: string): Promise<RolloutProgress>;
  /**
   * For each of `rollouts` (as read by `active`), in one query: its progress, and its targets due at `now`
   * (next run passed, no live lease) by wave and state — so a scheduler round costs one read, however many
   * rollouts are active, and claims only where something is due.
   */
  overview(rollouts: readonly Rollout[], now: number): Promise<Map<string, RolloutOverview>>;
  /**
   * Atomically takes the lease on up to `limit` due targets (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite:
   * one writer) and returns them. Two instances never get the same target while its lease lasts.
   */
  claim(request: ClaimRequest): Promise<RolloutTarget[]>;
  /** Applies `update` and releases the lease, only if `owner` still holds it. Returns whether it did. */
  finishStep(rolloutId: string, appId: string, owner: string, update: TargetUpdate, at: number): Promise<boolean>;
  /** Moves targets in `from` to `to` (abort: pending → skipped; rollback bookkeeping), returns how many. */
  transition(rolloutId: string, from: readonly TargetState[], to: TargetState, at: number): Promise<number>;
  /**
   * Merchants among `appIds` still being taken through a running or paused rollout, and which one; by
   * default any rollout, else only those touching the same things: code (kind `template`) and/or
   * domains (a rollout with a domain policy).
   */
  unfinishedElsewhere(appIds: readonly string[], touching?: { code: boolean; domains: boolean }): Promise<{ appId: string; rolloutId: string }[]>;
  /** Makes every unfinished target of a rollout due now (after a resume). */
  wakeRollout(rolloutId: string, at: number): Promise<number>;
  /**
   * Makes the targets of each result's `appId` in `states` due now (audit results arrived by push), in one
   * statement, as if applied in order. With `passedVersion`, the push said that version passed: targets of
   * rollouts of that userVersion remember it (`auditPushed`), so their step may release without reading the
   * versions. A push can overtake the step that submitted (still leased in `pending`/`uploaded`): that
   * step's `finishStep` into `auditing` then keeps `auditPushed` and makes the target due at once.
   */
  wakeMany(results: readonly AuditWake[], states: TargetState | readonly TargetState[], at: number): Promise<number>;
  targets(query: { rolloutId: string; state?: TargetState; limit: number; cursor?: string }): Promise<Page<RolloutTarget>>;
  /** How many rollouts there are in each status (one grouped read; a status with none is left out). */
  countByStatus(): Promise<Partial<Record<RolloutStatus, number>>>;
  /** How many targets of the rollouts in `statuses` are in each state (one grouped read over a join). */
  countTargetsByState(statuses: readonly RolloutStatus[]): Promise<Partial<Record<TargetState, number>>>;
}
