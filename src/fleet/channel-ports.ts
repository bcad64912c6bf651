/** What channels and onboarding need from storage (implemented by src/store). */
import type { Channel, ChannelInput, OnboardingPolicy, OnboardingRecord, OnboardingStatus, StepTimes } from './channel-model.ts';
import type { AuditLogEntry, Page } from './model.ts';

/** A completed rollout whose version is to be promoted to a channel. */
export interface Promotion {
  rolloutId: string;
  channel: string;
  templateId: number;
  userVersion: string;
  userDesc: string;
}

export type AuditDraft = Omit<AuditLogEntry, 'id'>;

export interface ChannelRepository {
  list(): Promise<Channel[]>;
  get(name: string): Promise<Channel | undefined>;
  /**
   * Creates or replaces a channel. `baseVersion`: 0 = only if it does not exist, n = only if its version
   * is n, undefined = whatever it is. Returns the stored channel, or undefined when `baseVersion` is stale.
   */
  put(name: string, input: ChannelInput, baseVersion: number | undefined, updatedBy: string | null, at: number): Promise<Channel | undefined>;
  /**
   * In one transaction: records the promotion (once per rollout), moves the channel to the rollout's
   * template/version (creating it when absent) and appends `audit`. Undefined when already promoted.
   */
  promote(promotion: Promotion, at: number, audit: (before: Channel | undefined, after: Channel) => AuditDraft): Promise<Channel | undefined>;
  /** Completed rollouts with a `promoteTo` and no promotion recorded yet. */
  pendingPromotions(limit: number): Promise<Promotion[]>;
  getPolicy(): Promise<OnboardingPolicy | undefined>;
  putPolicy(policy: OnboardingPolicy, updatedBy: string | null, at: number): Promise<void>;
}

/** The statuses an onboarding row shows (`none` has no row; `disabled` is the policy's, not the row's). */
export type CountedOnboardingStatus = Exclude<OnboardingStatus, 'none' | 'disabled'>;

export interface OnboardingCounts {
  /** Rows by the status `onboardingView` derives from the row and its rollout target (the policy aside). */
  byStatus: Partial<Record<CountedOnboardingStatus, number>>;
  /** Rows `stuck` would list for the same `since` (they are also counted in `byStatus`). */
  stuck: number;
}

export interface OnboardingRepository {
  get(appId: string): Promise<OnboardingRecord | undefined>;
  /**
   * Compare-and-set: writes `record` only if the stored row's version is `expectedVersion` (null: only if
   * there is no row). The stored version becomes `expectedVersion + 1` (1 for a new row). Returns the
   * stored record, or undefined when someone else wrote first.
   */
  save(record: Omit<OnboardingRecord, 'version' | 'createdAt' | 'steps'>, expectedVersion: number | null, at: number): Promise<OnboardingRecord | undefined>;
  /** Records when the onboarding's rollout target first reached `step` (no-op for another rollout). */
  recordStep(appId: string, rolloutId: string, step: keyof StepTimes, at: number): Promise<void>;
  /** Merchants to consider again: `blocked`, or `starting` since before `staleBefore`. */
  sweepCandidates(staleBefore: number, limit: number): Promise<string[]>;
  /**
   * Authorized merchants with no onboarding row whose authorization (oldest first) lies in
   * [`authorizedSince`, `authorizedBefore`) and is not older than `channel` itself: those whose
   * authorization push was handled but whose onboarding was never decided (the process stopped in between).
   */
  unconsidered(query: { channel: string; authorizedSince: number; authorizedBefore: number; limit: number }): Promise<string[]>;
  /**
   * App ids (ordered, paged) whose onboarding is stuck: blocked; failed (the target failed, was rejected,
   * skipped or rolled back, or the rollout was aborted); or starting / in progress since before `since`.
   */
  stuck(query: { since: number; limit: number; cursor?: string }): Promise<Page<string>>;
  /** Every onboarding row counted by status, and the stuck ones as `stuck` defines them: one grouped read. */
  countByStatus(since: number): Promise<OnboardingCounts>;
}
