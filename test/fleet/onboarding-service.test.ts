/**
 * OnboardingService's decision on a real store (SQLite in memory) with a stand-in for the rollout engine and
 * the platform's versions: every outcome of consider(), one start out of many concurrent calls, a claim
 * given up on failure and taken over at once, the status view, and the sweep.
 */
import assert from 'node:assert/strict';
import { after, beforeEach, describe, test } from 'node:test';
import type { ChannelInput } from '../../src/fleet/channel-model.ts';
import { ChannelService } from '../../src/fleet/channel-service.ts';
import { FleetError } from '../../src/fleet/errors.ts';
import { SYSTEM_ACTOR } from '../../src/fleet/merchant-service.ts';
import { OnboardingService } from '../../src/fleet/onboarding-service.ts';
import type { Versions } from '../../src/fleet/platform-port.ts';
import type { OneMerchantRolloutInput } from '../../src/fleet/rollout-service.ts';
import type { SqlStore } from '../../src/store/index.ts';
import { dialectTargets } from '../store/dialects.ts';

const SILENT = { debug() {}, info() {}, warn() {}, error() {} };
const CHANNEL: ChannelInput = { templateId: 2, userVersion: '2.0.0', userDesc: 'd', extDefaults: { theme: 'red' }, domainPolicy: { webview: ['https://h5.example.com'] }, autoRelease: true };
const sqlite = dialectTargets()[0]!;

