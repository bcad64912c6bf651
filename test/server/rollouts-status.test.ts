/**
 * Rollout status changes are compare-and-set: the scheduler's failure brake and an operator's abort can
 * interleave (read status … write status), and neither may overwrite the other. Abort wins; a pause on an
 * aborted rollout is a no-op. The interleaving is forced by a repository that runs the other side exactly
 * between the read and the write.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PlatformPort } from '../../src/fleet/platform-port.ts';
import type { Rollout, RolloutTarget } from '../../src/fleet/rollout-model.ts';
import type { RolloutPatch, RolloutRepository } from '../../src/fleet/rollout-ports.ts';
import { RolloutService } from '../../src/fleet/rollout-service.ts';
import { silentLogger } from '../../src/kuaishou/logger.ts';
import type { SqlStore } from '../../src/store/index.ts';
import { dialectTargets } from '../store/dialects.ts';

const OPERATOR = { keyId: null, role: 'operator' as const };

/** No platform call may happen here: every target is already finished. */
const noPlatform = new Proxy({} as PlatformPort, {
  get: (_target, name) => () => Promise.reject(new Error(`unexpected platform call ${String(name)}`)),
});

function rolloutWithFailures(id: string): { rollout: Rollout; targets: RolloutTarget[] } {
  const at = Date.now();
  const rollout: Rollout = {
    id, kind: 'template', domains: null, origin: 'operator', promoteTo: null, extDefaults: null, templateId: 1, userVersion: '1.0.0', userDesc: 'x', status: 'running', autoRelease: true, maxFailureRate: 0.1,
    failuresAcknowledged: 0, concurrency: 5, waves: [{ wave: 1, size: 3 }], currentWave: 1, pauseReason: null,
    createdBy: null, createdAt: at, updatedAt: at, finishedAt: null,
  };
  const target = (appId: string, state: RolloutTarget['state']): RolloutTarget => ({
    rolloutId: id, appId, wave: 1, state, attempts: 0, nextRunAt: at, leaseOwner: null, leaseUntil: null,
    lastErrorCode: null, lastError: null, updatedAt: at, stateClaims: 0, auditPushed: null,
  });
  return { rollout, targets: [target('ks_a', 'failed'), target('ks_b', 'failed'), target('ks_c', 'pending')] };
}

for (const dialect of dialectTargets()) {
  describe(`rollout status compare-and-set on ${dialect.name}`, { skip: dialect.skip }, () => {
    let store: SqlStore;
    before(async () => {
      store = await dialect.open(dialect.fresh().url);
    });
    after(async () => {
      await store?.close();
      await dialect.cleanup();
    });

    function serviceOver(rollouts: RolloutRepository): RolloutService {
      return new RolloutService({ rollouts, merchants: store.merchants, auditLog: store.auditLog, platform: noPlatform, extFor: () => Promise.resolve({ ext: {} }), logger: silentLogger });
    }

    test('an abort that lands while the failure brake decides wins: the rollout stays aborted, not paused', async () => {
      const { rollout, targets } = rolloutWithFailures('ro_cas_brake');
      await store.rollouts.create(rollout, targets);
      let raced = false;
      // The round reads the progress (2 failed of 2 finished: past 0.1), then an operator aborts, then the
      // brake writes its pause.
      const racing: RolloutRepository = Object.assign(Object.create(store.rollouts) as RolloutRepository, {
        overview: async (rollouts: readonly Rollout[], now: number) => {
          const overview = await store.rollouts.overview(rollouts, now);
          if (!raced && overview.has(rollout.id)) {
            raced = true;
            await service.abort(OPERATOR, rollout.id);
          }
          return overview;
        },
      });
      const service = serviceOver(racing);
      await service.tick();
      assert.ok(raced, 'the abort ran inside the brake');
      const stored = await store.rollouts.get(rollout.id);
      assert.equal(stored?.status, 'aborted');
      assert.equal(stored?.pauseReason, null, 'the brake did not write its reason over the abort');
      assert.ok(stored?.finishedAt !== null);
      assert.equal((await store.rollouts.progress(rollout.id)).byState.skipped, 1);
    });

    test('an abort that read "running" before the brake paused re-reads and still aborts', async () => {
      const { rollout, targets } = rolloutWithFailures('ro_cas_abort');
      await store.rollouts.create(rollout, targets);
      let raced = false;
      const racing: RolloutRepository = Object.assign(Object.create(store.rollouts) as RolloutRepository, {
        update: async (id: string, patch: RolloutPatch, at: number, ifStatus?: Rollout['status']) => {
          if (patch.status === 'aborted' && !raced) {
            raced = true; // the brake pauses between the abort's read and its write
            assert.equal(await store.rollouts.update(id, { status: 'paused', pauseReason: 'brake' }, at, 'running'), true);
          }
          return store.rollouts.update(id, patch, at, ifStatus);
        },
      });
      const aborted = await serviceOver(racing).abort(OPERATOR, rollout.id);
      assert.ok(raced);
      assert.equal(aborted.status, 'aborted');
      assert.equal((await store.rollouts.get(rollout.id))?.status, 'aborted');
    });
  });
}
