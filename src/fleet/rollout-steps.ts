/**
 * One target's next step, idempotent. The rule: before REDOING a step, look at the merchant's versions.
 * A target on its first claim in its state (`stateClaims === 1`) has had no earlier attempt at this state's
 * platform call, so it acts without reading; any later claim (lease expired after a crash, an error whose
 * outcome is unknown, a retry) reads the versions first, so a retry, a restart or a second instance never
 * uploads or submits twice.
 */
import { errorCodeOf } from './audit-trail.ts';
import { FleetError } from './errors.ts';
import { diffDomains, namesServer, namesWebview, serverDrifts, serverSetLists, webviewDrifts, type CurrentDomains, type DomainDiff } from './domain-policy.ts';
import { translatePlatformError } from './platform-errors.ts';
import type { MerchantExt, PlatformPort, Versions } from './platform-port.ts';
import type { CallPriority } from './rate-limiter.ts';
import type { DomainPolicySpec, DomainRollout, RolloutTarget, TargetState, TemplateRollout } from './rollout-model.ts';
import type { TargetUpdate } from './rollout-ports.ts';

/**
 * What an upload to `appId` carries: its custom config (template defaults ← `layer`, a channel's ← the
 * merchant's overrides) and its app config; the platform port makes the ext.json of them.
 */
export type ExtFor = (appId: string, templateId: number, layer: Record<string, unknown> | null) => Promise<MerchantExt>;

export interface StepContext {
  platform: PlatformPort;
  extFor: ExtFor;
  /**
   * Waits for the platform rate limit before each call; `priority` (default `step`) says which waiting
   * calls go first: releases and rollbacks (`finish`), then submissions and reads, then uploads (`start`).
   */
  beforeCall(priority?: CallPriority): Promise<void>;
  now(): number;
  /** How long to wait before looking at an audit again when no push arrived. */
  auditPollMs: number;
}

type Version = { userVersion: string; templateId: number } | undefined;

function isOurs(rollout: TemplateRollout, version: Version): boolean {
  return version !== undefined && version.userVersion === rollout.userVersion && version.templateId === rollout.templateId;
}

/** Where the platform says this target already is, if further than its recorded state. */
export function observedState(rollout: TemplateRollout, versions: Versions): TargetState | undefined {
  if (isOurs(rollout, versions.online)) return 'released';
  if (isOurs(rollout, versions.audit)) {
    const status = versions.audit!.status;
    return status === 'passed' ? 'audit_passed' : status === 'rejected' ? 'rejected' : 'auditing';
  }
  if (isOurs(rollout, versions.development)) return 'uploaded';
  return undefined;
}

