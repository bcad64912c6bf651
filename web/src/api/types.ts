/** The REST API's shapes as the console reads them (see /openapi.json). */
export type Role = 'viewer' | 'operator' | 'admin';
export type AuditState = 'auditing' | 'passed' | 'rejected' | 'withdrawn';

export interface Me {
  keyId: string | null;
  role: Role;
}

export interface Merchant {
  appId: string;
  name: string | null;
  status: 'authorized' | 'revoked';
  permissions: number[];
  authorizedAt: number;
  revokedAt: number | null;
  createdAt: number;
  updatedAt: number;
  lastAudit: { userVersion: string; state: string; reason?: string; at: number } | null;
}

export interface Capability {
  appId: string;
  capability: string;
  status: string;
  reason: string | null;
  updatedAt: number;
}

export type MerchantDetail = Merchant & { capabilities: Capability[]; onboarding?: OnboardingView };

/** Quick activation (快速开通, issue #7): docs/onboarding.md. */
export const ONBOARDING_STEPS = ['authorized', 'domains', 'uploaded', 'auditing', 'live'] as const;
export type OnboardingStep = (typeof ONBOARDING_STEPS)[number];
export type OnboardingStatus = 'none' | 'blocked' | 'starting' | 'in_progress' | 'live' | 'failed' | 'disabled';

export interface OnboardingView {
  status: OnboardingStatus;
  channel: string | null;
  rolloutId: string | null;
  reason: string | null;
  missingPermissions: number[];
  timeline: { step: OnboardingStep; at: number | null; done: boolean }[];
}

export interface DomainPolicySpec {
  server?: Partial<Record<ServerDomainList, string[]>>;
  webview?: string[];
}

export interface Channel {
  name: string;
  templateId: number;
  userVersion: string;
  userDesc: string;
  extDefaults: Record<string, unknown> | null;
  domainPolicy: DomainPolicySpec | null;
  autoRelease: boolean;
  version: number;
  updatedAt: number;
  updatedBy: string | null;
}

export interface ChannelBody {
  templateId: number;
  userVersion: string;
  userDesc: string;
  extDefaults: Record<string, unknown> | null;
  domainPolicy: DomainPolicySpec | null;
  autoRelease: boolean;
  baseVersion: number;
}

export interface OnboardingPolicy {
  enabled: boolean;
  channel: string;
  autoRelease: boolean | null;
  forcedOff: boolean;
}

/** POST /api/v1/merchants/:appId/onboarding/start. */
export interface OnboardingStart {
  outcome: 'started' | 'up_to_date' | 'blocked' | 'nothing';
  reason: string | null;
  rolloutId: string | null;
  onboarding: OnboardingView;
}

export interface OnboardingPlan {
  appId: string;
  policy: OnboardingPolicy;
  channel: Channel | null;
  current: OnboardingView;
  wouldStart: boolean;
  steps: ({ step: string } & Record<string, unknown>)[];
  blockers: { code: string; message: string }[];
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
  total?: number;
}

interface VersionBase {
  userVersion: string;
  userDesc: string;
  templateId: number;
}

export interface Versions {
  dev: (VersionBase & { createdAt: number }) | null;
  audit: (VersionBase & { status: string; reason?: string; submittedAt: number }) | null;
  online: (VersionBase & { releasedAt: number; canRollback: boolean; rollbackVersion?: string }) | null;
}

export const SERVER_DOMAIN_LISTS = ['request', 'socket', 'uploadFile', 'downloadFile', 'udp'] as const;
export type ServerDomainList = (typeof SERVER_DOMAIN_LISTS)[number];
export type ServerDomains = Record<ServerDomainList, string[]>;

export const CAPABILITIES = ['short-video-mount', 'live-mount', 'publish-kuaishou', 'phone-number'] as const;
export type CapabilityName = (typeof CAPABILITIES)[number];

export interface Template {
  templateId: number;
  userVersion: string;
  userDesc: string;
  createdAt: number;
}

export interface AuditLogEntry {
  id: string;
  at: number;
  actorKeyId: string | null;
  actorRole: string | null;
  action: string;
  appId: string | null;
  summary: Record<string, unknown>;
  result: string;
  errorCode: string | null;
}

export type RolloutStatus = 'running' | 'paused' | 'completed' | 'aborted' | 'rolling_back' | 'rolled_back';
export const ROLLOUT_STATUSES: RolloutStatus[] = ['running', 'paused', 'completed', 'aborted', 'rolling_back', 'rolled_back'];
export const TARGET_STATES = ['pending', 'uploaded', 'auditing', 'audit_passed', 'released', 'applied', 'rejected', 'failed', 'skipped', 'rolled_back'] as const;
export type TargetState = (typeof TARGET_STATES)[number];

export interface Rollout {
  id: string;
  /** `domains`: a domain policy applied as a rollout (no template, no release or rollback). */
  kind?: 'template' | 'domains';
  templateId: number | null;
  userVersion: string | null;
  userDesc: string | null;
  status: RolloutStatus;
  autoRelease: boolean;
  maxFailureRate: number;
  failuresAcknowledged: number;
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
  byState: Record<string, number>;
  byWave: { wave: number; size: number; byState: Record<string, number> }[];
}

export interface RolloutWithProgress {
  rollout: Rollout;
  progress: Progress;
}

export interface RolloutTarget {
  appId: string;
  wave: number;
  state: string;
  attempts: number;
  nextRunAt: number;
  lastErrorCode: string | null;
  lastError: string | null;
  updatedAt: number;
}

export type RolloutTargets = { all: true } | { appIds: string[] } | { status?: 'authorized'; q?: string };
export type Wave = { count: number } | { percent: number };

export interface NewRollout {
  templateId: number;
  userVersion: string;
  userDesc: string;
  targets: RolloutTargets;
  waves?: Wave[];
  autoRelease?: boolean;
  maxFailureRate?: number;
  concurrency?: number;
  promoteTo?: string;
}

/** GET|PUT /api/v1/merchants/:appId/ext (issue #5's ext config). */
export interface ExtConfig {
  appId: string;
  templateId: number;
  defaults: Record<string, unknown>;
  overrides: Record<string, unknown>;
  effective: Record<string, unknown>;
  version: number;
  updatedAt: number | null;
  updatedBy: string | null;
}

/** POST /api/v1/domain-policies with dryRun: the drift per merchant (issue #5's domain policies). */
export interface DomainPolicyBody {
  targets: RolloutTargets;
  serverDomains?: Partial<ServerDomains>;
  webviewDomains?: string[];
  dryRun: boolean;
  /** Dry run: merchants read per page, and where the previous page ended. */
  limit?: number;
  cursor?: string;
}

export interface DomainChange {
  add: string[];
  remove: string[];
}

/** The dry run's answer: one page of merchants, each in sync or with what would change. */
export interface DomainDriftReport {
  summary: { targets: number; checked: number; inSync: number; drifting: number; unreadable: number; errors: Record<string, number> };
  items: {
    appId: string;
    inSync: boolean;
    server?: Partial<Record<ServerDomainList, DomainChange>> | null;
    webview?: DomainChange | null;
    error: { code: string; message: string } | null;
  }[];
  nextCursor: string | null;
}
