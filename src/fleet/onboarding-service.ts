/**
 * Quick activation (快速开通): when a merchant authorizes (or re-authorizes while behind), start a
 * one-merchant rollout of the policy's channel — once, whatever the number of instances, duplicate pushes
 * or crashes. The decision is `consider(appId)`; docs/onboarding.md has the state machine and the
 * crash argument.
 */
import type { Logger } from '../kuaishou/logger.ts';
import { recordAction, type Actor } from './audit-trail.ts';
import { DEFAULT_ONBOARDING_POLICY, type Channel, type OnboardingPlan, type OnboardingPolicy, type OnboardingRecord, type OnboardingTrigger, type OnboardingView } from './channel-model.ts';
import type { ChannelRepository, OnboardingCounts, OnboardingRepository } from './channel-ports.ts';
import { checkChannelName, type ChannelService } from './channel-service.ts';
import { FleetError, invalid, notFound } from './errors.ts';
import type { Merchant, Page } from './model.ts';
import { planOnboarding } from './onboarding-plan.ts';
import { onboardingView, stepsReached } from './onboarding-status.ts';
import type { PlatformPort } from './platform-port.ts';
import { onPlatform } from './platform-errors.ts';
import type { AuditLogRepository, MerchantRepository } from './ports.ts';
import type { Rollout, RolloutTarget, TargetState } from './rollout-model.ts';
import type { RolloutRepository } from './rollout-ports.ts';
import type { ExtFor } from './rollout-steps.ts';
import { newRolloutId, type OneMerchantRolloutInput } from './one-merchant-rollout.ts';

/** What onboarding needs from the rollout engine. */
export interface OnboardingRolloutStarter {
  startOne(input: OneMerchantRolloutInput): Promise<'created' | 'exists'>;
  /** Waits for the platform rate limit the rollouts share. */
  beforeCall(): Promise<void>;
}

export interface OnboardingServiceOptions {
  channels: ChannelRepository;
  channelService: ChannelService;
  onboardings: OnboardingRepository;
  merchants: MerchantRepository;
  rollouts: RolloutRepository;
  starter: OnboardingRolloutStarter;
  platform: Pick<PlatformPort, 'getVersions'>;
  auditLog: AuditLogRepository;
  /** The ext an upload would send (for the dry run). */
  extFor: ExtFor;
  logger: Logger;
  /** KS_ONBOARDING=off: nothing starts, whatever is stored. */
  forcedOff?: boolean;
  /** Where the runtime answers (PUBLIC_URL): the dry run warns when the channel's domains leave it out. */
  runtimeUrl?: () => string;
  /** A `starting` claim older than this is taken over (default 60 s). */
  staleMs?: number;
  /** How often the sweep runs (default 30 s). */
  sweepMs?: number;
  /** In progress longer than this is "stuck" (default 30 min). */
  stuckAfterMs?: number;
  now?: () => number;
}

export type ConsiderOutcome = 'started' | 'blocked' | 'up_to_date' | 'nothing';

export interface ConsiderResult {
  outcome: ConsiderOutcome;
  /** Why nothing happened, or the block's code. */
  reason?: string;
  rolloutId?: string;
}

const SET_NAMES: Record<number, string> = { 1: '开发管理 development management', 2: '基本信息 basic information (server and webview domains)' };
const UNFINISHED: ReadonlySet<TargetState> = new Set(['pending', 'uploaded', 'auditing', 'audit_passed']);
const SWEEP_BATCH = 200;
/** How far back the sweep looks for authorizations whose onboarding was never decided. */
const MISSED_WINDOW_MS = 24 * 3_600_000;
const RETRY_DELAYS_MS = [1000, 5000];

export type PolicyView = OnboardingPolicy & { forcedOff: boolean };

/** Permission sets an onboarding to `channel` needs: 1 always, 2 when it sets domains. */
export function requiredPermissions(channel: Channel): number[] {
  return channel.domainPolicy ? [1, 2] : [1];
}

export function missingPermissionsReason(missing: number[]): string {
  const sets = missing.map((id) => `set ${id} (${SET_NAMES[id] ?? 'unknown'})`).join(' and ');
  return `the merchant did not grant permission ${sets}; ask them to authorize again with it ticked — onboarding resumes by itself`;
}

function onVersion(channel: Pick<Channel, 'templateId' | 'userVersion'>, version: { templateId: number; userVersion: string } | undefined): boolean {
  return version !== undefined && version.templateId === channel.templateId && version.userVersion === channel.userVersion;
}

