/**
 * The rollout scheduler: rounds over the active rollouts that claim due targets with leases (up to each
 * rollout's concurrency, across instances), run their steps under the platform rate limit, retry transient
 * failures with backoff, gate waves, complete rollouts and apply the failure-rate brake. Crash-safe: all
 * state is in the database, and the leases of a dead instance expire. The commands that create and steer
 * rollouts are in `rollout-service.ts`.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../kuaishou/logger.ts';
import type { PlatformPort } from './platform-port.ts';
import { translatePlatformError } from './platform-errors.ts';
import { RateLimiter, type CallPriority } from './rate-limiter.ts';
import { TERMINAL_STATES, type Rollout, type RolloutProgress, type RolloutTarget, type TargetCount, type TargetState } from './rollout-model.ts';
import type { RolloutRepository, TargetUpdate } from './rollout-ports.ts';
import { advanceDomainTarget, advanceTarget, retryOrFail, rollBackTarget, type ExtFor, type StepContext } from './rollout-steps.ts';

/** Told after a target's step stored a new state (onboarding's timeline). */
export type TargetMoved = (rollout: Rollout, appId: string, state: TargetState, at: number) => void;

/**
 * A step, named by the state its target was claimed in (`pending`: the upload and submission, …), or
 * `domains` (a domain rollout's one step) or `rollback` (one released target rolled back).
 */
export type RolloutStepName = 'pending' | 'uploaded' | 'auditing' | 'audit_passed' | 'domains' | 'rollback';

/**
 * How a step ended: `advanced` (a new state stored), `waiting` (same state, looked at again later: an audit
 * under way), `retry` (a transient failure, retried with backoff), `failed`, `rejected` (the audit), or
 * `lost_lease` (another instance took the target over; nothing stored).
 */
export type RolloutStepOutcome = 'advanced' | 'waiting' | 'retry' | 'failed' | 'rejected' | 'lost_lease';

/** Told when a step ended, with how long it took (ms, its rate-limit waits and the store's write included). */
export type StepFinished = (step: RolloutStepName, outcome: RolloutStepOutcome, ms: number) => void;

export interface RolloutSchedulerOptions {
  rollouts: RolloutRepository;
  platform: PlatformPort;
  extFor: ExtFor;
  logger: Logger;
  /** Platform calls per second from this instance (default 20). */
  rateLimitPerSec?: number;
  /** The instance's platform rate limiter, when other callers share it (default: one of `rateLimitPerSec`). */
  limiter?: RateLimiter;
  leaseMs?: number;
  /**
   * Steps this instance runs at once, over all rollouts (default: what the rate limit lets finish well
   * inside a lease, see `defaultMaxInFlight`). Each rollout's own concurrency still caps it across instances.
   */
  maxInFlight?: number;
  tickMs?: number;
  auditPollMs?: number;
  /** Transient failures are retried this many times before the target fails. */
  maxAttempts?: number;
  retryBaseMs?: number;
  now?: () => number;
  owner?: string;
  onTargetMoved?: TargetMoved;
  /** Told when a rollout's status became `completed` (promotion to a channel). */
  onCompleted?: (rollout: Rollout) => void;
  /** An observer of every step's outcome and duration (metrics); it must be quick, and what it throws is logged. */
  onStepFinished?: StepFinished;
}

type Step = (target: RolloutTarget, ctx: StepContext) => Promise<TargetUpdate>;

/** What a dispatch does to the targets it claims: advance them (a template or a domain rollout), or roll them back. */
type StepKind = 'advance' | 'domains' | 'rollback';

const ADVANCING: TargetState[] = ['pending', 'uploaded', 'auditing', 'audit_passed'];

/** The most platform calls one step makes (the domain step reads and sets both lists, then the upload…). */
const CALLS_PER_STEP = 8;

/**
 * A step must make its calls within half its lease (past that it gives up, see `runStep`). With N steps in
 * flight sharing R calls/s, one step's calls take about N × CALLS_PER_STEP / R seconds, so N stays below
 * R × lease / (2 × CALLS_PER_STEP): with the defaults (20 calls/s, 60 s leases) 75. Without the cap, many
 * one-merchant rollouts (a wave of authorizations) would each take a slot, outlive their leases, be taken
 * over and redone, and never finish.
 */
export function defaultMaxInFlight(rateLimitPerSec: number, leaseMs: number): number {
  if (rateLimitPerSec <= 0) return 1000;
  return Math.max(1, Math.floor((rateLimitPerSec * leaseMs) / 1000 / (2 * CALLS_PER_STEP)));
}

export class RolloutScheduler {
  private readonly owner: string;
  private readonly now: () => number;
  private readonly limiter: RateLimiter;
  private readonly step: StepContext;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private stopped = false;
  private again = false;
  private claims = 0;
  /** The rollout whose targets this instance claimed last (round robin). */
  private lastServed: string | undefined;
  private readonly maxInFlight: number;

