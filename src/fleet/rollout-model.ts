/**
 * Rollouts: one template version taken through upload → audit → release for many merchants, in waves;
 * or (kind `domains`) a domain policy applied to many merchants with the same machinery.
 * See docs/rollouts.md for the state machines.
 */

export type RolloutStatus = 'running' | 'paused' | 'completed' | 'aborted' | 'rolling_back' | 'rolled_back';

export const TARGET_STATES = [
  'pending',
  'uploaded',
  'auditing',
  'audit_passed',
  'released',
  'rejected',
  'failed',
  'skipped',
  'rolled_back',
  'applied',
] as const;
export type TargetState = (typeof TARGET_STATES)[number];

/** States a target never leaves by itself (only a rollback moves `released` on). */
export const TERMINAL_STATES: ReadonlySet<TargetState> = new Set(['released', 'rejected', 'failed', 'skipped', 'rolled_back', 'applied']);

/** The server-domain lists a policy may name. */
export const SERVER_DOMAIN_LISTS = ['request', 'socket', 'uploadFile', 'downloadFile', 'udp'] as const;
export type ServerDomainList = (typeof SERVER_DOMAIN_LISTS)[number];

/**
 * The desired domains of a merchant: a list given is the whole set wanted for that list (`[]` empties
 * it); a list left out is left alone.
 */
export interface DomainPolicySpec {
  server?: Partial<Record<ServerDomainList, string[]>>;
  webview?: string[];
}

/** `template`: upload → audit → release of a version; `domains`: a domain policy, nothing else. */
export type RolloutKind = 'template' | 'domains';

export interface WavePlan {
  wave: number;
  size: number;
}

/** Who asked for a rollout: an operator (POST /api/v1/rollouts, /api/v1/domain-policies) or onboarding (one merchant, on authorization). */
export type RolloutOrigin = 'operator' | 'onboarding';

interface RolloutCommon {
  id: string;
  origin: RolloutOrigin;
  status: RolloutStatus;
  autoRelease: boolean;
  /** Pause by itself when (failed + rejected) / finished exceeds this share (0…1). */
  maxFailureRate: number;
  /** Failures an operator has seen and resumed past: the brake counts only later ones. */
  failuresAcknowledged: number;
  /** Targets in flight at once. */
  concurrency: number;
  waves: WavePlan[];
  currentWave: number;
  pauseReason: string | null;
  createdBy: string | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
  /** When the rollout completes, this channel takes its template/version (docs/onboarding.md). */
  promoteTo: string | null;
  /** Ext layer between the template's defaults and each merchant's overrides (a channel's ext defaults). */
  extDefaults: Record<string, unknown> | null;
}

export interface TemplateRollout extends RolloutCommon {
  kind: 'template';
  templateId: number;
  userVersion: string;
  userDesc: string;
  /** Applied to each merchant before its upload (onboarding), or null. */
  domains: DomainPolicySpec | null;
}

export interface DomainRollout extends RolloutCommon {
  kind: 'domains';
  templateId: null;
  userVersion: null;
  userDesc: null;
  domains: DomainPolicySpec;
}

export type Rollout = TemplateRollout | DomainRollout;

export interface RolloutTarget {
  rolloutId: string;
  appId: string;
  wave: number;
  state: TargetState;
  attempts: number;
  /** Not before this time (backoff, audit polling). */
  nextRunAt: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
  lastErrorCode: string | null;
  lastError: string | null;
  updatedAt: number;
  /**
   * Claims of this target in its current state, this one included (a claim adds 1, a change of state resets
   * it). 1: no earlier claim can have started this state's platform call, so the step may act without
   * reading the versions first; more: an earlier claim may have (lease expired, crash, error of unknown
   * outcome), so the step reads first.
   */
  stateClaims: number;
  /** The userVersion an audit push said PASSED for this merchant while the target was auditing. */
  auditPushed: string | null;
}

export type StateCounts = Record<TargetState, number>;

export interface RolloutProgress {
  total: number;
  byState: StateCounts;
  byWave: { wave: number; size: number; byState: StateCounts }[];
}

export function emptyCounts(): StateCounts {
  return Object.fromEntries(TARGET_STATES.map((state) => [state, 0])) as StateCounts;
}

/** How many of a rollout's targets are in one wave and state. */
export interface TargetCount {
  wave: number;
  state: TargetState;
  count: number;
}

/**
 * Counts per state, overall and per wave (every state present, 0 when none). Waves come from the plan
 * (with its sizes), in order; a wave the plan does not name (never written by the service) is as big as
 * its targets.
 */
export function progressOf(plan: readonly WavePlan[], counts: readonly TargetCount[]): RolloutProgress {
  const byState = emptyCounts();
  const waves = new Map<number, { size: number | undefined; byState: StateCounts }>();
  for (const wave of plan) waves.set(wave.wave, { size: wave.size, byState: emptyCounts() });
  let total = 0;
  for (const { wave: number, state, count } of counts) {
    total += count;
    byState[state] = (byState[state] ?? 0) + count;
    let wave = waves.get(number);
    if (!wave) waves.set(number, (wave = { size: undefined, byState: emptyCounts() }));
    wave.byState[state] = (wave.byState[state] ?? 0) + count;
  }
  const byWave = [...waves.entries()]
    .sort(([a], [b]) => a - b)
    .map(([wave, { size, byState: inWave }]) => ({ wave, size: size ?? Object.values(inWave).reduce((sum, n) => sum + n, 0), byState: inWave }));
  return { total, byState, byWave };
}

/** Splits `total` targets into waves given as counts or percentages (of the total); a final wave takes the rest. */
export function planWaves(total: number, waves: ({ count: number } | { percent: number })[]): WavePlan[] {
  if (total === 0) return [];
  const plan: WavePlan[] = [];
  let assigned = 0;
  for (const [index, wave] of (waves.length > 0 ? waves : [{ percent: 100 }]).entries()) {
    if (assigned >= total) break;
    const wanted = 'count' in wave ? wave.count : Math.ceil((total * wave.percent) / 100);
    const size = Math.min(Math.max(1, wanted), total - assigned);
    plan.push({ wave: index + 1, size });
    assigned += size;
  }
  // What the listed waves leave over is one last wave.
  if (assigned < total) plan.push({ wave: plan.length + 1, size: total - assigned });
  return plan;
}
