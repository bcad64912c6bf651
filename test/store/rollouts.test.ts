import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FleetError } from '../../src/fleet/errors.ts';
import { emptyCounts, TARGET_STATES, type Rollout, type RolloutTarget, type TargetState } from '../../src/fleet/rollout-model.ts';
import type { ClaimRequest } from '../../src/fleet/rollout-ports.ts';
import type { SqlStore } from '../../src/store/index.ts';
import { sortableId } from '../../src/store/sortable-id.ts';
import { dialectTargets } from './dialects.ts';

const T0 = 1_800_000_000_000;

function makeRollout(overrides: Partial<Rollout> = {}): Rollout {
  return {
    id: sortableId(T0),
    kind: 'template',
    domains: null,
    templateId: 4_000_000_001, // past 2^31
    userVersion: '1.2.3',
    userDesc: 'the better template',
    status: 'running',
    autoRelease: true,
    maxFailureRate: 0.1,
    failuresAcknowledged: 0,
    concurrency: 5,
    waves: [{ wave: 1, size: 2 }],
    currentWave: 1,
    pauseReason: null,
    createdBy: 'key_admin',
    createdAt: T0,
    updatedAt: T0,
    finishedAt: null,
    origin: 'operator',
    promoteTo: null,
    extDefaults: null,
    ...overrides,
  } as Rollout;
}

function makeTarget(rolloutId: string, appId: string, overrides: Partial<RolloutTarget> = {}): RolloutTarget {
  return {
    rolloutId,
    appId,
    wave: 1,
    state: 'pending',
    attempts: 0,
    nextRunAt: T0,
    leaseOwner: null,
    leaseUntil: null,
    lastErrorCode: null,
    lastError: null,
    updatedAt: T0,
    stateClaims: 0,
    auditPushed: null,
    ...overrides,
  };
}

/** A rollout with `count` pending targets ks_0000… split into `waveSize`-sized waves, due at T0. */
async function seed(store: SqlStore, count: number, options: { waveSize?: number; rollout?: Partial<Rollout> } = {}): Promise<Rollout> {
  const waveSize = options.waveSize ?? count;
  const waves = Array.from({ length: Math.ceil(count / waveSize) }, (_, i) => ({ wave: i + 1, size: Math.min(waveSize, count - i * waveSize) }));
  const rollout = makeRollout({ waves, ...options.rollout });
  const targets = Array.from({ length: count }, (_, i) => makeTarget(rollout.id, appId(i), { wave: Math.floor(i / waveSize) + 1 }));
  await store.rollouts.create(rollout, targets);
  return rollout;
}

const appId = (i: number): string => `ks_${String(i).padStart(4, '0')}`;

function claimOf(rollout: Rollout, overrides: Partial<ClaimRequest> = {}): ClaimRequest {
  return { rolloutId: rollout.id, wave: 0, states: ['pending'], now: T0, owner: 'owner-a', leaseMs: 60_000, limit: 100, maxInFlight: 100, ...overrides };
}

async function allTargets(store: SqlStore, rolloutId: string): Promise<RolloutTarget[]> {
  return (await store.rollouts.targets({ rolloutId, limit: 100_000 })).items;
}

async function liveLeases(store: SqlStore, rolloutId: string, now: number): Promise<number> {
  return (await allTargets(store, rolloutId)).filter((t) => t.leaseUntil !== null && t.leaseUntil > now).length;
}

const isInvalidCursor = (error: unknown): boolean => error instanceof FleetError && error.type === 'invalid_data' && error.code === 'invalid_cursor';

