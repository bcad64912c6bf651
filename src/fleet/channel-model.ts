/**
 * Release channels and onboarding (quick activation, 快速开通): what new merchants should get, the policy
 * that gives it to them, and each merchant's onboarding record. See docs/onboarding.md.
 */
import type { PolicyWarning } from './runtime-reach.ts';

/** A channel name: `stable`, `beta`, `canary-2`… */
export const CHANNEL_NAME_PATTERN = '^[a-z][a-z0-9-]{0,31}$';

/** Server and webview domains a merchant should have: the domain-policy part's type. */
export type { DomainPolicySpec } from './rollout-model.ts';
import type { DomainPolicySpec } from './rollout-model.ts';

export interface Channel {
  name: string;
  templateId: number;
  userVersion: string;
  userDesc: string;
  /** A layer between the template's ext defaults and the merchant's overrides; null: none. */
  extDefaults: Record<string, unknown> | null;
  /** Domains onboarding sets before the upload; null: the merchant's domains are left alone. */
  domainPolicy: DomainPolicySpec | null;
  autoRelease: boolean;
  /** 1 on creation, +1 on every change. */
  version: number;
  updatedAt: number;
  /** API key id, or `rollout:<id>` for a promotion. */
  updatedBy: string | null;
}

export type ChannelInput = Pick<Channel, 'templateId' | 'userVersion' | 'userDesc' | 'extDefaults' | 'domainPolicy' | 'autoRelease'>;

export interface OnboardingPolicy {
  enabled: boolean;
  channel: string;
  /** null: the channel's autoRelease decides. */
  autoRelease: boolean | null;
}

export const DEFAULT_ONBOARDING_POLICY: OnboardingPolicy = { enabled: true, channel: 'stable', autoRelease: null };

/** What is stored per merchant. `none` and the rollout-derived states are not stored (see onboarding-status.ts). */
export type OnboardingRowStatus = 'blocked' | 'starting' | 'started' | 'up_to_date';

export type OnboardingBlock = 'missing_permissions' | 'busy';

export type OnboardingTrigger = 'authorized' | 'authorization_updated' | 'reauthorization_code' | 'redirect' | 'sweep' | 'operator';

/** Times the rollout target reached each step (best effort: a crash may lose one). */
export type StepTimes = Partial<Record<'domains' | 'uploaded' | 'auditing' | 'live', number>>;

export interface OnboardingRecord {
  appId: string;
  status: OnboardingRowStatus;
  channel: string;
  templateId: number;
  userVersion: string;
  /** The rollout this onboarding created (or is about to create, while `starting`). */
  rolloutId: string | null;
  reasonCode: OnboardingBlock | null;
  reason: string | null;
  missingPermissions: number[];
  trigger: OnboardingTrigger;
  steps: StepTimes;
  /** Compare-and-set token: +1 on every write. */
  version: number;
  createdAt: number;
  updatedAt: number;
}

export const ONBOARDING_STATUSES = ['none', 'blocked', 'starting', 'in_progress', 'live', 'failed', 'disabled'] as const;
export type OnboardingStatus = (typeof ONBOARDING_STATUSES)[number];

export const TIMELINE_STEPS = ['authorized', 'domains', 'uploaded', 'auditing', 'live'] as const;
export type TimelineStep = (typeof TIMELINE_STEPS)[number];

/** What GET /api/v1/merchants/:appId shows. */
export interface OnboardingView {
  status: OnboardingStatus;
  channel: string | null;
  rolloutId: string | null;
  reason: string | null;
  missingPermissions: number[];
  /** Every step of this onboarding in order; `done` with the time it was reached (null when unknown). */
  timeline: { step: TimelineStep; at: number | null; done: boolean }[];
}

export type PlanStep =
  | { step: 'domains'; domainPolicy: DomainPolicySpec }
  | { step: 'upload'; templateId: number; userVersion: string; userDesc: string; ext: Record<string, unknown> }
  | { step: 'audit' }
  | { step: 'release'; automatic: boolean };

export interface OnboardingPlan {
  appId: string;
  policy: OnboardingPolicy & { forcedOff: boolean };
  channel: Channel | null;
  current: OnboardingView;
  /** True when consider() would start a rollout now. */
  wouldStart: boolean;
  steps: PlanStep[];
  blockers: { code: string; message: string }[];
  /** Not blocking, but worth knowing: e.g. the channel's domain policy leaves the runtime's host out. */
  warnings: PolicyWarning[];
}