  constructor(private readonly options: RolloutSchedulerOptions) {
    this.owner = options.owner ?? randomUUID();
    this.now = options.now ?? Date.now;
    this.limiter = options.limiter ?? new RateLimiter(options.rateLimitPerSec ?? 20);
    this.maxInFlight = options.maxInFlight ?? defaultMaxInFlight(this.limiter.perSecond, options.leaseMs ?? 60_000);
    if (!Number.isInteger(this.maxInFlight) || this.maxInFlight < 1) throw new RangeError('maxInFlight must be a positive integer');
    this.step = {
      platform: options.platform,
      extFor: options.extFor,
      beforeCall: (priority) => this.limiter.acquire(priority),
      now: this.now,
      auditPollMs: options.auditPollMs ?? 30_000,
    };
  }

  /** Waits for the platform rate limit this instance's rollouts share. */
  beforeCall(priority?: CallPriority): Promise<void> {
    return this.limiter.acquire(priority);
  }

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => this.kick(), this.options.tickMs ?? 250);
    this.timer.unref();
    this.kick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.ticking;
    await Promise.all(this.inFlight);
  }

  /** Runs a round now, or one more after the running one: a slot freed past a round's claim is refilled. */
  kick(): void {
    if (this.stopped) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = this.rounds().finally(() => (this.ticking = undefined));
  }

  /** Rounds back to back while kicks come, 20 ms apart so the steps finishing meanwhile share one claim. */
  private async rounds(): Promise<void> {
    for (;;) {
      this.again = false;
      await this.tick().catch((error: unknown) => this.options.logger.error({ error: error instanceof Error ? error.message : String(error) }, 'rollout tick failed'));
      if (!this.again || this.stopped) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /**
   * One round over the active rollouts: one read for all of them (progress and what is due), then wave
   * gating, and claims only where targets are due. Exposed for tests.
   */
  async tick(): Promise<void> {
    const { rollouts } = this.options;
    const active = await rollouts.active();
    if (active.length === 0) return;
    const overview = await rollouts.overview(active, this.now());
    // Round robin: each round starts after the rollout that last got slots, so when the instance's slots
    // are scarce a big rollout does not keep them all while newer ones (onboardings) wait.
    const first = active.findIndex((rollout) => rollout.id === this.lastServed) + 1;
    for (const rollout of [...active.slice(first), ...active.slice(0, first)]) {
      const seen = overview.get(rollout.id);
      if (!seen) continue;
      if (rollout.status === 'rolling_back') {
        if (rollout.kind !== 'template') continue;
        if (seen.progress.byState.released === 0) {
          await rollouts.update(rollout.id, { status: 'rolled_back', finishedAt: this.now() }, this.now(), 'rolling_back');
        } else if (dueIn(seen.due, 0, ['released']) > 0) {
          await this.dispatch(rollout, ['released'], 0, 'rollback', (target, ctx) => rollBackTarget(ctx, rollout, target));
        }
        continue;
      }
      const wave = await this.gate(rollout, seen.progress);
      if (wave === undefined || dueIn(seen.due, wave, ADVANCING) === 0 || this.inFlight.size >= this.maxInFlight) continue;
      // Read again just before claiming: a pause or abort since `active` wins.
      const fresh = await rollouts.get(rollout.id);
      if (fresh?.status !== 'running') continue;
      if (fresh.kind === 'domains') await this.dispatch(fresh, ADVANCING, fresh.currentWave, 'domains', (target, ctx) => advanceDomainTarget(ctx, fresh, target));
      else await this.dispatch(fresh, ADVANCING, fresh.currentWave, 'advance', (target, ctx) => advanceTarget(ctx, fresh, target));
    }
  }

  /**
   * Wave gating, completion and the failure-rate brake. Returns the wave to work on now, or undefined when
   * the rollout stopped running (paused itself, completed, or changed meanwhile).
   */
  private async gate(rollout: Rollout, progress: RolloutProgress): Promise<number | undefined> {
    const { rollouts } = this.options;
    const failed = progress.byState.failed + progress.byState.rejected - rollout.failuresAcknowledged;
    const finished = failed + progress.byState.released + progress.byState.applied;
    if (finished > 0 && failed / finished > rollout.maxFailureRate) {
      const reason = `failure rate ${(failed / finished).toFixed(2)} is past maxFailureRate ${rollout.maxFailureRate} (${failed} of ${finished})`;
      // Only a rollout still running pauses: an abort (or an operator's pause) that came first wins.
      if (await rollouts.update(rollout.id, { status: 'paused', pauseReason: reason }, this.now(), 'running')) {
        this.options.logger.warn({ rolloutId: rollout.id, failed, finished }, 'rollout paused itself');
      }
      return undefined;
    }
    const wave = progress.byWave.find((w) => w.wave === rollout.currentWave);
    const settled = (counts: Record<TargetState, number>): number =>
      Object.entries(counts).reduce((sum, [state, n]) => sum + (TERMINAL_STATES.has(state as TargetState) || (!rollout.autoRelease && state === 'audit_passed') ? n : 0), 0);
    if (wave && settled(wave.byState) < wave.size) return rollout.currentWave;
    const last = rollout.waves.at(-1)?.wave ?? 1;
    if (rollout.currentWave < last) {
      const next = rollout.currentWave + 1;
      return (await rollouts.update(rollout.id, { currentWave: next }, this.now(), 'running')) ? next : undefined;
    }
    if (settled(progress.byState) === progress.total && (rollout.autoRelease || progress.byState.audit_passed === 0)) {
      if (await rollouts.update(rollout.id, { status: 'completed', finishedAt: this.now() }, this.now(), 'running')) this.options.onCompleted?.({ ...rollout, status: 'completed' });
      return undefined;
    }
    return rollout.currentWave; // the last wave waits for a manual release
  }

  private async dispatch(rollout: Rollout, states: TargetState[], wave: number, kind: StepKind, run: Step): Promise<void> {
    // Full: a finishing step kicks another round, which comes back here.
    const room = this.maxInFlight - this.inFlight.size;
    if (room <= 0) return;
    const now = this.now();
    const leaseMs = this.options.leaseMs ?? 60_000;
    // A fresh owner token per claim fences a step that outlived its lease, even against this instance.
    const owner = `${this.owner}:${++this.claims}`;
    const claimed = await this.options.rollouts.claim({
      rolloutId: rollout.id,
      wave,
      states,
      now,
      owner,
      leaseMs,
      limit: Math.min(rollout.concurrency, room),
      maxInFlight: rollout.concurrency,
    });
    if (claimed.length > 0) this.lastServed = rollout.id;
    for (const target of claimed) {
      const work = this.runStep(rollout, target, owner, now + leaseMs / 2, kind, run).finally(() => this.inFlight.delete(work));
      this.inFlight.add(work);
    }
  }

  /** No platform call once half the lease is gone (another claim may be near): a transient failure instead. */
  private async runStep(rollout: Rollout, target: RolloutTarget, owner: string, callBy: number, kind: StepKind, run: Step): Promise<void> {
    // A monotonic clock: `now` may be a test's fake one.
    const started = performance.now();
    let transient = false;
    const ctx: StepContext = {
      ...this.step,
      beforeCall: async (priority) => {
        await this.limiter.acquire(priority);
        if (this.now() > callBy) throw new Error('the step held its lease too long to call the platform; retried later');
      },
    };
    let update: TargetUpdate;
    try {
      update = await run(target, ctx);
    } catch (caught) {
      const { maxAttempts = 8, retryBaseMs = 1000 } = this.options;
      update = retryOrFail(target, translatePlatformError(caught, target.appId), { maxAttempts, retryBaseMs, now: this.now() });
      transient = update.state === undefined;
    }
    const stored = await this.options.rollouts.finishStep(target.rolloutId, target.appId, owner, update, this.now());
    if (!stored) this.options.logger.warn({ rolloutId: target.rolloutId, appId: target.appId }, 'lost the lease on a rollout target; another instance took it');
    else if (update.state !== undefined && update.state !== target.state) this.options.onTargetMoved?.(rollout, target.appId, update.state, this.now());
    this.observe(kind, target, update, stored ? (transient ? 'retry' : undefined) : 'lost_lease', performance.now() - started);
    this.kick(); // its slot is free: refill it now
  }

  private observe(kind: StepKind, target: RolloutTarget, update: TargetUpdate, outcome: RolloutStepOutcome | undefined, ms: number): void {
    const { onStepFinished } = this.options;
    if (!onStepFinished) return;
    const step: RolloutStepName = kind === 'advance' ? advancingStep(target.state) : kind;
    const state = update.state;
    outcome ??= state === 'failed' || state === 'rejected' ? state : state !== undefined && state !== target.state ? 'advanced' : 'waiting';
    try {
      onStepFinished(step, outcome, ms);
    } catch (error) {
      this.options.logger.warn({ error: error instanceof Error ? error.message : String(error) }, 'the rollout step observer failed');
    }
  }
}

/** The step name of a target claimed to advance (only the advancing states are claimed for it). */
function advancingStep(state: TargetState): RolloutStepName {
  return state === 'uploaded' || state === 'auditing' || state === 'audit_passed' ? state : 'pending';
}

/** Targets due in `wave` (0: any wave) among `states`. */
function dueIn(due: readonly TargetCount[], wave: number, states: readonly TargetState[]): number {
  return due.reduce((sum, d) => sum + ((wave === 0 || d.wave === wave) && states.includes(d.state) ? d.count : 0), 0);
}