describe('onboarding decisions', () => {
  let store: SqlStore;
  let now: number;
  let started: OneMerchantRolloutInput[];
  let versions: Versions;
  let failVersions: number;
  let startFails: FleetError | undefined;
  let service: OnboardingService;

  const make = (forcedOff = false): OnboardingService => {
    const channelService = new ChannelService({ channels: store.channels, auditLog: store.auditLog, registeredDomains: { server: ['example.com'], webview: ['example.com'] }, logger: SILENT, now: () => now });
    return new OnboardingService({
      channels: store.channels,
      channelService,
      onboardings: store.onboardings,
      merchants: store.merchants,
      rollouts: store.rollouts,
      starter: {
        async startOne(input) {
          if (startFails) throw startFails;
          started.push(input);
          if (await store.rollouts.get(input.id)) return 'exists';
          await store.rollouts.create(
            { id: input.id, kind: 'template', domains: input.domains, origin: 'onboarding', promoteTo: null, extDefaults: input.extDefaults, templateId: input.templateId, userVersion: input.userVersion, userDesc: input.userDesc, status: 'running', autoRelease: input.autoRelease, maxFailureRate: 1, failuresAcknowledged: 0, concurrency: 1, waves: [{ wave: 1, size: 1 }], currentWave: 1, pauseReason: null, createdBy: null, createdAt: now, updatedAt: now, finishedAt: null },
            [{ rolloutId: input.id, appId: input.appId, wave: 1, state: 'pending', attempts: 0, nextRunAt: now, leaseOwner: null, leaseUntil: null, lastErrorCode: null, lastError: null, updatedAt: now, stateClaims: 0, auditPushed: null }],
          );
          return 'created';
        },
        beforeCall: () => Promise.resolve(),
      },
      platform: {
        getVersions: () => {
          if (failVersions-- > 0) return Promise.reject(new FleetError('upstream_unavailable', 'platform_unavailable', 'the platform did not answer'));
          return Promise.resolve(versions);
        },
      },
      auditLog: store.auditLog,
      extFor: (_appId, _templateId, layer) => Promise.resolve({ ext: { ...layer } }),
      logger: SILENT,
      forcedOff,
      now: () => now,
    });
  };

  beforeEach(async () => {
    await store?.close();
    store = await sqlite.open('sqlite::memory:');
    now = 1_800_000_000_000;
    started = [];
    versions = {};
    failVersions = 0;
    startFails = undefined;
    service = make();
  });
  after(async () => {
    await store?.close();
  });

  const authorize = (appId: string, permissions = [1, 2]) => store.merchants.upsertAuthorized(appId, permissions, now);

  test('nothing without a channel, when disabled, or for an unknown or revoked merchant', async () => {
    await authorize('ks_a');
    assert.deepEqual(await service.consider('ks_a', 'authorized'), { outcome: 'nothing', reason: 'no_channel' });
    await store.channels.put('stable', CHANNEL, 0, null, now);
    assert.deepEqual(await service.consider('ks_nobody', 'authorized'), { outcome: 'nothing', reason: 'not_authorized' });
    await store.merchants.markRevoked('ks_a', now);
    assert.deepEqual(await service.consider('ks_a', 'authorized'), { outcome: 'nothing', reason: 'not_authorized' });
    await authorize('ks_a');
    await service.setPolicy(SYSTEM_ACTOR, { enabled: false, channel: 'stable', autoRelease: null });
    assert.deepEqual(await service.consider('ks_a', 'authorized'), { outcome: 'nothing', reason: 'disabled' });
    assert.equal((await service.view((await store.merchants.get('ks_a'))!)).status, 'disabled');
    await service.setPolicy(SYSTEM_ACTOR, { enabled: true, channel: 'stable', autoRelease: null });
    assert.deepEqual(await make(true).consider('ks_a', 'authorized'), { outcome: 'nothing', reason: 'disabled' }, 'KS_ONBOARDING=off wins');
    assert.deepEqual(started, []);
  });

  test('ten concurrent considers (two service instances) start one rollout with the channel’s settings', async () => {
    await store.channels.put('stable', CHANNEL, 0, null, now);
    await authorize('ks_a');
    const other = make();
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? other : service).consider('ks_a', 'authorized')));
    // Calls on one instance coalesce (and re-run once for the pushes that came meanwhile); across instances the CAS decides.
    assert.ok(results.every((r) => r.outcome === 'started' || ['in_progress', 'starting', 'claimed_elsewhere'].includes(r.reason ?? '')), JSON.stringify(results));
    assert.equal(started.length, 1, 'one rollout started');
    assert.deepEqual({ ...started[0], id: 'x' }, { id: 'x', appId: 'ks_a', templateId: 2, userVersion: '2.0.0', userDesc: 'd', autoRelease: true, extDefaults: { theme: 'red' }, domains: { webview: ['https://h5.example.com'] } });
    const view = await service.view((await store.merchants.get('ks_a'))!);
    assert.deepEqual([view.status, view.rolloutId, view.timeline.map((t) => `${t.step}:${t.done}`)], ['in_progress', started[0]!.id, ['authorized:true', 'domains:false', 'uploaded:false', 'auditing:false', 'live:false']]);
    assert.deepEqual(await service.consider('ks_a', 'authorization_updated'), { outcome: 'nothing', reason: 'in_progress' });
  });

  test('missing permissions → blocked with the sets; granted later → started; audit entries once per change', async () => {
    await store.channels.put('stable', CHANNEL, 0, null, now);
    await authorize('ks_a', [1, 3]);
    assert.deepEqual(await service.consider('ks_a', 'authorized'), { outcome: 'blocked', reason: 'missing_permissions' });
    assert.deepEqual(await service.consider('ks_a', 'sweep'), { outcome: 'blocked', reason: 'missing_permissions' });
    const view = await service.view((await store.merchants.get('ks_a'))!);
    assert.deepEqual([view.status, view.missingPermissions], ['blocked', [2]]);
    assert.match(view.reason!, /set 2 \(基本信息/);
    // Without a domain policy only set 1 is needed.
    await store.channels.put('stable', { ...CHANNEL, domainPolicy: null }, undefined, null, now);
    assert.equal((await service.consider('ks_a', 'sweep')).outcome, 'started');
    const actions = (await store.auditLog.list({ appId: 'ks_a', limit: 10 })).items.map((e) => e.action).reverse();
    assert.deepEqual(actions, ['onboarding.blocked', 'onboarding.start']);
  });

  test('already online on the channel’s version → up_to_date, no rollout; a newer channel version → started', async () => {
    await store.channels.put('stable', CHANNEL, 0, null, now);
    await authorize('ks_a');
    versions = { online: { templateId: 2, userVersion: '2.0.0', userDesc: 'd', releasedAt: now, canRollback: false } };
    assert.deepEqual(await service.consider('ks_a', 'authorized'), { outcome: 'up_to_date' });
    assert.equal((await service.view((await store.merchants.get('ks_a'))!)).status, 'live');
    assert.deepEqual(await service.consider('ks_a', 'reauthorization_code'), { outcome: 'nothing', reason: 'live' });
    await store.channels.put('stable', { ...CHANNEL, userVersion: '2.1.0' }, undefined, null, now);
    assert.equal((await service.consider('ks_a', 'reauthorization_code')).outcome, 'started');
    assert.deepEqual(started.map((s) => s.userVersion), ['2.1.0']);
  });

  test('another unfinished rollout → blocked busy; the sweep starts it once that rollout is done', async () => {
    await store.channels.put('stable', CHANNEL, 0, null, now);
    await authorize('ks_a');
    await store.rollouts.create(
      { id: 'ro_op', kind: 'template', domains: null, origin: 'operator', promoteTo: null, extDefaults: null, templateId: 1, userVersion: '1', userDesc: '', status: 'running', autoRelease: true, maxFailureRate: 1, failuresAcknowledged: 0, concurrency: 1, waves: [{ wave: 1, size: 1 }], currentWave: 1, pauseReason: null, createdBy: null, createdAt: now, updatedAt: now, finishedAt: null },
      [{ rolloutId: 'ro_op', appId: 'ks_a', wave: 1, state: 'auditing', attempts: 0, nextRunAt: now, leaseOwner: null, leaseUntil: null, lastErrorCode: null, lastError: null, updatedAt: now, stateClaims: 0, auditPushed: null }],
    );
    assert.deepEqual(await service.consider('ks_a', 'authorized'), { outcome: 'blocked', reason: 'busy' });
    await service.sweep();
    assert.deepEqual(started, []);
    await store.rollouts.transition('ro_op', ['auditing'], 'released', now);
    await service.sweep();
    assert.equal(started.length, 1);
  });

  test('the sweep onboards a recent authorization whose decision was lost; not one from before the channel, too recent, too old or revoked', async () => {
    const HOUR = 3_600_000;
    const authorizeAt = (appId: string, at: number) => store.merchants.upsertAuthorized(appId, [1, 2], at);
    await authorizeAt('ks_before_channel', now - 3 * HOUR);
    await store.channels.put('stable', CHANNEL, 0, null, now - 2 * HOUR);
    await authorizeAt('ks_lost', now - HOUR); // acknowledged, then the process stopped before `consider`
    await authorizeAt('ks_revoked', now - HOUR);
    await store.merchants.markRevoked('ks_revoked', now - HOUR);
    await authorizeAt('ks_just_now', now - 1_000); // its own push's `consider` may still be running
    await store.channels.put('ancient', CHANNEL, 0, null, now - 30 * HOUR);
    await service.setPolicy(SYSTEM_ACTOR, { enabled: true, channel: 'ancient', autoRelease: null });
    await authorizeAt('ks_too_old', now - 25 * HOUR);
    await service.sweep();
    assert.deepEqual(started.map((s) => s.appId), ['ks_before_channel', 'ks_lost'], 'on channel "ancient", both authorized after it existed and within 24 h');

    started = [];
    await store.close();
    store = await sqlite.open('sqlite::memory:');
    service = make();
    await authorizeAt('ks_before_channel', now - 3 * HOUR);
    await store.channels.put('stable', CHANNEL, 0, null, now - 2 * HOUR);
    await authorizeAt('ks_lost', now - HOUR);
    await authorizeAt('ks_just_now', now - 1_000);
    await service.sweep();
    assert.deepEqual(started.map((s) => s.appId), ['ks_lost']);
    await service.sweep();
    assert.deepEqual(started.map((s) => s.appId), ['ks_lost'], 'decided once: it has its row now');
  });

  test('a failure after the claim gives the claim up: the next consider takes it over under the same rollout id', async () => {
    await store.channels.put('stable', CHANNEL, 0, null, now);
    await authorize('ks_a');
    failVersions = 1;
    await assert.rejects(service.consider('ks_a', 'authorized'), /did not answer/);
    const row = await store.onboardings.get('ks_a');
    assert.deepEqual([row?.status, row?.updatedAt], ['starting', 0]);
    assert.match(row!.reason!, /could not start yet/);
    const result = await service.consider('ks_a', 'sweep');
    assert.deepEqual([result.outcome, result.rolloutId], ['started', row!.rolloutId]);

    // A fresh claim by someone else is left alone until it is stale (60 s).
    await authorize('ks_b');
    startFails = new FleetError('upstream_unavailable', 'x', 'database gone');
    await assert.rejects(service.consider('ks_b', 'authorized'));
    startFails = undefined;
    const given = await store.onboardings.get('ks_b');
    await store.onboardings.save({ ...given!, reason: null }, given!.version, now); // as if another instance just claimed it
    assert.deepEqual(await service.consider('ks_b', 'sweep'), { outcome: 'nothing', reason: 'starting' });
    now += 61_000;
    assert.equal((await service.consider('ks_b', 'sweep')).outcome, 'started');
  });

  test('promotions left undone are done by the sweep, once', async () => {
    await store.rollouts.create(
      { id: 'ro_done', kind: 'template', domains: null, origin: 'operator', promoteTo: 'beta', extDefaults: null, templateId: 1, userVersion: '3.0.0', userDesc: 'x', status: 'completed', autoRelease: true, maxFailureRate: 1, failuresAcknowledged: 0, concurrency: 1, waves: [{ wave: 1, size: 1 }], currentWave: 1, pauseReason: null, createdBy: null, createdAt: now, updatedAt: now, finishedAt: now },
      [],
    );
    await service.sweep();
    await service.sweep();
    assert.deepEqual([(await store.channels.get('beta'))?.userVersion, (await store.channels.get('beta'))?.version], ['3.0.0', 1]);
    assert.equal((await store.auditLog.list({ action: 'channel.promote', limit: 10 })).items.length, 1);
  });
});
