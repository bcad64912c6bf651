/** The onboarding status and timeline derived from the stored row and the rollout target (pure). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { OnboardingRecord } from '../../src/fleet/channel-model.ts';
import { onboardingView, stepsReached } from '../../src/fleet/onboarding-status.ts';
import type { Rollout, RolloutTarget, TargetState } from '../../src/fleet/rollout-model.ts';

const row = (overrides: Partial<OnboardingRecord> = {}): OnboardingRecord => ({
  appId: 'ks_a', status: 'started', channel: 'stable', templateId: 2, userVersion: '2.0.0', rolloutId: 'ro_1', reasonCode: null, reason: null,
  missingPermissions: [], trigger: 'authorized', steps: {}, version: 2, createdAt: 10, updatedAt: 20, ...overrides,
});
const rollout = (status: Rollout['status'] = 'running') => ({ id: 'ro_1', status }) as Rollout;
const target = (state: TargetState, lastError: string | null = null): RolloutTarget => ({
  rolloutId: 'ro_1', appId: 'ks_a', wave: 1, state, attempts: 0, nextRunAt: 0, leaseOwner: null, leaseUntil: null, lastErrorCode: null, lastError, updatedAt: 99, stateClaims: 0, auditPushed: null,
});
const view = (input: Partial<Parameters<typeof onboardingView>[0]>) =>
  onboardingView({ authorizedAt: 5, row: row(), active: true, rollout: rollout(), target: target('pending'), withDomains: true, ...input });

test('status from the row and the target', () => {
  assert.equal(view({ row: undefined }).status, 'none');
  assert.equal(view({ row: undefined, active: false }).status, 'disabled');
  assert.equal(view({ row: row({ status: 'blocked' }) }).status, 'blocked');
  assert.equal(view({ row: row({ status: 'blocked' }), active: false }).status, 'disabled');
  assert.equal(view({ row: row({ status: 'starting' }) }).status, 'starting');
  assert.equal(view({ row: row({ status: 'up_to_date' }) }).status, 'live');
  for (const state of ['pending', 'uploaded', 'auditing', 'audit_passed'] as const) assert.equal(view({ target: target(state) }).status, 'in_progress', state);
  assert.equal(view({ target: target('released'), active: false }).status, 'live', 'a finished onboarding stays what it was when the policy goes off');
  for (const state of ['failed', 'rejected', 'skipped', 'rolled_back'] as const) assert.equal(view({ target: target(state) }).status, 'failed', state);
  assert.equal(view({ rollout: rollout('aborted'), target: target('uploaded') }).status, 'failed');
  assert.equal(view({ target: target('rejected', '类目不符') }).reason, '类目不符');
});

test('the timeline: every step in order, recorded times, the current step at the target’s time, lost ones null', () => {
  assert.deepEqual(stepsReached('auditing', true), ['domains', 'uploaded', 'auditing']);
  assert.deepEqual(stepsReached('released', false), ['uploaded', 'auditing', 'live']);
  assert.deepEqual(stepsReached('failed', true), []);
  const auditing = view({ row: row({ steps: { domains: 30, uploaded: 31 } }), target: target('auditing') });
  assert.deepEqual(auditing.timeline, [
    { step: 'authorized', at: 5, done: true },
    { step: 'domains', at: 30, done: true },
    { step: 'uploaded', at: 31, done: true },
    { step: 'auditing', at: 99, done: true },
    { step: 'live', at: null, done: false },
  ]);
  const failed = view({ row: row({ steps: { uploaded: 31 } }), target: target('failed'), withDomains: false });
  assert.deepEqual(failed.timeline.map((t) => [t.step, t.done]), [['authorized', true], ['uploaded', true], ['auditing', false], ['live', false]]);
  const lost = view({ row: row({ steps: {} }), target: target('released') });
  assert.deepEqual(lost.timeline.map((t) => t.at), [5, null, null, null, 99]);
});
