/** Channels, promotions, the onboarding policy and onboarding records, on both dialects. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ChannelInput, OnboardingRecord } from '../../src/fleet/channel-model.ts';
import type { Rollout, RolloutTarget, TargetState } from '../../src/fleet/rollout-model.ts';
import type { SqlStore } from '../../src/store/index.ts';
import { dialectTargets } from './dialects.ts';

const T0 = 1_800_000_000_000;
const INPUT: ChannelInput = {
  templateId: 4_000_000_001,
  userVersion: '1.0.0',
  userDesc: 'first',
  extDefaults: { theme: 'red', nested: { a: [1, 2] } },
  domainPolicy: { server: { request: ['https://api.example.com'] }, webview: ['https://h5.example.com'] },
  autoRelease: true,
};

function rollout(id: string, overrides: Partial<Pick<Rollout, 'status' | 'promoteTo'>> = {}): Rollout {
  return {
    id, kind: 'template', domains: null, origin: 'operator', promoteTo: null, extDefaults: null, templateId: 2, userVersion: '2.0.0', userDesc: 'second', status: 'running',
    autoRelease: true, maxFailureRate: 1, failuresAcknowledged: 0, concurrency: 1, waves: [{ wave: 1, size: 1 }], currentWave: 1,
    pauseReason: null, createdBy: null, createdAt: T0, updatedAt: T0, finishedAt: null, ...overrides,
  };
}

function target(rolloutId: string, appId: string, state: TargetState): RolloutTarget {
  return { rolloutId, appId, wave: 1, state, attempts: 0, nextRunAt: T0, leaseOwner: null, leaseUntil: null, lastErrorCode: null, lastError: null, updatedAt: T0, stateClaims: 0, auditPushed: null };
}

function record(appId: string, overrides: Partial<OnboardingRecord> = {}): Omit<OnboardingRecord, 'version' | 'createdAt' | 'steps'> {
  return {
    appId, status: 'starting', channel: 'stable', templateId: 2, userVersion: '2.0.0', rolloutId: null, reasonCode: null, reason: null,
    missingPermissions: [], trigger: 'authorized', updatedAt: T0, ...overrides,
  };
}

for (const dialect of dialectTargets()) {
  describe(`channels and onboarding records on ${dialect.name}`, { skip: dialect.skip }, () => {
    let store: SqlStore;
    before(async () => {
      store = await dialect.open(dialect.fresh().url);
    });
    after(async () => {
      await store.close();
      await dialect.cleanup();
    });

    test('put: baseVersion 0 creates once, n replaces only version n, none overwrites; JSON round-trips', async () => {
      const created = await store.channels.put('stable', INPUT, 0, 'key_a', T0);
      assert.deepEqual(created, { name: 'stable', ...INPUT, version: 1, updatedAt: T0, updatedBy: 'key_a' });
      assert.equal(await store.channels.put('stable', INPUT, 0, 'key_b', T0 + 1), undefined, 'exists already');
      assert.equal(await store.channels.put('stable', { ...INPUT, userVersion: '1.1.0' }, 5, 'key_b', T0 + 1), undefined, 'stale');
      const replaced = await store.channels.put('stable', { ...INPUT, userVersion: '1.1.0', extDefaults: null, domainPolicy: null }, 1, 'key_b', T0 + 2);
      assert.deepEqual([replaced?.version, replaced?.userVersion, replaced?.extDefaults, replaced?.domainPolicy], [2, '1.1.0', null, null]);
      const forced = await store.channels.put('stable', { ...INPUT, autoRelease: false }, undefined, null, T0 + 3);
      assert.deepEqual([forced?.version, forced?.autoRelease, forced?.updatedBy], [3, false, null]);
      const fresh = await store.channels.put('beta', INPUT, undefined, null, T0);
      assert.equal(fresh?.version, 1);
      assert.deepEqual((await store.channels.list()).map((c) => c.name), ['beta', 'stable']);
      assert.equal(await store.channels.get('nope'), undefined);
    });

    test('promote: once per rollout, creating the channel when absent, with its audit entry in the same transaction', async () => {
      await store.rollouts.create(rollout('ro_p1', { status: 'completed', promoteTo: 'edge' }), [target('ro_p1', 'ks_a', 'released')]);
      await store.rollouts.create(rollout('ro_p2', { status: 'running', promoteTo: 'edge' }), [target('ro_p2', 'ks_b', 'pending')]);
      await store.rollouts.create(rollout('ro_p3', { status: 'completed' }), [target('ro_p3', 'ks_c', 'released')]);
      assert.deepEqual(await store.channels.pendingPromotions(10), [{ rolloutId: 'ro_p1', channel: 'edge', templateId: 2, userVersion: '2.0.0', userDesc: 'second' }]);
      const audit = (before: unknown, after: { version: number }) => ({
        at: T0, actorKeyId: null, actorRole: 'system', action: 'channel.promote', appId: null, summary: { created: before === undefined, version: after.version }, result: 'ok' as const, errorCode: null,
      });
      const promoted = await store.channels.promote((await store.channels.pendingPromotions(10))[0]!, T0 + 5, audit);
      assert.deepEqual([promoted?.templateId, promoted?.userVersion, promoted?.version, promoted?.updatedBy, promoted?.autoRelease], [2, '2.0.0', 1, 'rollout:ro_p1', true]);
      assert.equal(await store.channels.promote({ rolloutId: 'ro_p1', channel: 'edge', templateId: 9, userVersion: '9', userDesc: '' }, T0 + 6, audit), undefined, 'a second promotion of one rollout does nothing');
      assert.equal((await store.channels.get('edge'))?.userVersion, '2.0.0');
      assert.deepEqual(await store.channels.pendingPromotions(10), []);
      const entries = (await store.auditLog.list({ action: 'channel.promote', limit: 10 })).items;
      assert.deepEqual(entries.map((e) => e.summary), [{ created: true, version: 1 }]);
    });

    test('policy: absent, then stored and replaced', async () => {
      assert.equal(await store.channels.getPolicy(), undefined);
      await store.channels.putPolicy({ enabled: false, channel: 'stable', autoRelease: null }, 'key_a', T0);
      assert.deepEqual(await store.channels.getPolicy(), { enabled: false, channel: 'stable', autoRelease: null });
      await store.channels.putPolicy({ enabled: true, channel: 'beta', autoRelease: false }, 'key_a', T0);
      assert.deepEqual(await store.channels.getPolicy(), { enabled: true, channel: 'beta', autoRelease: false });
    });

    test('onboarding records: compare-and-set, one winner of concurrent claims, step times per rollout', async () => {
      const first = await store.onboardings.save(record('ks_one', { status: 'blocked', reasonCode: 'missing_permissions', reason: 'set 2', missingPermissions: [2] }), null, T0);
      assert.deepEqual([first?.version, first?.status, first?.missingPermissions], [1, 'blocked', [2]]);
      assert.equal(await store.onboardings.save(record('ks_one'), null, T0), undefined, 'a row exists: insert loses');
      const claims = await Promise.all(Array.from({ length: 5 }, () => store.onboardings.save(record('ks_one', { rolloutId: 'ro_x' }), 1, T0 + 1)));
      assert.equal(claims.filter(Boolean).length, 1, 'one claim wins');
      await store.onboardings.recordStep('ks_one', 'ro_other', 'uploaded', T0 + 2);
      await store.onboardings.recordStep('ks_one', 'ro_x', 'uploaded', T0 + 3);
      await store.onboardings.recordStep('ks_one', 'ro_x', 'uploaded', T0 + 4);
      const started = await store.onboardings.save(record('ks_one', { status: 'started', rolloutId: 'ro_x' }), 2, T0 + 5);
      assert.deepEqual([started?.version, started?.steps], [3, { uploaded: T0 + 3 }], 'the same rollout keeps its times; the first time wins');
      const next = await store.onboardings.save(record('ks_one', { status: 'starting', rolloutId: 'ro_y' }), 3, T0 + 6);
      assert.deepEqual(next?.steps, {}, 'a new rollout starts a new timeline');
      const loaded = await store.onboardings.get('ks_one');
      assert.deepEqual(loaded, { ...record('ks_one', { status: 'starting', rolloutId: 'ro_y' }), steps: {}, version: 4, createdAt: T0, updatedAt: T0 + 6 });
    });

    test('sweep candidates and the stuck list', async () => {
      const at = T0 + 1_000_000;
      await store.rollouts.create(rollout('ro_s1', { status: 'running' }), [target('ro_s1', 'ks_s_progress_old', 'auditing')]);
      await store.rollouts.create(rollout('ro_s2', { status: 'running' }), [target('ro_s2', 'ks_s_progress_new', 'uploaded')]);
      await store.rollouts.create(rollout('ro_s3', { status: 'completed' }), [target('ro_s3', 'ks_s_failed', 'rejected')]);
      await store.rollouts.create(rollout('ro_s4', { status: 'completed' }), [target('ro_s4', 'ks_s_live', 'released')]);
      await store.rollouts.create(rollout('ro_s5', { status: 'aborted' }), [target('ro_s5', 'ks_s_aborted', 'auditing')]);
      await store.onboardings.save(record('ks_s_blocked', { status: 'blocked' }), null, at);
      await store.onboardings.save(record('ks_s_starting_old'), null, at - 100);
      await store.onboardings.save(record('ks_s_starting_new'), null, at);
      await store.onboardings.save(record('ks_s_progress_old', { status: 'started', rolloutId: 'ro_s1' }), null, at - 100);
      await store.onboardings.save(record('ks_s_progress_new', { status: 'started', rolloutId: 'ro_s2' }), null, at);
      await store.onboardings.save(record('ks_s_failed', { status: 'started', rolloutId: 'ro_s3' }), null, at);
      await store.onboardings.save(record('ks_s_live', { status: 'started', rolloutId: 'ro_s4' }), null, at - 100);
      await store.onboardings.save(record('ks_s_aborted', { status: 'started', rolloutId: 'ro_s5' }), null, at);
      await store.onboardings.save(record('ks_s_uptodate', { status: 'up_to_date' }), null, at - 100);

      const candidates = (await store.onboardings.sweepCandidates(at - 50, 100)).filter((id) => id.startsWith('ks_s_')).sort();
      assert.deepEqual(candidates, ['ks_s_blocked', 'ks_s_starting_old']);

      const expected = ['ks_s_aborted', 'ks_s_blocked', 'ks_s_failed', 'ks_s_progress_old', 'ks_s_starting_old'];
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.onboardings.stuck({ since: at - 50, limit: 2, ...(cursor ? { cursor } : {}) });
        seen.push(...page.items);
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      assert.deepEqual(seen.filter((id) => id.startsWith('ks_s_')), expected);
    });
  });
}
