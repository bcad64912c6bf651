/**
 * The scheduler refills a freed in-flight slot at once: a step that finishes while a scheduling round is
 * running (past its claim) makes another round follow, instead of waiting for the interval tick. The
 * interval here is an hour, so only kicks can claim; the interleaving is forced by a repository whose
 * second claim lets another step finish before it returns.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PlatformPort } from '../../src/fleet/platform-port.ts';
import type { Rollout, RolloutTarget } from '../../src/fleet/rollout-model.ts';
import type { ClaimRequest, RolloutRepository, TargetUpdate } from '../../src/fleet/rollout-ports.ts';
import { defaultMaxInFlight } from '../../src/fleet/rollout-scheduler.ts';
import { RolloutService } from '../../src/fleet/rollout-service.ts';
import { silentLogger } from '../../src/kuaishou/logger.ts';
import type { SqlStore } from '../../src/store/index.ts';
import { dialectTargets } from '../store/dialects.ts';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

function rolloutOf(id: string, appIds: string[], concurrency: number): { rollout: Rollout; targets: RolloutTarget[] } {
  const at = Date.now();
  const rollout: Rollout = {
    id, kind: 'template', domains: null, origin: 'operator', promoteTo: null, extDefaults: null, templateId: 1, userVersion: '1.0.0', userDesc: 'x', status: 'running', autoRelease: true, maxFailureRate: 1,
    failuresAcknowledged: 0, concurrency, waves: [{ wave: 1, size: appIds.length }], currentWave: 1, pauseReason: null,
    createdBy: null, createdAt: at, updatedAt: at, finishedAt: null,
  };
  const targets = appIds.map((appId): RolloutTarget => ({
    rolloutId: id, appId, wave: 1, state: 'pending', attempts: 0, nextRunAt: at, leaseOwner: null, leaseUntil: null,
    lastErrorCode: null, lastError: null, updatedAt: at, stateClaims: 0, auditPushed: null,
  }));
  return { rollout, targets };
}

for (const dialect of dialectTargets()) {
  describe(`rollout scheduler on ${dialect.name}`, { skip: dialect.skip }, () => {
    let store: SqlStore;
    before(async () => {
      store = await dialect.open(dialect.fresh().url);
    });
    after(async () => {
      await store?.close();
      await dialect.cleanup();
    });

    test('a slot freed while a round is past its claim is refilled by the next round, not by the interval tick', { timeout: 60_000 }, async () => {
      const { rollout, targets } = rolloutOf('ro_sched_refill', ['ks_a', 'ks_b', 'ks_c', 'ks_d'], 2);
      await store.rollouts.create(rollout, targets);
      // Each upload waits until the test lets it finish; submissions answer at once.
      const uploads = new Map(targets.map((target) => [target.appId, { started: deferred(), finish: deferred() }]));
      const platform = new Proxy({} as PlatformPort, {
        get: (_target, name) => {
          if (name === 'uploadCode') {
            return async (appId: string) => {
              uploads.get(appId)!.started.resolve();
              await uploads.get(appId)!.finish.promise;
            };
          }
          if (name === 'submitAudit') return () => Promise.resolve();
          return () => Promise.reject(new Error(`unexpected platform call ${String(name)}`));
        },
      });
      const finished = new Map(targets.map((target) => [target.appId, deferred()]));
      let claims = 0;
      const claimed: string[][] = [];
      const repository: RolloutRepository = Object.assign(Object.create(store.rollouts) as RolloutRepository, {
        claim: async (request: ClaimRequest) => {
          const got = await store.rollouts.claim(request);
          claimed.push(got.map((target) => target.appId));
          if (++claims === 2) {
            // The second round has claimed (ks_c, into ks_a's slot); now ks_b's step finishes and kicks,
            // while this round is still running.
            uploads.get('ks_b')!.finish.resolve();
            await finished.get('ks_b')!.promise;
            await new Promise(setImmediate); // its kick has happened
          }
          return got;
        },
        finishStep: async (rolloutId: string, appId: string, owner: string, update: TargetUpdate, at: number) => {
          const stored = await store.rollouts.finishStep(rolloutId, appId, owner, update, at);
          finished.get(appId)!.resolve();
          return stored;
        },
      });
      const service = new RolloutService({
        rollouts: repository, merchants: store.merchants, auditLog: store.auditLog, platform, extFor: () => Promise.resolve({ ext: {} }), logger: silentLogger,
        rateLimitPerSec: 0, tickMs: 3_600_000,
      });
      service.start();
      try {
        await Promise.all([uploads.get('ks_a')!.started.promise, uploads.get('ks_b')!.started.promise]);
        await new Promise(setImmediate); // the first round is over
        assert.deepEqual(claimed, [['ks_a', 'ks_b']], 'the first round fills the 2 slots');
        uploads.get('ks_a')!.finish.resolve(); // frees a slot: its kick starts the second round

        const refilled = await Promise.race([
          uploads.get('ks_d')!.started.promise.then(() => true),
          new Promise<false>((resolve) => setTimeout(() => resolve(false), 20_000).unref()),
        ]);
        assert.ok(refilled, `ks_b's slot was never refilled (claims so far: ${JSON.stringify(claimed)})`);
        assert.deepEqual(claimed.slice(0, 3), [['ks_a', 'ks_b'], ['ks_c'], ['ks_d']]);
      } finally {
        for (const upload of uploads.values()) upload.finish.resolve();
        await service.stop();
      }
      const progress = await store.rollouts.progress(rollout.id);
      assert.equal(progress.byState.auditing, 4, 'every target uploaded and submitted once');
    });

    test('a step whose lease is half gone before its call makes no platform call: a transient failure, retried later', async () => {
      const { rollout, targets } = rolloutOf('ro_sched_lease', ['ks_late'], 1);
      await store.rollouts.create(rollout, targets);
      const calls: string[] = [];
      const platform = new Proxy({} as PlatformPort, {
        get: (_target, name) => () => {
          calls.push(String(name));
          return Promise.resolve();
        },
      });
      let at = Date.now();
      // Only the first claim gets the target: later rounds (its kick) find it not due yet (backoff).
      const repository: RolloutRepository = Object.assign(Object.create(store.rollouts) as RolloutRepository, {
        claim: async (request: ClaimRequest) => {
          const got = await store.rollouts.claim(request);
          if (got.length > 0) at += 6_000; // the step then waits 6 s of its 10 s lease (rate limit, a stalled process) before its call
          return got;
        },
      });
      const service = new RolloutService({
        rollouts: repository, merchants: store.merchants, auditLog: store.auditLog, platform, extFor: () => Promise.resolve({ ext: {} }), logger: silentLogger,
        rateLimitPerSec: 0, leaseMs: 10_000, now: () => at,
      });
      await service.tick();
      await service.stop();
      assert.deepEqual(calls, [], 'no upload after half the lease');
      const [stored] = (await store.rollouts.targets({ rolloutId: rollout.id, limit: 10 })).items;
      assert.equal(stored?.state, 'pending');
      assert.equal(stored?.attempts, 1);
      assert.equal(stored?.leaseOwner, null, 'the lease is given back');
      assert.ok((stored?.nextRunAt ?? 0) > at, 'retried later, with backoff');
    });

    test('the instance runs at most maxInFlight steps over all rollouts, and a newer rollout gets slots before an older one is done', { timeout: 60_000 }, async () => {
      const own = await dialect.open(dialect.fresh().url); // no other test's rollouts
      const big = rolloutOf('ro_cap_a_big', ['ks_a1', 'ks_a2', 'ks_a3', 'ks_a4', 'ks_a5', 'ks_a6', 'ks_a7', 'ks_a8'], 8);
      const small = rolloutOf('ro_cap_b_small', ['ks_b1', 'ks_b2'], 2);
      await own.rollouts.create(big.rollout, big.targets);
      await own.rollouts.create(small.rollout, small.targets);
      let running = 0;
      let most = 0;
      const started: string[] = [];
      const platform = new Proxy({} as PlatformPort, {
        get: (_target, name) => {
          if (name === 'uploadCode') {
            return async (appId: string) => {
              started.push(appId);
              most = Math.max(most, ++running);
              await new Promise((resolve) => setTimeout(resolve, 30));
              running--;
            };
          }
          if (name === 'submitAudit') return () => Promise.resolve();
          return () => Promise.reject(new Error(`unexpected platform call ${String(name)}`));
        },
      });
      const service = new RolloutService({
        rollouts: own.rollouts, merchants: own.merchants, auditLog: own.auditLog, platform, extFor: () => Promise.resolve({ ext: {} }), logger: silentLogger,
        rateLimitPerSec: 0, maxInFlight: 3, tickMs: 50,
      });
      service.start();
      try {
        const deadline = Date.now() + 30_000;
        while (started.length < 10 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
        assert.equal(started.length, 10, `every target uploaded (started: ${started.join(', ')})`);
        assert.equal(most, 3, 'never more than 3 uploads at once, though the two rollouts allow 10');
        const firstSmall = started.findIndex((appId) => appId.startsWith('ks_b'));
        const lastBig = started.findLastIndex((appId) => appId.startsWith('ks_a'));
        assert.ok(firstSmall < lastBig, `the newer rollout started before the older one had all its slots (order: ${started.join(', ')})`);
      } finally {
        await service.stop();
        await own.close();
      }
    });

    test('defaultMaxInFlight: a step’s calls within half a lease; at least 1; unlimited rate → 1000', () => {
      assert.equal(defaultMaxInFlight(20, 60_000), 75);
      assert.equal(defaultMaxInFlight(10, 3_000), 1);
      assert.equal(defaultMaxInFlight(20, 20_000), 25);
      assert.equal(defaultMaxInFlight(200, 60_000), 750);
      assert.equal(defaultMaxInFlight(0, 60_000), 1000);
    });
  });
}
