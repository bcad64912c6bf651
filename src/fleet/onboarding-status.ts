/**
 * What an onboarding looks like from outside, derived from its stored row and its rollout target (pure:
 * no I/O, so every combination is cheap to test). See docs/onboarding.md for the table.
 */
import type { OnboardingRecord, OnboardingStatus, OnboardingView, StepTimes } from './channel-model.ts';
import type { Rollout, RolloutTarget, TargetState } from './rollout-model.ts';

type Step = keyof StepTimes;

/** How far a target in each state has come (its last step reached); undefined: not past the start. */
const REACHED: Partial<Record<TargetState, Step>> = {
  uploaded: 'uploaded',
  auditing: 'auditing',
  audit_passed: 'auditing',
  rejected: 'auditing',
  released: 'live',
};

const FAILED: ReadonlySet<TargetState> = new Set(['failed', 'rejected', 'skipped', 'rolled_back']);

/** The steps of an onboarding, in order; `domains` only when it sets domains. */
export function stepsOf(withDomains: boolean): Step[] {
  return withDomains ? ['domains', 'uploaded', 'auditing', 'live'] : ['uploaded', 'auditing', 'live'];
}

/** The steps a target in `state` has reached (each implies the ones before it). */
export function stepsReached(state: TargetState, withDomains: boolean): Step[] {
  const steps = stepsOf(withDomains);
  const last = REACHED[state];
  return last === undefined ? [] : steps.slice(0, steps.indexOf(last) + 1);
}

export interface ViewInput {
  authorizedAt: number;
  row: OnboardingRecord | undefined;
  /** The policy is on (and not forced off). */
  active: boolean;
  rollout: Rollout | undefined;
  target: RolloutTarget | undefined;
  withDomains: boolean;
}

export function onboardingView(input: ViewInput): OnboardingView {
  const { row, rollout, target, withDomains } = input;
  const status = statusOf(input);
  const base = { status, channel: row?.channel ?? null, rolloutId: row?.rolloutId ?? null, missingPermissions: row?.missingPermissions ?? [] };
  const timeline: OnboardingView['timeline'] = [{ step: 'authorized', at: input.authorizedAt, done: true }];
  if (!row) return { ...base, reason: null, timeline };
  if (row.status === 'up_to_date') {
    return { ...base, reason: 'already online on the channel’s version', timeline: [...timeline, { step: 'live', at: row.updatedAt, done: true }] };
  }
  // Recorded times first; a step the target shows reached but whose time was lost (a crash) has at: null.
  const reached = new Set<Step>(target ? stepsReached(target.state, withDomains) : []);
  for (const step of Object.keys(row.steps) as Step[]) reached.add(step);
  // The step the target is at now was reached when the target last moved (its time may not be recorded yet).
  const currentStep = target ? stepsReached(target.state, withDomains).at(-1) : undefined;
  for (const step of stepsOf(withDomains)) {
    const done = reached.has(step);
    const at = row.steps[step] ?? (step === currentStep ? target!.updatedAt : null);
    timeline.push({ step, at: done ? at : null, done });
  }
  let reason = row.reason;
  if (status === 'failed') reason = target?.lastError ?? (rollout?.status === 'aborted' ? `rollout ${rollout.id} was aborted` : `the rollout target is ${target?.state ?? 'missing'}`);
  return { ...base, reason, timeline };
}

function statusOf({ row, active, rollout, target }: ViewInput): OnboardingStatus {
  if (!row) return active ? 'none' : 'disabled';
  switch (row.status) {
    case 'blocked':
      return active ? 'blocked' : 'disabled';
    case 'starting':
      return active ? 'starting' : 'disabled';
    case 'up_to_date':
      return 'live';
    case 'started':
      if (!target || !rollout) return 'in_progress';
      if (target.state === 'released') return 'live';
      if (FAILED.has(target.state) || rollout.status === 'aborted') return 'failed';
      return 'in_progress';
  }
}