/** Advances a target as far as it can go now (several states at once when nothing needs waiting). */
export async function advanceTarget(ctx: StepContext, rollout: TemplateRollout, target: RolloutTarget): Promise<TargetUpdate> {
  const { platform } = ctx;
  const appId = target.appId;
  // Onboarding: the merchant's domains are brought to the policy before its first upload.
  if (rollout.domains && target.state === 'pending') await applyDomainPolicy(ctx, appId, rollout.domains);
  const versions = async (): Promise<Versions> => {
    await ctx.beforeCall();
    return platform.getVersions(appId);
  };
  let state: TargetState = target.state;
  if (target.stateClaims === 1) {
    const done = await firstAttempt(ctx, rollout, target);
    if (done) return done;
  }
  let current = await versions();

  for (let hops = 0; hops < 6; hops++) {
    const seen = observedState(rollout, current);
    if (seen === 'released') return { state: 'released', lastError: null, lastErrorCode: null };
    if (seen === 'rejected') {
      return { state: 'rejected', lastErrorCode: 'audit_rejected', lastError: current.audit?.reason ?? 'audit rejected' };
    }
    switch (state) {
      case 'pending':
        if (seen === undefined) {
          const merchantExt = await ctx.extFor(appId, rollout.templateId, rollout.extDefaults);
          await ctx.beforeCall('start');
          await platform.uploadCode(appId, { templateId: rollout.templateId, userVersion: rollout.userVersion, userDesc: rollout.userDesc, ...merchantExt });
          current = await versions();
        }
        state = seen ?? 'uploaded';
        break;
      case 'uploaded':
        if (seen === 'uploaded' || seen === undefined) {
          if (seen === undefined) {
            state = 'pending'; // the development version is gone (replaced by hand): upload again
            break;
          }
          if (current.audit?.status === 'auditing') {
            // Another version is under audit on this mini-program: not ours to withdraw. Look again later.
            return { nextRunAt: ctx.now() + ctx.auditPollMs, lastErrorCode: 'other_audit_in_progress', lastError: `version ${current.audit.userVersion} is under audit` };
          }
          await ctx.beforeCall();
          await platform.submitAudit(appId, { auditNote: `rollout ${rollout.id}` });
        }
        state = 'auditing';
        current = await versions();
        break;
      case 'auditing':
        if (seen === 'auditing') return { state: 'auditing', nextRunAt: ctx.now() + ctx.auditPollMs, lastError: null, lastErrorCode: null };
        state = seen === 'audit_passed' ? 'audit_passed' : 'uploaded';
        break;
      case 'audit_passed':
        if (!rollout.autoRelease) return { state: 'audit_passed', nextRunAt: Number.MAX_SAFE_INTEGER, lastError: null, lastErrorCode: null };
        if (seen !== 'audit_passed') {
          state = seen ?? 'pending';
          break;
        }
        await ctx.beforeCall('finish');
        await platform.release(appId);
        return { state: 'released', lastError: null, lastErrorCode: null };
      default:
        return {};
    }
  }
  return { state };
}

/**
 * The first claim of a target in its state: nobody has started this state's call yet, so it is made without
 * reading the versions — upload then submit from `pending`, release from `audit_passed` or from `auditing`
 * when an audit push said this version passed. Returns undefined when only a read can tell (an audit with
 * no pushed result).
 */
async function firstAttempt(ctx: StepContext, rollout: TemplateRollout, target: RolloutTarget): Promise<TargetUpdate | undefined> {
  const { platform } = ctx;
  const appId = target.appId;
  switch (target.state) {
    case 'pending': {
      const merchantExt = await ctx.extFor(appId, rollout.templateId, rollout.extDefaults);
      await ctx.beforeCall('start');
      await platform.uploadCode(appId, { templateId: rollout.templateId, userVersion: rollout.userVersion, userDesc: rollout.userDesc, ...merchantExt });
      return submitFirst(ctx, rollout, appId);
    }
    case 'uploaded':
      return submitFirst(ctx, rollout, appId);
    case 'auditing':
      if (target.auditPushed !== rollout.userVersion) return undefined;
      if (!rollout.autoRelease) return { state: 'audit_passed', nextRunAt: Number.MAX_SAFE_INTEGER, lastError: null, lastErrorCode: null };
      await ctx.beforeCall('finish');
      await platform.release(appId);
      return { state: 'released', lastError: null, lastErrorCode: null };
    case 'audit_passed':
      if (!rollout.autoRelease) return { state: 'audit_passed', nextRunAt: Number.MAX_SAFE_INTEGER, lastError: null, lastErrorCode: null };
      await ctx.beforeCall('finish');
      await platform.release(appId);
      return { state: 'released', lastError: null, lastErrorCode: null };
    default:
      return {};
  }
}

/**
 * Submits for audit; the result comes by push (it wakes the target), polling the versions is the fallback.
 * When the platform refuses (e.g. another version of the mini-program is under audit), the read path
 * decides what to do.
 */
