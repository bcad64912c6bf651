import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dialectTargets } from '../store/dialects.ts';
import { startStack, type Stack } from '../helpers/service.ts';
import { authorizeMerchant } from '../helpers/rest.ts';

interface RolloutAnswer {
  rollout: { id: string; status: string; currentWave: number; waves: { wave: number; size: number }[]; pauseReason: string | null };
  progress: { total: number; byState: Record<string, number>; byWave: { wave: number; size: number; byState: Record<string, number> }[] };
}
interface Calls {
  byApp: Record<string, Record<string, { ok: number; calls: number }>>;
}

async function until(stack: Stack, id: string, done: (answer: RolloutAnswer) => boolean, timeoutMs = 20_000): Promise<RolloutAnswer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = (await stack.api<RolloutAnswer>('GET', `/api/v1/rollouts/${id}`)).json;
    if (done(answer)) return answer;
    if (Date.now() > deadline) assert.fail(`rollout ${id} did not get there: ${JSON.stringify(answer)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

for (const dialect of dialectTargets()) {
  describe(`rollouts on ${dialect.name}`, { skip: dialect.skip }, () => {
    let stack: Stack;
    let apps: string[];

    before(async () => {
      stack = await startStack(dialect, { sandbox: { component: { auditDelayMs: 100 } }, env: { KS_RATE_LIMIT_PER_SEC: '500' } });
      await stack.ready();
      const created = await stack.sandbox.control<{ merchants: { appIds: string[] }[] }>('POST', '/merchants', { count: 15 });
      apps = ['ks0000000000000001', 'ks0000000000000002', 'ks0000000000000003', 'ks0000000000000004', 'ks0000000000000005', ...created.json.merchants.flatMap((m) => m.appIds)];
      for (const appId of apps) await authorizeMerchant(stack, appId);
    });

    after(async () => {
      await stack?.close();
      await dialect.cleanup();
    });

    test('a rollout to every merchant releases them all, in waves, with one upload and one audit each', async () => {
      const created = await stack.api<RolloutAnswer>('POST', '/api/v1/rollouts', {
        key: stack.keys.operator,
        body: { templateId: 2, userVersion: '1.1.0', userDesc: 'group buying', targets: { all: true }, waves: [{ count: 2 }, { percent: 50 }], concurrency: 5 },
      });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      assert.deepEqual(created.json.rollout.waves.map((w) => w.size), [2, 10, 8]);

      const done = await until(stack, created.json.rollout.id, (answer) => answer.rollout.status === 'completed');
      assert.equal(done.progress.byState.released, apps.length);
      const calls = (await stack.sandbox.control<Calls>('GET', '/calls')).json;
      for (const appId of apps) {
        assert.equal(calls.byApp[appId]?.uploadCode?.ok, 1, `${appId} uploaded once`);
        assert.equal(calls.byApp[appId]?.submitAudit?.ok, 1, `${appId} submitted once`);
        assert.equal(calls.byApp[appId]?.release?.ok, 1, `${appId} released once`);
      }
      const state = (await stack.sandbox.control<{ merchants: { apps: { appId: string; versions: { online: { user_version: string } | null } }[] }[] }>('GET', '/state')).json;
      const online = state.merchants.flatMap((m) => m.apps).filter((a) => apps.includes(a.appId)).map((a) => a.versions.online?.user_version);
      assert.deepEqual(new Set(online), new Set(['1.1.0']));
    });

    test('rejections stop at rejected with the reason; past maxFailureRate the rollout pauses itself', async (t) => {
      // Every upload of template 1 carries the merchant ext {} … so ask the sandbox to reject by hand.
      await stack.sandbox.control('PUT', '/component', { auditDelayMs: -1 });
      t.after(() => stack.sandbox.control('PUT', '/component', { auditDelayMs: 100 }));
      const created = await stack.api<RolloutAnswer>('POST', '/api/v1/rollouts', {
        key: stack.keys.operator,
        body: { templateId: 1, userVersion: '1.2.0', userDesc: 'x', targets: { appIds: apps.slice(0, 4) }, maxFailureRate: 0.4, concurrency: 4 },
      });
      assert.equal(created.status, 201);
      const id = created.json.rollout.id;
      await until(stack, id, (a) => a.progress.byState.auditing === 4);
      await stack.sandbox.control('POST', `/audits/${apps[0]}`, { decision: 'reject', reason: '类目不符' });
      const paused = await until(stack, id, (a) => a.rollout.status === 'paused');
      assert.match(paused.rollout.pauseReason ?? '', /maxFailureRate/);
      const targets = await stack.api<{ items: { appId: string; state: string; lastError: string | null }[] }>('GET', `/api/v1/rollouts/${id}/targets?state=rejected`);
      assert.deepEqual(targets.json.items.map((t) => [t.appId, t.lastError]), [[apps[0], '类目不符']]);

      for (const appId of apps.slice(1, 4)) await stack.sandbox.control('POST', `/audits/${appId}`, { decision: 'pass' });
      assert.equal((await stack.api('POST', `/api/v1/rollouts/${id}/resume`, { key: stack.keys.operator })).status, 200);
      const finished = await until(stack, id, (a) => a.progress.byState.released === 3);
      assert.equal(finished.progress.byState.rejected, 1);
    });

    test('abort skips the pending merchants; rollback of a rollout rolls back every merchant it released', async (t) => {
      const first = await stack.api<RolloutAnswer>('POST', '/api/v1/rollouts', { key: stack.keys.operator, body: { templateId: 2, userVersion: '2.0.0', userDesc: 'v2', targets: { appIds: apps.slice(5, 8) } } });
      await until(stack, first.json.rollout.id, (a) => a.rollout.status === 'completed');
      const back = await stack.api<RolloutAnswer>('POST', `/api/v1/rollouts/${first.json.rollout.id}/rollback`, { key: stack.keys.operator });
      assert.equal(back.status, 200);
      const rolledBack = await until(stack, first.json.rollout.id, (a) => a.rollout.status === 'rolled_back');
      assert.equal(rolledBack.progress.byState.rolled_back, 3);
      const calls = (await stack.sandbox.control<Calls>('GET', '/calls')).json;
      for (const appId of apps.slice(5, 8)) assert.equal(calls.byApp[appId]?.rollback?.ok, 1);

      await stack.sandbox.control('PUT', '/component', { auditDelayMs: -1 });
      t.after(() => stack.sandbox.control('PUT', '/component', { auditDelayMs: 100 }));
      const second = await stack.api<RolloutAnswer>('POST', '/api/v1/rollouts', {
        key: stack.keys.operator,
        body: { templateId: 2, userVersion: '3.0.0', userDesc: 'v3', targets: { appIds: apps.slice(10, 15) }, waves: [{ count: 1 }], concurrency: 1 },
      });
      const id = second.json.rollout.id;
      await until(stack, id, (a) => a.progress.byState.auditing === 1);
      // A second rollout may not take the same merchants elsewhere meanwhile.
      const overlapping = await stack.api<{ error: { code: string; details: { busy: { appId: string }[] } } }>('POST', '/api/v1/rollouts', {
        key: stack.keys.operator,
        body: { templateId: 2, userVersion: '3.0.1', userDesc: 'v3.0.1', targets: { appIds: [apps[10]!, apps[0]!] } },
      });
      assert.equal(overlapping.status, 409);
      assert.equal(overlapping.json.error.code, 'targets_in_active_rollout');
      assert.deepEqual(overlapping.json.error.details.busy.map((b) => b.appId), [apps[10]]);
      const aborted = await stack.api<RolloutAnswer>('POST', `/api/v1/rollouts/${id}/abort`, { key: stack.keys.operator });
      assert.equal(aborted.json.rollout.status, 'aborted');
      assert.equal(aborted.json.progress.byState.skipped, 4);
      assert.equal((await stack.api('POST', `/api/v1/rollouts/${id}/resume`, { key: stack.keys.operator })).status, 409);
    });

    test('with 20 % 5xx and 5 % hangs on the platform, every merchant is still released, each uploaded once', async (t) => {
      const before = (await stack.sandbox.control<Calls>('GET', '/calls')).json;
      await stack.sandbox.control('PUT', '/faults', { errorRate: 0.2, timeoutRate: 0.05, hangMs: 300 });
      t.after(() => stack.sandbox.control('PUT', '/faults', { errorRate: 0, timeoutRate: 0 }));
      const targets = apps.slice(15, 20);
      const created = await stack.api<RolloutAnswer>('POST', '/api/v1/rollouts', {
        key: stack.keys.operator,
        body: { templateId: 1, userVersion: '4.0.0', userDesc: 'under faults', targets: { appIds: targets }, concurrency: 5, maxFailureRate: 1 },
      });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      const done = await until(stack, created.json.rollout.id, (a) => a.rollout.status === 'completed', 90_000);
      assert.equal(done.progress.byState.released, targets.length, JSON.stringify(done.progress.byState));
      const calls = (await stack.sandbox.control<Calls>('GET', '/calls')).json;
      const delta = (appId: string, operation: string): number =>
        (calls.byApp[appId]?.[operation]?.ok ?? 0) - (before.byApp[appId]?.[operation]?.ok ?? 0);
      for (const appId of targets) {
        assert.equal(delta(appId, 'uploadCode'), 1, `${appId} uploaded once`);
        assert.equal(delta(appId, 'submitAudit'), 1, `${appId} submitted once`);
        assert.equal(delta(appId, 'release'), 1, `${appId} released once`);
      }
    });
  });
}
