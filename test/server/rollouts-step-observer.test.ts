/**
 * The scheduler's step observer (`onStepFinished`, what /metrics' ksisv_rollout_step_duration_seconds is
 * fed from): each step is reported once, named by the state its target was claimed in or `rollback`, with
 * how it ended (advanced, retry, failed, rejected, waiting, lost_lease) and a duration measured on a
 * monotonic clock; an observer that throws is logged and changes nothing stored.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FleetError } from '../../src/fleet/errors.ts';
import type { PlatformPort, Versions } from '../../src/fleet/platform-port.ts';
import type { Rollout, RolloutTarget } from '../../src/fleet/rollout-model.ts';
import type { RolloutRepository } from '../../src/fleet/rollout-ports.ts';
import type { RolloutStepName, RolloutStepOutcome } from '../../src/fleet/rollout-scheduler.ts';
import { RolloutService } from '../../src/fleet/rollout-service.ts';
import { silentLogger, type Logger } from '../../src/kuaishou/logger.ts';
import type { SqlStore } from '../../src/store/index.ts';
import { waitFor } from '../helpers/sandbox.ts';
import { dialectTargets } from '../store/dialects.ts';

type Observed = { step: RolloutStepName; outcome: RolloutStepOutcome; ms: number };

function rolloutOf(id: string, targets: { appId: string; state: RolloutTarget['state']; stateClaims?: number }[], status: Rollout['status'] = 'running'): { rollout: Rollout; targets: RolloutTarget[] } {
  const at = Date.now();
  const rollout: Rollout = {
    id, kind: 'template', domains: null, origin: 'operator', promoteTo: null, extDefaults: null, templateId: 1, userVersion: '1.0.0', userDesc: 'x', status, autoRelease: true, maxFailureRate: 1,
    failuresAcknowledged: 0, concurrency: 10, waves: [{ wave: 1, size: targets.length }], currentWave: 1, pauseReason: null,
    createdBy: null, createdAt: at, updatedAt: at, finishedAt: null,
  };
  return {
    rollout,
    targets: targets.map(({ appId, state, stateClaims = 0 }): RolloutTarget => ({
      rolloutId: id, appId, wave: 1, state, attempts: 0, nextRunAt: at, leaseOwner: null, leaseUntil: null,
      lastErrorCode: null, lastError: null, updatedAt: at, stateClaims, auditPushed: null,
    })),
  };
}

const AUDITING_OURS: Versions = { audit: { userVersion: '1.0.0', userDesc: 'x', templateId: 1, status: 'auditing', submittedAt: 0 } };

/** A platform where each merchant behaves as its app id says; 20 ms per upload, so durations are not 0. */
function platform(): PlatformPort {
  return new Proxy({} as PlatformPort, {
    get: (_target, name) => {
      if (name === 'uploadCode') {
        return async (appId: string) => {
          await new Promise((resolve) => setTimeout(resolve, 20));
          if (appId === 'ks_transient') throw new Error('socket hang up');
          if (appId === 'ks_refused') throw new FleetError('platform_rejected', 'template_not_found', 'template not found', { platformCodeName: 'TEMPLATE_NOT_FOUND' });
        };
      }
      if (name === 'submitAudit') return () => Promise.resolve();
      if (name === 'getVersions') return () => Promise.resolve(AUDITING_OURS);
      return () => Promise.reject(new Error(`unexpected platform call ${String(name)}`));
    },
  });
}