for (const target of dialectTargets()) {
  describe(`rollouts on ${target.name}`, { skip: target.skip }, () => {
    let url: string;
    let store: SqlStore;
    before(async () => {
      url = target.fresh().url;
      store = await target.open(url);
    });
    after(async () => {
      await store.close();
      await target.cleanup();
    });

    test('create stores the rollout and its targets; get maps every field back', async () => {
      const rollout = makeRollout({ waves: [{ wave: 1, size: 1 }, { wave: 2, size: 1 }], autoRelease: false, createdBy: null, maxFailureRate: 0.3 });
      const targets = [makeTarget(rollout.id, 'ks_a'), makeTarget(rollout.id, 'ks_b', { wave: 2, attempts: 2, lastErrorCode: 'E1', lastError: 'boom', nextRunAt: 4_102_444_800_000 })];
      await store.rollouts.create(rollout, targets);
      assert.deepEqual(await store.rollouts.get(rollout.id), rollout);
      assert.deepEqual(await allTargets(store, rollout.id), targets);
      assert.equal(await store.rollouts.get('no-such-rollout'), undefined);
      const again = makeRollout({ status: 'paused', pauseReason: 'by hand', finishedAt: T0 + 5, autoRelease: true });
      await store.rollouts.create(again, []);
      assert.deepEqual(await store.rollouts.get(again.id), again);
    });

    test('create is one transaction: a bad target leaves no rollout behind', async () => {
      const rollout = makeRollout();
      await assert.rejects(store.rollouts.create(rollout, [makeTarget(rollout.id, 'ks_dup'), makeTarget(rollout.id, 'ks_dup')]));
      assert.equal(await store.rollouts.get(rollout.id), undefined);
      assert.deepEqual(await allTargets(store, rollout.id), []);
      await assert.rejects(store.rollouts.create(rollout, [makeTarget('another-rollout', 'ks_x')]), /belongs to rollout/);
    });

    test('create joins an open store transaction and rolls back with it', async () => {
      const rollout = makeRollout();
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.rollouts.create(rollout, [makeTarget(rollout.id, 'ks_tx')]);
          assert.ok(await tx.rollouts.get(rollout.id));
          throw new Error('abandon');
        }),
        /abandon/,
      );
      assert.equal(await store.rollouts.get(rollout.id), undefined);
    });

    test('10,000 targets are created in well under 5 s', async () => {
      const started = performance.now();
      const rollout = await seed(store, 10_000, { waveSize: 2_500 });
      const elapsed = performance.now() - started;
      assert.ok(elapsed < 5_000, `took ${elapsed.toFixed(0)} ms`);
      const progress = await store.rollouts.progress(rollout.id);
      assert.equal(progress.total, 10_000);
      assert.equal(progress.byState.pending, 10_000);
      assert.deepEqual(progress.byWave.map((w) => [w.wave, w.size, w.byState.pending]), [[1, 2_500, 2_500], [2, 2_500, 2_500], [3, 2_500, 2_500], [4, 2_500, 2_500]]);
    });

    test('list: newest first, paged, filtered by status; a bad cursor is invalid_cursor', async () => {
      const fresh = await target.open(target.fresh().url);
      try {
        const ids: string[] = [];
        for (let i = 0; i < 13; i++) {
          const rollout = makeRollout({ id: sortableId(T0 + i), status: i % 3 === 0 ? 'completed' : 'running' });
          await fresh.rollouts.create(rollout, []);
          ids.push(rollout.id);
        }
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await fresh.rollouts.list({ limit: 4, ...(cursor !== undefined && { cursor }) });
          assert.ok(page.items.length <= 4);
          seen.push(...page.items.map((r) => r.id));
          cursor = page.nextCursor ?? undefined;
        } while (cursor !== undefined);
        assert.deepEqual(seen, [...ids].reverse());

        const completed = await fresh.rollouts.list({ status: 'completed', limit: 10 });
        assert.deepEqual(completed.items.map((r) => r.id), ids.filter((_, i) => i % 3 === 0).reverse());
        assert.equal(completed.nextCursor, null);
        assert.ok(completed.items.every((r) => r.status === 'completed'));

        await assert.rejects(fresh.rollouts.list({ limit: 5, cursor: 'not-a-cursor' }), isInvalidCursor);
        await assert.rejects(fresh.rollouts.list({ limit: 5, cursor: Buffer.from('[1]').toString('base64url') }), isInvalidCursor);
      } finally {
        await fresh.close();
      }
    });

    test('active lists running and rolling-back rollouts; update patches only the given fields', async () => {
      const fresh = await target.open(target.fresh().url);
      try {
        const byStatus = new Map<string, Rollout>();
        for (const status of ['running', 'paused', 'completed', 'aborted', 'rolling_back', 'rolled_back'] as const) {
          const rollout = makeRollout({ id: sortableId(T0), status });
          byStatus.set(status, rollout);
          await fresh.rollouts.create(rollout, []);
        }
        assert.deepEqual((await fresh.rollouts.active()).map((r) => r.status), ['running', 'rolling_back']);

        const running = byStatus.get('running')!;
        await fresh.rollouts.update(running.id, { status: 'paused', pauseReason: 'failure rate', currentWave: 2 }, T0 + 10);
        assert.deepEqual(await fresh.rollouts.get(running.id), { ...running, status: 'paused', pauseReason: 'failure rate', currentWave: 2, updatedAt: T0 + 10 });
        await fresh.rollouts.update(running.id, { status: 'running', pauseReason: null, autoRelease: false }, T0 + 20);
        assert.deepEqual(await fresh.rollouts.get(running.id), { ...running, currentWave: 2, autoRelease: false, updatedAt: T0 + 20 });
        await fresh.rollouts.update(running.id, { status: 'completed', finishedAt: T0 + 30 }, T0 + 30);
        assert.deepEqual(await fresh.rollouts.get(running.id), { ...running, status: 'completed', currentWave: 2, autoRelease: false, finishedAt: T0 + 30, updatedAt: T0 + 30 });
        assert.deepEqual((await fresh.rollouts.active()).map((r) => r.status), ['rolling_back']);
      } finally {
        await fresh.close();
      }
    });

    test('progress: counts per state and per wave, every state present, waves in plan order with plan sizes', async () => {
      const rollout = makeRollout({ waves: [{ wave: 1, size: 3 }, { wave: 2, size: 4 }, { wave: 3, size: 2 }] });
      const states: [number, TargetState][] = [
        [1, 'released'],
        [1, 'released'],
        [1, 'failed'],
        [2, 'auditing'],
        [2, 'pending'],
        [2, 'pending'],
        [2, 'rejected'],
        [3, 'pending'],
        [3, 'pending'],
      ];
      await store.rollouts.create(rollout, states.map(([wave, state], i) => makeTarget(rollout.id, appId(i), { wave, state })));
      const progress = await store.rollouts.progress(rollout.id);
      assert.equal(progress.total, 9);
      assert.deepEqual(progress.byState, { ...emptyCounts(), released: 2, failed: 1, auditing: 1, pending: 4, rejected: 1 });
      assert.deepEqual(Object.keys(progress.byState).sort(), [...TARGET_STATES].sort());
      assert.deepEqual(progress.byWave, [
        { wave: 1, size: 3, byState: { ...emptyCounts(), released: 2, failed: 1 } },
        { wave: 2, size: 4, byState: { ...emptyCounts(), auditing: 1, pending: 2, rejected: 1 } },
        { wave: 3, size: 2, byState: { ...emptyCounts(), pending: 2 } },
      ]);
      for (const number of [1, 2, 3]) assert.equal(progress.byWave.find((w) => w.wave === number)?.byState.skipped, 0);

      const empty = makeRollout({ waves: [] });
      await store.rollouts.create(empty, []);
      assert.deepEqual(await store.rollouts.progress(empty.id), { total: 0, byState: emptyCounts(), byWave: [] });
      assert.deepEqual(await store.rollouts.progress('no-such-rollout'), { total: 0, byState: emptyCounts(), byWave: [] });
    });

    test('claim: due targets only, in nextRunAt then appId order, up to limit, leased to the owner', async () => {
      const rollout = makeRollout({ waves: [{ wave: 1, size: 5 }] });
      await store.rollouts.create(rollout, [
        makeTarget(rollout.id, 'ks_e', { nextRunAt: T0 - 10 }),
        makeTarget(rollout.id, 'ks_d', { nextRunAt: T0 - 10 }),
        makeTarget(rollout.id, 'ks_c', { nextRunAt: T0 }),
        makeTarget(rollout.id, 'ks_a', { nextRunAt: T0 + 1 }),
        makeTarget(rollout.id, 'ks_b', { nextRunAt: T0 - 20 }),
      ]);
      const first = await store.rollouts.claim(claimOf(rollout, { limit: 2, leaseMs: 1_000 }));
      assert.deepEqual(first.map((t) => t.appId), ['ks_b', 'ks_d']);
      assert.ok(first.every((t) => t.leaseOwner === 'owner-a' && t.leaseUntil === T0 + 1_000));
      const second = await store.rollouts.claim(claimOf(rollout, { owner: 'owner-b' }));
      assert.deepEqual(second.map((t) => t.appId), ['ks_e', 'ks_c'], 'ks_a is not due; ks_b and ks_d are leased');
      assert.deepEqual(await store.rollouts.claim(claimOf(rollout, { owner: 'owner-c' })), []);
      assert.deepEqual((await store.rollouts.claim(claimOf(rollout, { owner: 'owner-c', now: T0 + 1 }))).map((t) => t.appId), ['ks_a']);
      assert.deepEqual(await store.rollouts.claim(claimOf(rollout, { limit: 0 })), []);
      assert.deepEqual(await store.rollouts.claim(claimOf(rollout, { states: [] })), []);
    });

    test('claim: filters by state and by wave (0 = any wave), never crosses rollouts', async () => {
      const rollout = makeRollout({ waves: [{ wave: 1, size: 3 }, { wave: 2, size: 3 }] });
      const other = makeRollout();
      await store.rollouts.create(rollout, [
        makeTarget(rollout.id, 'ks_1p', { wave: 1, state: 'pending' }),
        makeTarget(rollout.id, 'ks_1u', { wave: 1, state: 'uploaded' }),
        makeTarget(rollout.id, 'ks_1r', { wave: 1, state: 'released' }),
        makeTarget(rollout.id, 'ks_2p', { wave: 2, state: 'pending' }),
        makeTarget(rollout.id, 'ks_2u', { wave: 2, state: 'uploaded' }),
        makeTarget(rollout.id, 'ks_2r', { wave: 2, state: 'released' }),
      ]);
      await store.rollouts.create(other, [makeTarget(other.id, 'ks_1p'), makeTarget(other.id, 'ks_other', { state: 'released' })]);
      const ids = (claimed: RolloutTarget[]): string[] => claimed.map((t) => t.appId).sort();
      assert.deepEqual(ids(await store.rollouts.claim(claimOf(rollout, { wave: 1, states: ['pending', 'uploaded'] }))), ['ks_1p', 'ks_1u']);
      assert.deepEqual(ids(await store.rollouts.claim(claimOf(rollout, { wave: 0, states: ['released'] }))), ['ks_1r', 'ks_2r']);
      assert.deepEqual(ids(await store.rollouts.claim(claimOf(rollout, { wave: 2, states: ['pending', 'uploaded', 'released'] }))), ['ks_2p', 'ks_2u']);
      assert.deepEqual(ids(await store.rollouts.claim(claimOf(other, { states: ['pending'] }))), ['ks_1p']);
      assert.equal((await allTargets(store, other.id)).find((t) => t.appId === 'ks_other')?.leaseOwner, null);
    });

    test('claim: an expired lease is claimable again and fences its old owner out; a live one is not', async () => {
      const rollout = await seed(store, 3);
      const held = await store.rollouts.claim(claimOf(rollout, { leaseMs: 1_000, owner: 'crashed' }));
      assert.equal(held.length, 3);
      assert.deepEqual(await store.rollouts.claim(claimOf(rollout, { now: T0 + 999, owner: 'owner-b' })), [], 'leases live until leaseUntil');
      const taken = await store.rollouts.claim(claimOf(rollout, { now: T0 + 1_000, owner: 'owner-b', limit: 2 }));
      assert.deepEqual(taken.map((t) => [t.appId, t.leaseOwner, t.leaseUntil]), [[appId(0), 'owner-b', T0 + 61_000], [appId(1), 'owner-b', T0 + 61_000]]);
      assert.equal(await store.rollouts.finishStep(rollout.id, appId(0), 'crashed', { state: 'uploaded' }, T0 + 2_000), false);
      assert.equal(await store.rollouts.finishStep(rollout.id, appId(2), 'crashed', { state: 'uploaded' }, T0 + 2_000), true, 'nobody took it: still its owner');
      assert.equal(await store.rollouts.finishStep(rollout.id, appId(0), 'owner-b', { state: 'uploaded' }, T0 + 2_000), true);
    });

    test('claim: live leases of the rollout (any wave, state or owner) count against maxInFlight', async () => {
      const rollout = await seed(store, 20, { waveSize: 10 });
      const a = await store.rollouts.claim(claimOf(rollout, { wave: 2, limit: 3, maxInFlight: 5, owner: 'a' }));
      assert.equal(a.length, 3);
      const b = await store.rollouts.claim(claimOf(rollout, { wave: 1, limit: 10, maxInFlight: 5, owner: 'b' }));
      assert.equal(b.length, 2, '5 - 3 live');
      assert.deepEqual(await store.rollouts.claim(claimOf(rollout, { wave: 1, maxInFlight: 5, owner: 'c' })), []);
      assert.deepEqual(await store.rollouts.claim(claimOf(rollout, { wave: 1, maxInFlight: 4, owner: 'c' })), [], 'over the cap already');
      assert.deepEqual(await store.rollouts.claim(claimOf(rollout, { maxInFlight: 0 })), []);

      assert.equal(await store.rollouts.finishStep(rollout.id, b[0]!.appId, 'b', { state: 'uploaded', nextRunAt: T0 }, T0), true);
      const c = await store.rollouts.claim(claimOf(rollout, { states: ['pending', 'uploaded'], maxInFlight: 5, owner: 'c' }));
      assert.equal(c.length, 1, 'a finished step frees its slot');
      assert.equal(await liveLeases(store, rollout.id, T0), 5);

      const later = T0 + 60_000; // every lease so far has expired
      const d = await store.rollouts.claim(claimOf(rollout, { now: later, limit: 7, maxInFlight: 5, owner: 'd' }));
      assert.equal(d.length, 5, 'expired leases do not count');
      assert.equal(await liveLeases(store, rollout.id, later), 5);
    });

    test('finishStep: applies the update and clears the lease for its owner only', async () => {
      const rollout = await seed(store, 2);
      await store.rollouts.claim(claimOf(rollout, { owner: 'worker-1' }));
      const before = await allTargets(store, rollout.id);

      assert.equal(await store.rollouts.finishStep(rollout.id, appId(0), 'worker-2', { state: 'failed', attempts: 9 }, T0 + 5), false);
      assert.equal(await store.rollouts.finishStep(rollout.id, 'ks_unknown', 'worker-1', { state: 'failed' }, T0 + 5), false);
      assert.deepEqual(await allTargets(store, rollout.id), before, 'nothing changed');

      const update = { state: 'uploaded', attempts: 1, nextRunAt: T0 + 100, lastErrorCode: 'E42', lastError: 'rate limited' } as const;
      assert.equal(await store.rollouts.finishStep(rollout.id, appId(0), 'worker-1', update, T0 + 5), true);
      assert.deepEqual((await allTargets(store, rollout.id))[0], {
        ...makeTarget(rollout.id, appId(0)),
        ...update,
        leaseOwner: null,
        leaseUntil: null,
        updatedAt: T0 + 5,
      });
      assert.equal(await store.rollouts.finishStep(rollout.id, appId(0), 'worker-1', { state: 'released' }, T0 + 6), false, 'the lease is gone');

      // An empty update only releases the lease; null clears the last error.
      assert.equal(await store.rollouts.finishStep(rollout.id, appId(1), 'worker-1', {}, T0 + 7), true);
      const [, second] = await allTargets(store, rollout.id);
      assert.deepEqual(second, { ...makeTarget(rollout.id, appId(1)), updatedAt: T0 + 7, stateClaims: 1 }, 'still in its state: the claim counts');
      await store.rollouts.claim(claimOf(rollout, { owner: 'worker-3', now: T0 + 100, states: ['uploaded'] }));
      assert.equal(await store.rollouts.finishStep(rollout.id, appId(0), 'worker-3', { lastErrorCode: null, lastError: null }, T0 + 101), true);
      assert.deepEqual((await allTargets(store, rollout.id))[0], { ...makeTarget(rollout.id, appId(0)), ...update, lastErrorCode: null, lastError: null, updatedAt: T0 + 101, stateClaims: 1 });
    });

    test('stateClaims: each claim adds one, a change of state starts again at 0; a passing audit push is remembered until then', async () => {
      const rollout = await seed(store, 1);
      const claimState = async (owner: string, now: number, states: TargetState[]): Promise<number | undefined> =>
        (await store.rollouts.claim(claimOf(rollout, { owner, now, states })))[0]?.stateClaims;
      assert.equal(await claimState('a', T0, ['pending']), 1, 'the first claim in pending');
      // The lease expires (its holder died): the next claim knows it is not the first.
      assert.equal(await claimState('b', T0 + 60_001, ['pending']), 2);
      assert.equal(await store.rollouts.finishStep(rollout.id, appId(0), 'b', { nextRunAt: T0 + 60_001 }, T0 + 60_001), true);
      assert.equal(await claimState('c', T0 + 60_002, ['pending']), 3, 'a retry in the same state');
      assert.equal(await store.rollouts.finishStep(rollout.id, appId(0), 'c', { state: 'auditing', nextRunAt: T0 + 60_002 }, T0 + 60_002), true);
      assert.equal((await allTargets(store, rollout.id))[0]!.stateClaims, 0, 'a new state');

      assert.ok((await store.rollouts.wakeMany([{ appId: appId(0), passedVersion: '9.9.9' }], 'auditing', T0 + 60_003)) >= 1);
      assert.equal((await allTargets(store, rollout.id))[0]!.auditPushed, null, 'a push for another version is not ours');
      assert.ok((await store.rollouts.wakeMany([{ appId: appId(0), passedVersion: rollout.userVersion! }], 'auditing', T0 + 60_003)) >= 1);
      const woken = (await store.rollouts.claim(claimOf(rollout, { owner: 'd', now: T0 + 60_003, states: ['auditing'] })))[0];
      assert.equal(woken?.stateClaims, 1);
      assert.equal(woken?.auditPushed, rollout.userVersion);
      assert.equal(await store.rollouts.finishStep(rollout.id, appId(0), 'd', { state: 'released' }, T0 + 60_004), true);
      assert.deepEqual(
        (({ state, stateClaims, auditPushed }) => ({ state, stateClaims, auditPushed }))((await allTargets(store, rollout.id))[0]!),
        { state: 'released', stateClaims: 0, auditPushed: null },
      );
    });

    test('claim leases `limit` targets of many, and the database holds exactly those leases', async () => {
      const rollout = await seed(store, 60);
      const claimed = await store.rollouts.claim(claimOf(rollout, { wave: 1, limit: 5, maxInFlight: 5, states: ['pending', 'uploaded', 'auditing', 'audit_passed'] }));
      assert.deepEqual(claimed.map((t) => t.appId), [0, 1, 2, 3, 4].map(appId));
      assert.equal(await liveLeases(store, rollout.id, T0), 5);
    });

    test('a passing audit push that overtakes the step that submitted is kept, and the target is due at once', async () => {
      const rollout = await seed(store, 2);
      await store.rollouts.claim(claimOf(rollout, { owner: 'w', limit: 1 })); // ks_0000 in flight, ks_0001 not started
      // (Other suites' rollouts here share the app ids: look at this rollout's targets, not the counts.)
      await store.rollouts.wakeMany([{ appId: appId(0), passedVersion: rollout.userVersion! }], ['pending', 'uploaded', 'auditing'], T0 + 10);
      await store.rollouts.wakeMany([{ appId: appId(1), passedVersion: rollout.userVersion! }], ['pending', 'uploaded', 'auditing'], T0 + 10);
      const [inFlight, idle] = await allTargets(store, rollout.id);
      assert.equal(inFlight!.auditPushed, rollout.userVersion);
      assert.equal(idle!.auditPushed, null, 'nobody submitted for a target not started');
      assert.equal(await store.rollouts.finishStep(rollout.id, appId(0), 'w', { state: 'auditing', nextRunAt: T0 + 30_000 }, T0 + 20), true);
      const after = (await allTargets(store, rollout.id))[0]!;
      assert.deepEqual([after.state, after.nextRunAt, after.auditPushed, after.stateClaims], ['auditing', T0 + 20, rollout.userVersion, 0]);
    });

    test('update with ifStatus is a compare-and-set on the status', async () => {
      const rollout = await seed(store, 1);
      assert.equal(await store.rollouts.update(rollout.id, { status: 'aborted', finishedAt: T0 + 1 }, T0 + 1, 'running'), true);
      assert.equal(await store.rollouts.update(rollout.id, { status: 'paused', pauseReason: 'brake' }, T0 + 2, 'running'), false, 'no longer running');
      const stored = await store.rollouts.get(rollout.id);
      assert.equal(stored?.status, 'aborted');
      assert.equal(stored?.pauseReason, null);
      assert.equal(stored?.updatedAt, T0 + 1);
      assert.equal(await store.rollouts.update('ro_unknown', { status: 'paused' }, T0 + 3, 'running'), false);
      assert.equal(await store.rollouts.update(rollout.id, { currentWave: 2 }, T0 + 4), true, 'without ifStatus: unconditional');
    });

    test('transition moves the given states only, clears their leases and fences their holders', async () => {
      const rollout = makeRollout();
      await store.rollouts.create(rollout, [
        makeTarget(rollout.id, 'ks_p1'),
        makeTarget(rollout.id, 'ks_p2'),
        makeTarget(rollout.id, 'ks_u', { state: 'uploaded' }),
        makeTarget(rollout.id, 'ks_r', { state: 'released' }),
      ]);
      const [leased] = await store.rollouts.claim(claimOf(rollout, { limit: 1, owner: 'w' }));
      assert.equal(leased?.appId, 'ks_p1');
      assert.equal(await store.rollouts.transition(rollout.id, ['pending', 'uploaded'], 'skipped', T0 + 9), 3);
      const after = await allTargets(store, rollout.id);
      assert.deepEqual(after.map((t) => [t.appId, t.state, t.leaseOwner, t.leaseUntil, t.updatedAt]), [
        ['ks_p1', 'skipped', null, null, T0 + 9],
        ['ks_p2', 'skipped', null, null, T0 + 9],
        ['ks_r', 'released', null, null, T0],
        ['ks_u', 'skipped', null, null, T0 + 9],
      ]);
      assert.equal(await store.rollouts.finishStep(rollout.id, 'ks_p1', 'w', { state: 'uploaded' }, T0 + 10), false);
      assert.equal(await store.rollouts.transition(rollout.id, ['pending'], 'skipped', T0 + 11), 0);
      assert.equal(await store.rollouts.transition(rollout.id, [], 'skipped', T0 + 11), 0);
    });

    test('wakeMany of one app makes its targets in a state due, in running rollouts only', async () => {
      const running = makeRollout({ status: 'running' });
      const paused = makeRollout({ status: 'paused' });
      const later = T0 + 3_600_000;
      await store.rollouts.create(running, [
        makeTarget(running.id, 'ks_woken', { state: 'auditing', nextRunAt: later }),
        makeTarget(running.id, 'ks_other_app', { state: 'auditing', nextRunAt: later }),
        makeTarget(running.id, 'ks_woken_2', { state: 'uploaded', nextRunAt: later }),
      ]);
      await store.rollouts.create(paused, [makeTarget(paused.id, 'ks_woken', { state: 'auditing', nextRunAt: later })]);
      assert.equal(await store.rollouts.wakeMany([{ appId: 'ks_woken' }], 'auditing', T0 + 5), 1);
      const nextRunAt = async (rolloutId: string, app: string): Promise<number | undefined> =>
        (await allTargets(store, rolloutId)).find((t) => t.appId === app)?.nextRunAt;
      assert.equal(await nextRunAt(running.id, 'ks_woken'), T0 + 5);
      assert.equal(await nextRunAt(running.id, 'ks_other_app'), later);
      assert.equal(await nextRunAt(running.id, 'ks_woken_2'), later);
      assert.equal(await nextRunAt(paused.id, 'ks_woken'), later, 'paused rollouts are left alone');
      assert.equal(await store.rollouts.wakeMany([{ appId: 'ks_woken' }], 'audit_passed', T0 + 6), 0);
      assert.deepEqual((await store.rollouts.claim(claimOf(running, { states: ['auditing'], now: T0 + 5 }))).map((t) => t.appId), ['ks_woken']);
    });

    test('overview: progress and due targets of many rollouts in one read', async () => {
      const a = makeRollout({ id: 'ro_overview_a', waves: [{ wave: 1, size: 3 }, { wave: 2, size: 2 }] });
      const b = makeRollout({ id: 'ro_overview_b', waves: [{ wave: 1, size: 1 }] });
      const now = T0 + 1_000;
      await store.rollouts.create(a, [
        makeTarget(a.id, 'ks_ov_1', { nextRunAt: now - 1 }), // due
        makeTarget(a.id, 'ks_ov_2', { nextRunAt: now + 1 }), // not yet
        makeTarget(a.id, 'ks_ov_3', { state: 'auditing', nextRunAt: now - 1, leaseOwner: 'x', leaseUntil: now + 10 }), // leased
        makeTarget(a.id, 'ks_ov_4', { wave: 2, nextRunAt: now - 1 }), // due, wave 2
        makeTarget(a.id, 'ks_ov_5', { wave: 2, state: 'released', nextRunAt: now - 1, leaseOwner: 'y', leaseUntil: now }), // lease just over: due
      ]);
      await store.rollouts.create(b, [makeTarget(b.id, 'ks_ov_6', { state: 'released', nextRunAt: now + 5 })]);
      const overview = await store.rollouts.overview([a, b, makeRollout({ id: 'ro_overview_none' })], now);
      assert.deepEqual(overview.get(a.id)?.progress, await store.rollouts.progress(a.id));
      assert.deepEqual(overview.get(b.id)?.progress, await store.rollouts.progress(b.id));
      assert.equal(overview.get(a.id)?.progress.total, 5);
      const byKey = (list: { wave: number; state: string; count: number }[] | undefined) => (list ?? []).map((d) => `${d.wave}:${d.state}:${d.count}`).sort();
      assert.deepEqual(byKey(overview.get(a.id)?.due), ['1:pending:1', '2:pending:1', '2:released:1']);
      assert.deepEqual(overview.get(b.id)?.due, []);
      assert.deepEqual(overview.get('ro_overview_none'), { progress: { total: 0, byState: emptyCounts(), byWave: [{ wave: 1, size: 2, byState: emptyCounts() }] }, due: [] }, 'no targets: the plan, nothing due');
    });

    test('wakeMany: many audit results in one statement, as if applied one after the other', async () => {
      const v1 = makeRollout({ status: 'running', userVersion: '7.0.0' });
      const later = T0 + 3_600_000;
      await store.rollouts.create(v1, [
        makeTarget(v1.id, 'ks_many_a', { state: 'auditing', nextRunAt: later }),
        makeTarget(v1.id, 'ks_many_b', { state: 'auditing', nextRunAt: later }),
        makeTarget(v1.id, 'ks_many_c', { state: 'pending', nextRunAt: later }), // not started: nobody submitted
        makeTarget(v1.id, 'ks_many_d', { state: 'released', nextRunAt: later }),
      ]);
      const woken = await store.rollouts.wakeMany(
        [
          { appId: 'ks_many_a', passedVersion: '7.0.0' },
          { appId: 'ks_many_a', passedVersion: '6.9.9' }, // later, but not this rollout's version: 7.0.0 stays
          { appId: 'ks_many_b' }, // rejected
          { appId: 'ks_many_c', passedVersion: '7.0.0' },
          { appId: 'ks_many_d', passedVersion: '7.0.0' }, // not in a woken state
          { appId: 'ks_many_nobody', passedVersion: '7.0.0' },
        ],
        ['pending', 'uploaded', 'auditing'],
        T0 + 7,
      );
      assert.equal(woken, 3);
      const byApp = new Map((await allTargets(store, v1.id)).map((t) => [t.appId, t]));
      assert.deepEqual(
        ['ks_many_a', 'ks_many_b', 'ks_many_c', 'ks_many_d'].map((app) => [byApp.get(app)?.nextRunAt, byApp.get(app)?.auditPushed]),
        [
          [T0 + 7, '7.0.0'],
          [T0 + 7, null],
          [T0 + 7, null],
          [later, null],
        ],
      );
      assert.equal(await store.rollouts.wakeMany([], 'auditing', T0 + 8), 0);
    });

    test('targets: by appId, paged without duplicates or gaps, filtered by state; a bad cursor is invalid_cursor', async () => {
      const rollout = makeRollout();
      const states: TargetState[] = ['pending', 'auditing', 'released'];
      const targets = Array.from({ length: 23 }, (_, i) => makeTarget(rollout.id, appId(22 - i), { state: states[i % 3]! }));
      await store.rollouts.create(rollout, targets);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.rollouts.targets({ rolloutId: rollout.id, limit: 5, ...(cursor !== undefined && { cursor }) });
        seen.push(...page.items.map((t) => t.appId));
        cursor = page.nextCursor ?? undefined;
      } while (cursor !== undefined);
      assert.deepEqual(seen, Array.from({ length: 23 }, (_, i) => appId(i)));

      const auditing = await store.rollouts.targets({ rolloutId: rollout.id, state: 'auditing', limit: 4 });
      assert.equal(auditing.items.length, 4);
      const rest = await store.rollouts.targets({ rolloutId: rollout.id, state: 'auditing', limit: 4, cursor: auditing.nextCursor! });
      const expected = targets.filter((t) => t.state === 'auditing').map((t) => t.appId).sort();
      assert.deepEqual([...auditing.items, ...rest.items].map((t) => t.appId), expected);
      assert.equal(rest.nextCursor, null);
      await assert.rejects(store.rollouts.targets({ rolloutId: rollout.id, limit: 5, cursor: '%%%' }), isInvalidCursor);
    });

    test('two stores on one database claiming at once: never one target for two owners, never past maxInFlight', async () => {
      const other = await target.open(url);
      try {
        const stores = [
          { name: 'store-a', store },
          { name: 'store-b', store: other },
        ];
        const MAX_IN_FLIGHT = 25;
        const LEASE_MS = 2_500;

        // A burst first: 2 stores × 5 claims at the same instant may take 25 targets between them, no more.
        const burstRollout = await seed(store, 300);
        const burst = await Promise.all(
          stores.flatMap(({ name, store: s }) =>
            Array.from({ length: 5 }, (_, i) => s.rollouts.claim(claimOf(burstRollout, { owner: `${name}-${i}`, limit: 10, maxInFlight: MAX_IN_FLIGHT }))),
          ),
        );
        const burstIds = burst.flat().map((t) => t.appId);
        assert.equal(burstIds.length, MAX_IN_FLIGHT);
        assert.equal(new Set(burstIds).size, MAX_IN_FLIGHT);

        // Then 20 rounds: both stores claim concurrently, then each finishes some of what it holds.
        const rollout = await seed(store, 300);
        const holders = new Map<string, { owner: string; until: number }>();
        const finished = new Set<string>();
        const history: RolloutTarget[][][] = [[], []];
        let claims = 0;
        let fenced = 0;
        let staleFinished = 0;
        for (let round = 0; round < 20; round++) {
          const now = T0 + round * 1_000;
          const claimed = await Promise.all(
            stores.map(async ({ name, store: s }) => {
              const got = await s.rollouts.claim(claimOf(rollout, { now, owner: name, leaseMs: LEASE_MS, limit: 10, maxInFlight: MAX_IN_FLIGHT }));
              for (const t of got) {
                const held = holders.get(t.appId);
                assert.ok(!held || held.until <= now, `${t.appId} claimed by ${name} while ${held?.owner} holds it until ${held?.until} (now ${now})`);
                assert.ok(!finished.has(t.appId), `${t.appId} was finished`);
                assert.deepEqual([t.leaseOwner, t.leaseUntil], [name, now + LEASE_MS]);
              }
              return got;
            }),
          );
          // Record after both claims resolved: a target both got this round fails the check above either way.
          for (const [index, got] of claimed.entries()) {
            for (const t of got) {
              const held = holders.get(t.appId);
              assert.ok(!held || held.until <= now, `${t.appId} held by two owners in round ${round}`);
              holders.set(t.appId, { owner: stores[index]!.name, until: now + LEASE_MS });
            }
          }
          for (const [index, got] of claimed.entries()) history[index]!.push(got);
          claims += claimed.flat().length;
          const live = [...holders.values()].filter((h) => h.until > now).length;
          assert.ok(live <= MAX_IN_FLIGHT, `${live} live leases in round ${round}`);
          assert.equal(await liveLeases(other, rollout.id, now), live, 'the database agrees with the model');

          // Each store finishes every other target it claimed this round (it must still hold them), tries one
          // the other store holds (fenced), and finishes old ones whose leases expired (fenced if re-claimed).
          await Promise.all(
            stores.map(async ({ name, store: s }, index) => {
              const mine = claimed[index]!;
              for (const [i, t] of mine.entries()) {
                if (i % 2 === 1) continue;
                assert.equal(await s.rollouts.finishStep(rollout.id, t.appId, name, { state: 'uploaded' }, now), true, `${name} lost ${t.appId}`);
                finished.add(t.appId);
                holders.delete(t.appId);
              }
              const theirs = claimed[1 - index]![1];
              if (theirs) {
                assert.equal(await s.rollouts.finishStep(rollout.id, theirs.appId, name, { state: 'failed' }, now), false);
                fenced++;
              }
              // Claimed three rounds ago and left unfinished: the lease has expired; finishing still works only if
              // the other store has not claimed the target since (fencing is by owner).
              for (const t of history[index]![round - 3] ?? []) {
                if (finished.has(t.appId)) continue;
                const expected = holders.get(t.appId)?.owner === name;
                assert.equal(await s.rollouts.finishStep(rollout.id, t.appId, name, { state: 'uploaded' }, now), expected, `stale ${t.appId}`);
                if (expected) {
                  finished.add(t.appId);
                  holders.delete(t.appId);
                  staleFinished++;
                } else fenced++;
              }
            }),
          );
        }
        assert.ok(claims > 100, `only ${claims} claims`);
        assert.ok(fenced > 20, `only ${fenced} fenced`);
        assert.ok(staleFinished > 0);
        // The model's holders are exactly the database's leases; nothing finished is leased or failed.
        const rows = await allTargets(store, rollout.id);
        for (const row of rows) {
          const held = holders.get(row.appId);
          if (finished.has(row.appId)) assert.deepEqual([row.state, row.leaseOwner], ['uploaded', null]);
          else if (held) assert.deepEqual([row.state, row.leaseOwner, row.leaseUntil], ['pending', held.owner, held.until]);
          else assert.deepEqual([row.state, row.leaseOwner], ['pending', null]);
        }
        const expiredTaken = rows.filter((r) => r.state === 'pending' && r.leaseOwner !== null).length;
        assert.ok(expiredTaken > 0);
      } finally {
        await other.close();
      }
    });

    test('expired leases are re-claimed across stores and fence the previous owner', async () => {
      const other = await target.open(url);
      try {
        const rollout = await seed(store, 10);
        const first = await store.rollouts.claim(claimOf(rollout, { owner: 'store-a', leaseMs: 100, limit: 10 }));
        assert.equal(first.length, 10);
        const [stolen, kept] = await Promise.all([
          other.rollouts.claim(claimOf(rollout, { owner: 'store-b', now: T0 + 100, limit: 4 })),
          store.rollouts.claim(claimOf(rollout, { owner: 'store-a2', now: T0 + 100, limit: 4 })),
        ]);
        assert.equal(stolen.length + kept.length, 8);
        assert.equal(new Set([...stolen, ...kept].map((t) => t.appId)).size, 8);
        const results = await Promise.all(first.map((t) => store.rollouts.finishStep(rollout.id, t.appId, 'store-a', { state: 'uploaded' }, T0 + 101)));
        assert.equal(results.filter(Boolean).length, 2, 'only the two nobody re-claimed');
        for (const t of stolen) assert.equal(await other.rollouts.finishStep(rollout.id, t.appId, 'store-b', { state: 'uploaded' }, T0 + 102), true);
      } finally {
        await other.close();
      }
    });
  });
}
