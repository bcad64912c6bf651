/**
 * The grouped reads behind /metrics' gauges, on both dialects: merchants and rollouts by status, targets
 * of the rollouts in given statuses by state, onboardings by the status their page shows plus the stuck
 * ones (the same set `stuck` lists), and the component credentials' expiry read without their values.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { OnboardingRecord } from '../../src/fleet/channel-model.ts';
import type { Rollout, RolloutStatus, RolloutTarget, TargetState } from '../../src/fleet/rollout-model.ts';
import { credentialKeys } from '../../src/kuaishou/index.ts';
import { openStore, type SqlStore } from '../../src/store/index.ts';
import { TEST_SECRET_KEY, dialectTargets } from './dialects.ts';

const T0 = 1_800_000_000_000;
const COMPONENT = 'tp_counts';

function rollout(id: string, status: RolloutStatus): Rollout {
  return {
    id, kind: 'template', domains: null, origin: 'operator', promoteTo: null, extDefaults: null, templateId: 2, userVersion: '2.0.0', userDesc: 'second', status,
    autoRelease: true, maxFailureRate: 1, failuresAcknowledged: 0, concurrency: 1, waves: [{ wave: 1, size: 1 }], currentWave: 1,
    pauseReason: null, createdBy: null, createdAt: T0, updatedAt: T0, finishedAt: null,
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

async function stuckIds(store: SqlStore, since: number): Promise<string[]> {
  return (await store.onboardings.stuck({ since, limit: 1000 })).items;
}

for (const dialect of dialectTargets()) {
  describe(`grouped counts for /metrics on ${dialect.name}`, { skip: dialect.skip }, () => {
    let store: SqlStore;
    before(async () => {
      store = await openStore({ url: dialect.fresh().url, secretKey: TEST_SECRET_KEY, componentAppId: COMPONENT });
    });
    after(async () => {
      await store.close();
      await dialect.cleanup();
    });

    test('empty: nothing counted, no credential', async () => {
      assert.deepEqual(await store.merchants.countByStatus(), {});
      assert.deepEqual(await store.rollouts.countByStatus(), {});
      assert.deepEqual(await store.rollouts.countTargetsByState(['running', 'paused']), {});
      assert.deepEqual(await store.onboardings.countByStatus(T0), { byStatus: {}, stuck: 0 });
      assert.deepEqual(await store.credentialExpiries.componentExpiries(), { ticket: undefined, componentToken: undefined });
    });

    test('merchants by status', async () => {
      for (const appId of ['ks_m1', 'ks_m2', 'ks_m3']) await store.merchants.upsertAuthorized(appId, [1], T0);
      await store.merchants.markRevoked('ks_m3', T0 + 1);
      assert.deepEqual(await store.merchants.countByStatus(), { authorized: 2, revoked: 1 });
    });

    test('rollouts by status; targets of the rollouts in the statuses asked for, by state', async () => {
      await store.rollouts.create(rollout('ro_c1', 'running'), [target('ro_c1', 'ks_a', 'pending'), target('ro_c1', 'ks_b', 'auditing'), target('ro_c1', 'ks_c', 'auditing')]);
      await store.rollouts.create(rollout('ro_c2', 'paused'), [target('ro_c2', 'ks_d', 'failed'), target('ro_c2', 'ks_e', 'released')]);
      await store.rollouts.create(rollout('ro_c3', 'completed'), [target('ro_c3', 'ks_f', 'released')]);
      await store.rollouts.create(rollout('ro_c4', 'completed'), [target('ro_c4', 'ks_g', 'rejected')]);
      assert.deepEqual(await store.rollouts.countByStatus(), { running: 1, paused: 1, completed: 2 });
      assert.deepEqual(await store.rollouts.countTargetsByState(['running', 'paused']), { pending: 1, auditing: 2, failed: 1, released: 1 });
      assert.deepEqual(await store.rollouts.countTargetsByState(['running']), { pending: 1, auditing: 2 });
      assert.deepEqual(await store.rollouts.countTargetsByState(['completed']), { released: 1, rejected: 1 });
      assert.deepEqual(await store.rollouts.countTargetsByState([]), {});
    });

    test('onboardings by the status their page shows, and stuck: the very set the stuck list returns', async () => {
      const at = T0 + 1_000_000;
      await store.rollouts.create(rollout('ro_o1', 'running'), [target('ro_o1', 'ks_o_progress_old', 'auditing')]);
      await store.rollouts.create(rollout('ro_o2', 'running'), [target('ro_o2', 'ks_o_progress_new', 'uploaded')]);
      await store.rollouts.create(rollout('ro_o3', 'completed'), [target('ro_o3', 'ks_o_failed', 'rejected')]);
      await store.rollouts.create(rollout('ro_o4', 'completed'), [target('ro_o4', 'ks_o_live', 'released')]);
      await store.rollouts.create(rollout('ro_o5', 'aborted'), [target('ro_o5', 'ks_o_aborted', 'auditing')]);
      await store.onboardings.save(record('ks_o_blocked', { status: 'blocked' }), null, at);
      await store.onboardings.save(record('ks_o_starting_old'), null, at - 100);
      await store.onboardings.save(record('ks_o_starting_new'), null, at);
      await store.onboardings.save(record('ks_o_progress_old', { status: 'started', rolloutId: 'ro_o1' }), null, at - 100);
      await store.onboardings.save(record('ks_o_progress_new', { status: 'started', rolloutId: 'ro_o2' }), null, at);
      await store.onboardings.save(record('ks_o_failed', { status: 'started', rolloutId: 'ro_o3' }), null, at);
      await store.onboardings.save(record('ks_o_live', { status: 'started', rolloutId: 'ro_o4' }), null, at - 100);
      await store.onboardings.save(record('ks_o_aborted', { status: 'started', rolloutId: 'ro_o5' }), null, at);
      await store.onboardings.save(record('ks_o_uptodate', { status: 'up_to_date' }), null, at - 100);
      // Started, its rollout not (yet) readable: in progress, as the page shows it.
      await store.onboardings.save(record('ks_o_no_rollout', { status: 'started', rolloutId: 'ro_missing' }), null, at);

      const since = at - 50;
      const counts = await store.onboardings.countByStatus(since);
      assert.deepEqual(counts.byStatus, { blocked: 1, starting: 2, in_progress: 3, live: 2, failed: 2 });
      const stuck = await stuckIds(store, since);
      assert.deepEqual(stuck, ['ks_o_aborted', 'ks_o_blocked', 'ks_o_failed', 'ks_o_progress_old', 'ks_o_starting_old']);
      assert.equal(counts.stuck, stuck.length);
      // Later: everything starting or in progress has been so for too long.
      const later = await store.onboardings.countByStatus(at + 1);
      assert.equal(later.stuck, (await stuckIds(store, at + 1)).length);
      assert.equal(later.stuck, 7);
    });

    test('component credentials: their expiry times only, never their sealed values', async () => {
      const ticketKey = credentialKeys.ticket(COMPONENT);
      const tokenKey = credentialKeys.componentToken(COMPONENT);
      assert.ok(await store.tokenStore.compareAndSet(ticketKey, undefined, { value: 'ticket-secret', expiresAt: T0 + 2_400_000 }));
      assert.deepEqual(await store.credentialExpiries.componentExpiries(), { ticket: T0 + 2_400_000, componentToken: undefined });
      assert.ok(await store.tokenStore.compareAndSet(tokenKey, undefined, { value: 'token-secret', expiresAt: 0 }));
      // Another component's credentials and a merchant's are not this component's.
      assert.ok(await store.tokenStore.compareAndSet(credentialKeys.ticket('tp_other'), undefined, { value: 'x', expiresAt: T0 }));
      assert.ok(await store.tokenStore.compareAndSet(credentialKeys.authorizer(COMPONENT, 'ks_m1'), undefined, { value: 'y', expiresAt: T0 + 1 }));
      // Sealed values that could not be opened do not matter: they are not read.
      await sql`update credentials set value_enc = 'not a sealed value'`.execute(store.database.db);
      assert.deepEqual(await store.credentialExpiries.componentExpiries(), { ticket: T0 + 2_400_000, componentToken: 0 });
      await assert.rejects(store.tokenStore.get(ticketKey), 'the values themselves no longer open');
    });
  });
}
