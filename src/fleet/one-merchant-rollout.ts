/**
 * Onboarding's rollouts: one merchant, one wave, concurrency 1, never paused by the failure brake, under
 * an id the caller chose before creating it (its idempotency key across crashes). See docs/onboarding.md.
 */
import { randomBytes } from 'node:crypto';
import { conflict } from './errors.ts';
import type { MerchantRepository } from './ports.ts';
import type { DomainPolicySpec, Rollout, RolloutTarget } from './rollout-model.ts';
import type { RolloutRepository } from './rollout-ports.ts';

export interface OneMerchantRolloutInput {
  id: string;
  appId: string;
  templateId: number;
  userVersion: string;
  userDesc: string;
  autoRelease: boolean;
  extDefaults: Record<string, unknown> | null;
  /** Domains set before the upload (the domain step), or null. */
  domains: DomainPolicySpec | null;
}

/** A rollout id: sortable by creation time (the list is newest first by id). */
export function newRolloutId(at: number): string {
  return `ro_${at.toString(36)}${randomBytes(4).toString('hex')}`;
}

export function newTarget(rolloutId: string, appId: string, wave: number, at: number): RolloutTarget {
  return { rolloutId, appId, wave, state: 'pending', attempts: 0, nextRunAt: at, leaseOwner: null, leaseUntil: null, lastErrorCode: null, lastError: null, updatedAt: at, stateClaims: 0, auditPushed: null };
}

export function oneMerchantRollout(input: OneMerchantRolloutInput, at: number): { rollout: Rollout; target: RolloutTarget } {
  const rollout: Rollout = {
    id: input.id,
    kind: 'template',
    origin: 'onboarding',
    promoteTo: null,
    extDefaults: input.extDefaults,
    templateId: input.templateId,
    userVersion: input.userVersion,
    userDesc: input.userDesc,
    domains: input.domains,
    status: 'running',
    autoRelease: input.autoRelease,
    // One merchant: a failure is reported on its target, never a reason to pause.
    maxFailureRate: 1,
    failuresAcknowledged: 0,
    concurrency: 1,
    waves: [{ wave: 1, size: 1 }],
    currentWave: 1,
    pauseReason: null,
    createdBy: null,
    createdAt: at,
    updatedAt: at,
    finishedAt: null,
  };
  return { rollout, target: newTarget(input.id, input.appId, 1, at) };
}

/**
 * Creates the rollout unless it exists already (a retry after a crash between creating it and recording
 * it, or another instance): the id makes this idempotent. Refuses (409) a merchant that another
 * unfinished rollout touching the same things is taking.
 */
export async function startOneMerchantRollout(deps: { rollouts: RolloutRepository; merchants: MerchantRepository }, input: OneMerchantRolloutInput, at: number): Promise<'created' | 'exists'> {
  const { rollouts, merchants } = deps;
  if (await rollouts.get(input.id)) return 'exists';
  if ((await merchants.get(input.appId))?.status !== 'authorized') throw conflict('merchant_not_authorized', `${input.appId} is not authorized`);
  const busy = (await rollouts.unfinishedElsewhere([input.appId], { code: true, domains: input.domains !== null })).filter((b) => b.rolloutId !== input.id);
  if (busy.length > 0) throw conflict('targets_in_active_rollout', `${input.appId} is still in rollout ${busy[0]!.rolloutId}`, { busy });
  const { rollout, target } = oneMerchantRollout(input, at);
  try {
    await rollouts.create(rollout, [target]);
  } catch (error) {
    // Another instance created it between our read and our insert (the primary key refused ours).
    if (await rollouts.get(input.id)) return 'exists';
    throw error;
  }
  return 'created';
}