export class OnboardingService {
  private readonly now: () => number;
  private readonly running = new Map<string, { again: OnboardingTrigger | undefined; done: Promise<ConsiderResult> }>();
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly options: OnboardingServiceOptions) {
    this.now = options.now ?? Date.now;
  }

  // ---- Policy ---------------------------------------------------------------------------------------

  async policy(): Promise<PolicyView> {
    const stored = (await this.options.channels.getPolicy()) ?? DEFAULT_ONBOARDING_POLICY;
    return { ...stored, forcedOff: this.options.forcedOff ?? false };
  }

  async setPolicy(actor: Actor, policy: OnboardingPolicy): Promise<PolicyView> {
    checkChannelName(policy.channel);
    if (policy.enabled && !(await this.options.channels.get(policy.channel))) {
      throw invalid(`channel ${policy.channel} does not exist; create it first (PUT /api/v1/channels/${policy.channel})`, { channel: policy.channel });
    }
    return recordAction(this.options.auditLog, this.now(), { actor, action: 'onboarding.policy', appId: null, summary: { ...policy } }, async () => {
      await this.options.channels.putPolicy(policy, actor.keyId, this.now());
      return { ...policy, forcedOff: this.options.forcedOff ?? false };
    });
  }

  // ---- The decision -----------------------------------------------------------------------------------

  /**
   * Decides for one merchant and acts. Concurrent calls for one merchant in this process run one after
   * the other (a push that arrives while one runs is considered again after it); across processes the
   * compare-and-set on the onboarding row decides.
   */
  consider(appId: string, trigger: OnboardingTrigger): Promise<ConsiderResult> {
    const current = this.running.get(appId);
    if (current) {
      current.again = trigger;
      return current.done;
    }
    const entry: { again: OnboardingTrigger | undefined; done: Promise<ConsiderResult> } = { again: undefined, done: Promise.resolve({ outcome: 'nothing' }) };
    entry.done = (async () => {
      try {
        let result = await this.considerOnce(appId, trigger);
        while (entry.again !== undefined) {
          const next = entry.again;
          entry.again = undefined;
          result = await this.considerOnce(appId, next);
        }
        return result;
      } finally {
        this.running.delete(appId);
      }
    })();
    this.running.set(appId, entry);
    return entry.done;
  }

  private async considerOnce(appId: string, trigger: OnboardingTrigger): Promise<ConsiderResult> {
    const { channels, onboardings, merchants, rollouts } = this.options;
    const policy = await this.policy();
    if (!policy.enabled || policy.forcedOff) return { outcome: 'nothing', reason: 'disabled' };
    const channel = await channels.get(policy.channel);
    if (!channel) return { outcome: 'nothing', reason: 'no_channel' };
    const merchant = await merchants.get(appId);
    if (merchant?.status !== 'authorized') return { outcome: 'nothing', reason: 'not_authorized' };
    const now = this.now();
    const row = await onboardings.get(appId);
    const settled = await this.settled(row, channel, now);
    if (settled) return { outcome: 'nothing', reason: settled };

    const missing = requiredPermissions(channel).filter((id) => !merchant.permissions.includes(id));
    if (missing.length > 0) return this.block(appId, row, channel, trigger, 'missing_permissions', missingPermissionsReason(missing), missing);
    const busy = (await rollouts.unfinishedElsewhere([appId], { code: true, domains: channel.domainPolicy !== null })).find((b) => b.rolloutId !== row?.rolloutId);
    if (busy) return this.block(appId, row, channel, trigger, 'busy', `rollout ${busy.rolloutId} is still taking this merchant; onboarding starts when it finishes`, []);

    // Claim. A stale claim for the same version keeps its rollout id: if that rollout exists, it is adopted.
    const sameClaim = row?.status === 'starting' && row.rolloutId !== null && onVersion(channel, row);
    const rolloutId = sameClaim ? row.rolloutId! : newRolloutId(now);
    const claim = { appId, status: 'starting' as const, channel: channel.name, templateId: channel.templateId, userVersion: channel.userVersion, rolloutId, reasonCode: null, reason: null, missingPermissions: [], trigger, updatedAt: now };
    const claimed = await onboardings.save(claim, row?.version ?? null, now);
    if (!claimed) return { outcome: 'nothing', reason: 'claimed_elsewhere' };

    try {
      if (!(await rollouts.get(rolloutId))) {
        await this.options.starter.beforeCall();
        const versions = await onPlatform(() => this.options.platform.getVersions(appId), appId);
        if (onVersion(channel, versions.online)) {
          await onboardings.save({ ...claim, status: 'up_to_date', rolloutId: null }, claimed.version, this.now());
          return { outcome: 'up_to_date' };
        }
      }
      await this.options.starter.startOne({
        id: rolloutId,
        appId,
        templateId: channel.templateId,
        userVersion: channel.userVersion,
        userDesc: channel.userDesc,
        autoRelease: policy.autoRelease ?? channel.autoRelease,
        extDefaults: channel.extDefaults,
        domains: channel.domainPolicy,
      });
    } catch (error) {
      if (error instanceof FleetError && error.code === 'targets_in_active_rollout') {
        return this.block(appId, claimed, channel, trigger, 'busy', `${error.message}; onboarding starts when it finishes`, []);
      }
      // Give the claim up at once (stale from time 0): the next try — a retry, the sweep, another instance — takes it over.
      const reason = `could not start yet: ${error instanceof Error ? error.message : String(error)}`;
      await onboardings.save({ ...claim, reason }, claimed.version, 0).catch(() => undefined);
      throw error;
    }
    const started = await onboardings.save({ ...claim, status: 'started' }, claimed.version, this.now());
    if (started) {
      await this.options.auditLog.append(systemEntry(this.now(), 'onboarding.start', appId, { channel: channel.name, templateId: channel.templateId, userVersion: channel.userVersion, rolloutId, trigger }));
      this.options.logger.info({ appId, rolloutId, channel: channel.name, userVersion: channel.userVersion }, 'onboarding started');
    }
    return { outcome: 'started', rolloutId };
  }

  /**
   * An operator's "onboard now": the decision an authorization would make, taken at once and recorded in
   * the audit log. A failed onboarding (target failed or rejected, rollout aborted) starts again with a new
   * rollout; one in progress or live is left alone (`nothing` with the reason). 404 for an unknown merchant.
   */
  async startBy(actor: Actor, appId: string): Promise<{ result: ConsiderResult; onboarding: OnboardingView }> {
    const merchant = await this.options.merchants.get(appId);
    if (!merchant) throw notFound('merchant', appId);
    const summary: Record<string, unknown> = {};
    const result = await recordAction(this.options.auditLog, this.now(), { actor, action: 'onboarding.retry', appId, summary }, async () => {
      const decided = await this.consider(appId, 'operator');
      Object.assign(summary, decided);
      return decided;
    });
    return { result, onboarding: await this.view(merchant) };
  }

  /** Why an existing row needs nothing now, if it does not. */
  private async settled(row: OnboardingRecord | undefined, channel: Channel, now: number): Promise<string | undefined> {
    if (!row) return undefined;
    if (row.status === 'starting') return row.updatedAt > now - (this.options.staleMs ?? 60_000) ? 'starting' : undefined;
    if (row.status === 'up_to_date') return onVersion(channel, row) ? 'live' : undefined;
    if (row.status !== 'started' || row.rolloutId === null) return undefined;
    const { rollout, target } = await this.rolloutOf(row);
    if (rollout && target && UNFINISHED.has(target.state) && (rollout.status === 'running' || rollout.status === 'paused')) return 'in_progress';
    if (target?.state === 'released' && onVersion(channel, row)) return 'live';
    return undefined; // failed, or live on an older version: a (re-)authorization starts it again
  }

  private async block(appId: string, row: OnboardingRecord | undefined, channel: Channel, trigger: OnboardingTrigger, code: 'missing_permissions' | 'busy', reason: string, missing: number[]): Promise<ConsiderResult> {
    const now = this.now();
    const changed = row?.status !== 'blocked' || row.reasonCode !== code || row.reason !== reason;
    // Written even when unchanged: the sweep takes the oldest rows first, so every blocked row gets its turn.
    const saved = await this.options.onboardings.save(
      { appId, status: 'blocked', channel: channel.name, templateId: channel.templateId, userVersion: channel.userVersion, rolloutId: row?.rolloutId ?? null, reasonCode: code, reason, missingPermissions: missing, trigger, updatedAt: now },
      row?.version ?? null,
      now,
    );
    if (saved && changed) {
      await this.options.auditLog.append(systemEntry(now, 'onboarding.blocked', saved.appId, { reasonCode: code, reason, ...(missing.length ? { missingPermissions: missing } : {}) }));
    }
    return { outcome: 'blocked', reason: code };
  }

  // ---- Reading ----------------------------------------------------------------------------------------

  /** The dry run: steps and blockers for one merchant, no platform writes. */
  plan(appId: string): Promise<OnboardingPlan> {
    return planOnboarding(this, this.options, appId);
  }

  async view(merchant: Merchant): Promise<OnboardingView> {
    const policy = await this.policy();
    const row = await this.options.onboardings.get(merchant.appId);
    const { rollout, target } = row ? await this.rolloutOf(row) : { rollout: undefined, target: undefined };
    const channel = row ? await this.options.channels.get(row.channel) : undefined;
    return onboardingView({ authorizedAt: merchant.authorizedAt, row, active: policy.enabled && !policy.forcedOff, rollout, target, withDomains: channel?.domainPolicy != null });
  }

  async stuck(query: { limit: number; cursor?: string }): Promise<Page<Merchant>> {
    const page = await this.options.onboardings.stuck({ since: this.stuckSince(), ...query });
    const items: Merchant[] = [];
    for (const appId of page.items) {
      const merchant = await this.options.merchants.get(appId);
      if (merchant) items.push(merchant);
    }
    return { items, nextCursor: page.nextCursor };
  }

  /** The onboardings by status, and how many `stuck` would list now (for /metrics): one grouped read. */
  counts(): Promise<OnboardingCounts> {
    return this.options.onboardings.countByStatus(this.stuckSince());
  }

  /** Starting or in progress since before this is stuck. */
  private stuckSince(): number {
    return this.now() - (this.options.stuckAfterMs ?? 30 * 60_000);
  }

  private async rolloutOf(row: OnboardingRecord): Promise<{ rollout: Rollout | undefined; target: RolloutTarget | undefined }> {
    if (row.rolloutId === null) return { rollout: undefined, target: undefined };
    const rollout = await this.options.rollouts.get(row.rolloutId);
    const target = rollout ? (await this.options.rollouts.targets({ rolloutId: row.rolloutId, limit: 1 })).items.find((t) => t.appId === row.appId) : undefined;
    return { rollout, target };
  }

  // ---- Hooks and the sweep ------------------------------------------------------------------------------

  /** The rollout engine moved a target: record the step times of onboarding rollouts. */
  async targetMoved(rollout: Rollout, appId: string, state: TargetState, at: number): Promise<void> {
    if (rollout.origin !== 'onboarding') return;
    const channel = (await this.options.onboardings.get(appId))?.channel;
    const withDomains = channel ? (await this.options.channels.get(channel))?.domainPolicy != null : false;
    for (const step of stepsReached(state, withDomains)) await this.options.onboardings.recordStep(appId, rollout.id, step, at);
  }

  /** Promotions left undone, stale claims, and blocked merchants that may now go on. */
  async sweep(): Promise<void> {
    await this.options.channelService.promotePending();
    const policy = await this.policy();
    if (!policy.enabled || policy.forcedOff) return;
    const staleBefore = this.now() - (this.options.staleMs ?? 60_000);
    const candidates = [
      ...(await this.options.onboardings.sweepCandidates(staleBefore, SWEEP_BATCH)),
      // Acknowledged authorizations whose decision was lost (the process stopped between the push and
      // `consider`): recent ones only — merchants who authorized before the channel existed are not onboarded.
      ...(await this.options.onboardings.unconsidered({ channel: policy.channel, authorizedSince: this.now() - MISSED_WINDOW_MS, authorizedBefore: staleBefore, limit: SWEEP_BATCH })),
    ];
    for (const appId of candidates) {
      if (this.stopped) return;
      await this.consider(appId, 'sweep').catch((error: unknown) => this.warn(appId, error, 'onboarding sweep could not consider a merchant'));
    }
  }

  /**
   * Runs `consider` in the background (pushes, the authorization redirect). A failure (platform or
   * database unavailable) is tried again after 1 s and 5 s; past that the sweep takes up the given-up claim.
   */
  trigger(appId: string, trigger: OnboardingTrigger, attempt = 0): void {
    if (this.stopped) return;
    this.consider(appId, trigger).catch((error: unknown) => {
      this.warn(appId, error, 'onboarding could not consider a merchant');
      const delay = RETRY_DELAYS_MS[attempt];
      if (delay !== undefined) setTimeout(() => this.trigger(appId, trigger, attempt + 1), delay).unref();
    });
  }

  start(): void {
    this.stopped = false;
    const tick = (): void => {
      this.sweeping ??= this.sweep()
        .catch((error: unknown) => this.warn(undefined, error, 'onboarding sweep failed'))
        .finally(() => (this.sweeping = undefined));
    };
    this.timer = setInterval(tick, this.options.sweepMs ?? 30_000);
    this.timer.unref();
    tick(); // the boot sweep
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.sweeping;
    await Promise.all([...this.running.values()].map((entry) => entry.done.catch(() => undefined)));
  }

  private warn(appId: string | undefined, error: unknown, message: string): void {
    this.options.logger.warn({ ...(appId ? { appId } : {}), error: error instanceof Error ? error.message : String(error) }, message);
  }
}

function systemEntry(at: number, action: string, appId: string, summary: Record<string, unknown>) {
  return { at, actorKeyId: null, actorRole: 'system', action, appId, summary, result: 'ok' as const, errorCode: null };
}