for (const dialect of dialectTargets()) {
  describe(`rollout step observer on ${dialect.name}`, { skip: dialect.skip }, () => {
    let store: SqlStore;
    before(async () => {
      store = await dialect.open(dialect.fresh().url);
    });
    after(async () => {
      await store?.close();
      await dialect.cleanup();
    });

    const serviceWith = (onStepFinished: (step: RolloutStepName, outcome: RolloutStepOutcome, ms: number) => void, options: { rollouts?: RolloutRepository; logger?: Logger } = {}): RolloutService =>
      new RolloutService({
        rollouts: options.rollouts ?? store.rollouts, merchants: store.merchants, auditLog: store.auditLog, platform: platform(), extFor: () => Promise.resolve({ ext: {} }),
        logger: options.logger ?? silentLogger, rateLimitPerSec: 0, tickMs: 3_600_000, auditPollMs: 60_000, onStepFinished,
      });

    test('each step once, by the state it was claimed in and how it ended, with its duration', { timeout: 30_000 }, async () => {
      const { rollout, targets } = rolloutOf('ro_obs_1', [
        { appId: 'ks_ok', state: 'pending' },
        { appId: 'ks_transient', state: 'pending' },
        { appId: 'ks_refused', state: 'pending' },
        // Claimed again in auditing: reads the versions, still under audit.
        { appId: 'ks_waiting', state: 'auditing', stateClaims: 1 },
      ]);
      await store.rollouts.create(rollout, targets);
      const seen: Observed[] = [];
      const service = serviceWith((step, outcome, ms) => seen.push({ step, outcome, ms }));
      await service.tick();
      await waitFor(() => (seen.length >= 4 ? true : undefined), { timeoutMs: 10_000, what: 'four steps observed' });
      await service.stop();
      assert.deepEqual(
        seen.map(({ step, outcome }) => `${step} ${outcome}`).sort(),
        ['auditing waiting', 'pending advanced', 'pending failed', 'pending retry'],
      );
      for (const { step, ms } of seen) {
        assert.ok(Number.isFinite(ms) && ms >= 0, `a duration: ${ms}`);
        if (step === 'pending') assert.ok(ms >= 15, `the upload's 20 ms are inside the step: ${ms}`);
      }
      const stored = new Map((await store.rollouts.targets({ rolloutId: rollout.id, limit: 10 })).items.map((target) => [target.appId, target]));
      assert.deepEqual(
        ['ks_ok', 'ks_transient', 'ks_refused', 'ks_waiting'].map((appId) => [appId, stored.get(appId)?.state, stored.get(appId)?.attempts]),
        [['ks_ok', 'auditing', 0], ['ks_transient', 'pending', 1], ['ks_refused', 'failed', 1], ['ks_waiting', 'auditing', 0]],
      );
    });

    test('a lost lease is reported as lost_lease; an observer that throws is logged and changes nothing', { timeout: 30_000 }, async () => {
      const { rollout, targets } = rolloutOf('ro_obs_2', [{ appId: 'ks_ok', state: 'pending' }, { appId: 'ks_lost', state: 'pending' }]);
      await store.rollouts.create(rollout, targets);
      // Another instance takes ks_lost over while its step runs: finishing it stores nothing.
      const rollouts: RolloutRepository = Object.assign(Object.create(store.rollouts) as RolloutRepository, {
        finishStep: (...args: Parameters<RolloutRepository['finishStep']>) => (args[1] === 'ks_lost' ? Promise.resolve(false) : store.rollouts.finishStep(...args)),
      });
      const warnings: string[] = [];
      const logger: Logger = { ...silentLogger, warn: (_fields, message) => warnings.push(message) };
      const seen: Observed[] = [];
      const service = serviceWith(
        (step, outcome, ms) => {
          seen.push({ step, outcome, ms });
          throw new Error('observer broke');
        },
        { rollouts, logger },
      );
      await service.tick();
      await waitFor(() => (seen.length >= 2 ? true : undefined), { timeoutMs: 10_000, what: 'two steps observed' });
      await service.stop();
      assert.deepEqual(seen.map(({ step, outcome }) => `${step} ${outcome}`).sort(), ['pending advanced', 'pending lost_lease']);
      assert.equal(warnings.filter((message) => message === 'the rollout step observer failed').length, 2);
      const stored = (await store.rollouts.targets({ rolloutId: rollout.id, limit: 10 })).items.find((target) => target.appId === 'ks_ok');
      assert.equal(stored?.state, 'auditing', 'the step was stored before the observer was told');
    });
  });
}