async function submitFirst(ctx: StepContext, rollout: TemplateRollout, appId: string): Promise<TargetUpdate | undefined> {
  await ctx.beforeCall();
  try {
    await ctx.platform.submitAudit(appId, { auditNote: `rollout ${rollout.id}` });
  } catch (error) {
    const translated = translatePlatformError(error, appId);
    if (translated instanceof FleetError && translated.type === 'platform_rejected') return undefined;
    throw error;
  }
  return { state: 'auditing', nextRunAt: ctx.now() + ctx.auditPollMs, lastError: null, lastErrorCode: null };
}

/** A failed step: transient errors retry later with backoff; business errors fail the target with the platform's code. */
export function retryOrFail(target: RolloutTarget, error: unknown, policy: { maxAttempts: number; retryBaseMs: number; now: number }): TargetUpdate {
  const attempts = target.attempts + 1;
  const message = error instanceof Error ? error.message : String(error);
  const code = error instanceof FleetError ? errorCodeOf(error) : 'internal';
  const transient = !(error instanceof FleetError) || error.type === 'upstream_unavailable';
  if (transient && attempts < policy.maxAttempts) {
    const delay = Math.min(policy.retryBaseMs * 2 ** (attempts - 1), 60_000) * (0.75 + Math.random() / 2);
    return { attempts, nextRunAt: policy.now + Math.round(delay), lastErrorCode: code, lastError: message };
  }
  return { attempts, state: 'failed', lastErrorCode: code, lastError: message };
}

/** Rolls a released target back (A9) when its online version is still this rollout's. */
export async function rollBackTarget(ctx: StepContext, rollout: TemplateRollout, target: RolloutTarget): Promise<TargetUpdate> {
  await ctx.beforeCall();
  const versions = await ctx.platform.getVersions(target.appId);
  if (isOurs(rollout, versions.online)) {
    if (!versions.online!.canRollback) {
      throw new FleetError('platform_rejected', 'rollback_not_possible', 'the platform has no previous version to roll back to', { platformCodeName: 'ROLLBACK_NOT_ALLOWED' });
    }
    await ctx.beforeCall('finish');
    await ctx.platform.rollback(target.appId);
  }
  return { state: 'rolled_back', lastError: null, lastErrorCode: null };
}

/** Reads the lists the policy names (one call per kind of domain it names). */
export async function readDomains(ctx: Pick<StepContext, 'platform' | 'beforeCall'>, appId: string, spec: DomainPolicySpec): Promise<CurrentDomains> {
  const current: CurrentDomains = {};
  if (namesServer(spec)) {
    await ctx.beforeCall();
    current.server = await ctx.platform.serverDomains(appId, { action: 'get' });
  }
  if (namesWebview(spec)) {
    await ctx.beforeCall();
    current.webview = await ctx.platform.webviewDomains(appId, { action: 'get' });
  }
  return current;
}

/**
 * The domain step, idempotent: reads the merchant's current domains, then `set`s only the kinds that
 * differ from the policy (server: all five lists, the ones the policy leaves alone as they are). A
 * merchant already in the desired state gets no change; a retry or a restart reads again first.
 */
export async function applyDomainPolicy(ctx: StepContext, appId: string, spec: DomainPolicySpec): Promise<DomainDiff> {
  const current = await readDomains(ctx, appId, spec);
  const diff = diffDomains(spec, current);
  if (current.server && serverDrifts(diff)) {
    await ctx.beforeCall();
    await ctx.platform.serverDomains(appId, { action: 'set', ...serverSetLists(spec, current.server) });
  }
  if (spec.webview !== undefined && webviewDrifts(diff)) {
    await ctx.beforeCall();
    await ctx.platform.webviewDomains(appId, { action: 'set', domains: spec.webview });
  }
  return diff;
}

/** A target of a `domains` rollout: one step, from `pending` to `applied`. */
export async function advanceDomainTarget(ctx: StepContext, rollout: DomainRollout, target: RolloutTarget): Promise<TargetUpdate> {
  await applyDomainPolicy(ctx, target.appId, rollout.domains);
  return { state: 'applied', lastError: null, lastErrorCode: null };
}
