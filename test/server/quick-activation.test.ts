/**
 * Quick activation (快速开通, issue #7) end to end on the sandbox: a merchant who authorizes through the
 * authorization page ends released on the stable channel's version with nobody calling the API; missing
 * permission sets block it with a reason until an UPDATE_AUTHORIZED brings them; the policy can be off;
 * rollouts promote their version to a channel.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertError, auditLog, authorizeThroughPage, extJsonOf, sandboxApp } from '../helpers/rest.ts';
import { startStack, type Stack } from '../helpers/service.ts';
import { waitFor } from '../helpers/sandbox.ts';
import { okCalls, onboardingOf, STABLE, untilOnboarding } from '../helpers/onboarding.ts';
import { dialectTargets } from '../store/dialects.ts';
import { ConfigError, serverConfigFromEnv } from '../../src/server/config.ts';

async function newApp(stack: Stack): Promise<{ merchantId: string; appId: string }> {
  const created = await stack.sandbox.control<{ merchants: { merchantId: string; appIds: string[] }[] }>('POST', '/merchants', { count: 1 });
  const merchant = created.json.merchants[0]!;
  return { merchantId: merchant.merchantId, appId: merchant.appIds[0]! };
}

async function authorizeByPage(stack: Stack, merchant: { merchantId: string; appId: string }, permissions: number[]): Promise<void> {
  const link = await stack.api<{ url: string }>('POST', '/api/v1/authorizations', { key: stack.keys.operator, body: {} });
  assert.equal(link.status, 201);
  const back = await authorizeThroughPage(link.json.url, merchant.merchantId, merchant.appId, permissions);
  assert.equal(back.status, 200);
  assert.match(back.text, /授权成功/);
}

for (const dialect of dialectTargets()) {
  describe(`quick activation on ${dialect.name}`, { skip: dialect.skip }, () => {
    let stack: Stack;

    before(async () => {
      stack = await startStack(dialect, { env: { KS_RATE_LIMIT_PER_SEC: '200' } });
      await stack.ready();
      const put = await stack.api('PUT', '/api/v1/channels/stable', { key: stack.keys.operator, body: { ...STABLE, baseVersion: 0 } });
      assert.equal(put.status, 200, JSON.stringify(put.json));
      // The template's ext defaults, under the channel's (theme) and each merchant's overrides.
      const defaults = await stack.api('PUT', `/api/v1/templates/${STABLE.templateId}/ext`, { key: stack.keys.operator, body: { ext: { theme: 'blue', shopName: '默认' }, baseVersion: 0 } });
      assert.equal(defaults.status, 200, JSON.stringify(defaults.json));
    });

    after(async () => {
      await stack?.close();
      await dialect.cleanup();
    });

    test('a merchant authorizes on the page → with no further call it is live on the channel’s version, one upload and one audit', async () => {
      const merchant = await newApp(stack);
      await authorizeByPage(stack, merchant, [1, 2]);
      const live = await untilOnboarding(stack, merchant.appId, 'live');
      assert.equal(live.channel, 'stable');
      assert.deepEqual(live.timeline.map((t) => [t.step, t.done, typeof t.at]), [
        ['authorized', true, 'number'],
        ['domains', true, 'number'],
        ['uploaded', true, 'number'],
        ['auditing', true, 'number'],
        ['live', true, 'number'],
      ]);

      const app = await sandboxApp(stack, merchant.appId);
      assert.equal(app.versions.online?.user_version, STABLE.userVersion);
      // The channel's domain policy, read back from the platform.
      assert.deepEqual(app.serverDomains.request, STABLE.domainPolicy.server.request);
      assert.deepEqual(app.serverDomains.uploadFile, STABLE.domainPolicy.server.uploadFile);
      assert.deepEqual(app.webviewDomains, STABLE.domainPolicy.webview);
      assert.deepEqual(JSON.parse(app.versions.online?.ext_json ?? 'null'), extJsonOf(merchant.appId, { theme: 'red', shopName: '默认' }), 'template defaults ← channel ext defaults, addressed to the merchant');
      assert.equal(await okCalls(stack, merchant.appId, 'uploadCode'), 1);
      assert.equal(await okCalls(stack, merchant.appId, 'submitAudit'), 1);
      assert.equal(await okCalls(stack, merchant.appId, 'release'), 1);

      // A one-merchant rollout like any other, in the list.
      const rollout = await stack.api<{ rollout: { origin: string; status: string; templateId: number; userVersion: string }; progress: { total: number; byState: Record<string, number> } }>('GET', `/api/v1/rollouts/${live.rolloutId}`);
      assert.equal(rollout.json.rollout.origin, 'onboarding');
      assert.deepEqual([rollout.json.rollout.templateId, rollout.json.rollout.userVersion, rollout.json.progress.total, rollout.json.progress.byState.released], [2, '2.0.0', 1, 1]);
      const listed = await stack.api<{ items: { id: string; origin: string }[] }>('GET', '/api/v1/rollouts?limit=200');
      assert.deepEqual(listed.json.items.filter((r) => r.id === live.rolloutId).map((r) => r.origin), ['onboarding']);
      const entries = await auditLog(stack, `appId=${merchant.appId}`);
      assert.deepEqual(entries.map((e) => e.action).filter((a) => a.startsWith('onboarding.')), ['onboarding.start']);

      // A re-authorization of a live merchant starts nothing new.
      const again = await stack.sandbox.control('POST', '/reauthorization-codes', { appId: merchant.appId });
      assert.equal(again.status, 201);
      await waitFor(async () => ((await auditLog(stack, `appId=${merchant.appId}&action=merchant.authorized`)).length >= 2 ? true : undefined), { timeoutMs: 5000, what: 'the re-authorization applied' });
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal((await onboardingOf(stack, merchant.appId)).rolloutId, live.rolloutId);
      assert.equal(await okCalls(stack, merchant.appId, 'uploadCode'), 1);
    });

    test('missing permission set 2 → blocked with the reason, no platform write; granting it later (UPDATE_AUTHORIZED) → live', async () => {
      const merchant = await newApp(stack);
      await authorizeByPage(stack, merchant, [1]);
      const blocked = await untilOnboarding(stack, merchant.appId, 'blocked');
      assert.deepEqual(blocked.missingPermissions, [2]);
      assert.match(blocked.reason ?? '', /set 2 \(基本信息 basic information/);
      assert.match(blocked.reason ?? '', /authorize again/);
      assert.equal(await okCalls(stack, merchant.appId, 'uploadCode'), 0);
      const stuck = await stack.api<{ items: { appId: string }[] }>('GET', '/api/v1/merchants?onboarding=stuck&limit=200', { key: stack.keys.viewer });
      assert.ok(stuck.json.items.some((m) => m.appId === merchant.appId), 'listed as stuck');
      const plan = await stack.api<{ wouldStart: boolean; blockers: { code: string }[] }>('GET', `/api/v1/merchants/${merchant.appId}/onboarding/plan`, { key: stack.keys.viewer });
      assert.equal(plan.status, 200, JSON.stringify(plan.json));
      assert.deepEqual([plan.json.wouldStart, plan.json.blockers.map((b) => b.code)], [false, ['missing_permissions']]);

      // Meanwhile the merchant gets its own ext overrides, which win over the channel's and the template's.
      const overrides = await stack.api('PUT', `/api/v1/merchants/${merchant.appId}/ext`, { key: stack.keys.operator, body: { templateId: STABLE.templateId, overrides: { shopName: '川味小馆', theme: 'green' }, baseVersion: 0 } });
      assert.equal(overrides.status, 200, JSON.stringify(overrides.json));

      // The merchant authorizes again with both sets: the platform pushes UPDATE_AUTHORIZED.
      const granted = await stack.sandbox.control<{ updated: boolean }>('POST', '/authorizations', { appId: merchant.appId, permissions: [1, 2] });
      assert.equal(granted.json.updated, true);
      await untilOnboarding(stack, merchant.appId, 'live');
      assert.equal(await okCalls(stack, merchant.appId, 'uploadCode'), 1);
      assert.equal(await okCalls(stack, merchant.appId, 'submitAudit'), 1);
      assert.deepEqual(JSON.parse((await sandboxApp(stack, merchant.appId)).versions.online?.ext_json ?? 'null'), extJsonOf(merchant.appId, { theme: 'green', shopName: '川味小馆' }));
      const actions = (await auditLog(stack, `appId=${merchant.appId}`)).map((e) => e.action).filter((a) => a.startsWith('onboarding.')).reverse();
      assert.deepEqual(actions, ['onboarding.blocked', 'onboarding.start']);
    });

    test('a failed onboarding (audit rejected) starts again with POST …/onboarding/start once fixed; live → nothing; roles and unknown merchants refused', async () => {
      const merchant = await newApp(stack);
      const start = (key = stack.keys.operator, appId = merchant.appId) =>
        stack.api<{ outcome: string; reason: string | null; rolloutId: string | null; onboarding: { status: string } }>('POST', `/api/v1/merchants/${appId}/onboarding/start`, { key });
      await authorizeByPage(stack, merchant, [1]);
      await untilOnboarding(stack, merchant.appId, 'blocked');
      // Its ext makes the sandbox reject the audit.
      const rejecting = await stack.api('PUT', `/api/v1/merchants/${merchant.appId}/ext`, { key: stack.keys.operator, body: { templateId: STABLE.templateId, overrides: { sandboxReject: true }, baseVersion: 0 } });
      assert.equal(rejecting.status, 200, JSON.stringify(rejecting.json));
      const stillBlocked = await start();
      assert.equal(stillBlocked.status, 200, JSON.stringify(stillBlocked.json));
      assert.deepEqual([stillBlocked.json.outcome, stillBlocked.json.reason, stillBlocked.json.onboarding.status], ['blocked', 'missing_permissions', 'blocked']);

      assert.equal((await stack.sandbox.control('POST', '/authorizations', { appId: merchant.appId, permissions: [1, 2] })).status, 201);
      const failed = await untilOnboarding(stack, merchant.appId, 'failed', 30_000);
      assert.ok(failed.rolloutId);

      const fixed = await stack.api('PUT', `/api/v1/merchants/${merchant.appId}/ext`, { key: stack.keys.operator, body: { templateId: STABLE.templateId, overrides: { shopName: '修好了' }, baseVersion: 1 } });
      assert.equal(fixed.status, 200, JSON.stringify(fixed.json));
      assertError(await start(stack.keys.viewer), 403);
      assertError(await start(stack.keys.operator, 'ks_nobody_here'), 404, 'merchant_not_found');
      const restarted = await start();
      assert.equal(restarted.status, 200, JSON.stringify(restarted.json));
      assert.equal(restarted.json.outcome, 'started');
      assert.ok(restarted.json.rolloutId && restarted.json.rolloutId !== failed.rolloutId, 'a new onboarding rollout');
      await untilOnboarding(stack, merchant.appId, 'live', 30_000);
      assert.equal(await okCalls(stack, merchant.appId, 'uploadCode'), 2);
      assert.equal((JSON.parse((await sandboxApp(stack, merchant.appId)).versions.online?.ext_json ?? '{}') as { ext?: { shopName?: string } }).ext?.shopName, '修好了');

      const again = await start();
      assert.deepEqual([again.json.outcome, again.json.reason], ['nothing', 'live']);
      const retries = (await auditLog(stack, `appId=${merchant.appId}`)).filter((e) => e.action === 'onboarding.retry');
      assert.equal(retries.length, 3, 'each operator start is in the audit log');
    });

    test('policy off → an authorization starts nothing; the dry run says why', async () => {
      const off = await stack.api('PUT', '/api/v1/onboarding', { key: stack.keys.admin, body: { enabled: false, channel: 'stable' } });
      assert.equal(off.status, 200, JSON.stringify(off.json));
      try {
        const merchant = await newApp(stack);
        await authorizeByPage(stack, merchant, [1, 2]);
        await new Promise((resolve) => setTimeout(resolve, 500));
        const view = await onboardingOf(stack, merchant.appId);
        assert.deepEqual([view.status, view.rolloutId], ['disabled', null]);
        assert.equal((await stack.sandbox.calls()).byApp[merchant.appId]?.getVersions, undefined, 'not even a read');
        const plan = await stack.api<{ wouldStart: boolean; blockers: { code: string }[]; steps: { step: string }[] }>('GET', `/api/v1/merchants/${merchant.appId}/onboarding/plan`);
        assert.deepEqual(plan.json.blockers.map((b) => b.code), ['disabled']);
        assert.deepEqual(plan.json.steps.map((s) => s.step), ['domains', 'upload', 'audit', 'release']);
        assert.equal(await okCalls(stack, merchant.appId, 'uploadCode'), 0, 'the dry run writes nothing');
      } finally {
        assert.equal((await stack.api('PUT', '/api/v1/onboarding', { key: stack.keys.admin, body: { enabled: true, channel: 'stable' } })).status, 200);
      }
    });

    test('channels: validation, optimistic versions, and a rollout that promotes its version when it completes', async () => {
      assertError(await stack.api('PUT', '/api/v1/channels/beta', { body: { ...STABLE, domainPolicy: { webview: ['https://h5.not-registered.org'] } } }), 400, 'invalid_request');
      assertError(await stack.api('PUT', '/api/v1/channels/beta', { body: { ...STABLE, templateId: 999 } }), 400, 'invalid_request');
      assertError(await stack.api('PUT', '/api/v1/channels/stable', { body: { ...STABLE, baseVersion: 0 } }), 409, 'channel_version_conflict');
      assertError(await stack.api('GET', '/api/v1/channels/nope'), 404, 'channel_not_found');
      assertError(await stack.api('PUT', '/api/v1/onboarding', { body: { enabled: true, channel: 'nope' } }), 400, 'invalid_request');

      const merchant = await newApp(stack);
      await stack.api('PUT', '/api/v1/onboarding', { key: stack.keys.admin, body: { enabled: false, channel: 'stable' } });
      const granted = await stack.sandbox.control('POST', '/authorizations', { appId: merchant.appId, permissions: [1, 2] });
      assert.equal(granted.status, 201);
      await waitFor(async () => ((await stack.api<{ status: string }>('GET', `/api/v1/merchants/${merchant.appId}`)).json.status === 'authorized' ? true : undefined), { timeoutMs: 5000 });
      await stack.api('PUT', '/api/v1/onboarding', { key: stack.keys.admin, body: { enabled: true, channel: 'stable' } });

      const created = await stack.api<{ rollout: { id: string; promoteTo: string | null } }>('POST', '/api/v1/rollouts', {
        key: stack.keys.operator,
        body: { templateId: 1, userVersion: '3.0.0', userDesc: 'beta build', targets: { appIds: [merchant.appId] }, promoteTo: 'beta' },
      });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      assert.equal(created.json.rollout.promoteTo, 'beta');
      const channel = await waitFor(async () => {
        const answer = await stack.api<{ templateId: number; userVersion: string; version: number; updatedBy: string }>('GET', '/api/v1/channels/beta');
        return answer.status === 200 ? answer.json : undefined;
      }, { timeoutMs: 20_000, what: 'the beta channel promoted' });
      assert.deepEqual([channel.templateId, channel.userVersion, channel.version, channel.updatedBy], [1, '3.0.0', 1, `rollout:${created.json.rollout.id}`]);
      const promotions = await auditLog(stack, 'action=channel.promote');
      assert.equal(promotions.length, 1);
      assert.equal(promotions[0]!.summary.rolloutId, created.json.rollout.id);
    });
  });
}

test('KS_ONBOARDING: on, off, or a clear error', () => {
  const base = { KS_COMPONENT_APP_ID: 'a', KS_COMPONENT_APP_SECRET: 's', KS_MESSAGE_TOKEN: 't', KS_MESSAGE_KEY: 'k'.repeat(43) };
  assert.equal(serverConfigFromEnv(base).onboardingForcedOff, false);
  assert.equal(serverConfigFromEnv({ ...base, KS_ONBOARDING: 'on' }).onboardingForcedOff, false);
  assert.equal(serverConfigFromEnv({ ...base, KS_ONBOARDING: 'OFF' }).onboardingForcedOff, true);
  assert.throws(() => serverConfigFromEnv({ ...base, KS_ONBOARDING: 'maybe' }), (error: unknown) => error instanceof ConfigError && /KS_ONBOARDING/.test(error.message));
});

test('KS_ROLLOUT_MAX_IN_FLIGHT: unset (derived by the scheduler), a whole number, or a clear error', () => {
  const base = { KS_COMPONENT_APP_ID: 'a', KS_COMPONENT_APP_SECRET: 's', KS_MESSAGE_TOKEN: 't', KS_MESSAGE_KEY: 'k'.repeat(43) };
  assert.equal(serverConfigFromEnv(base).rollout.maxInFlight, undefined);
  assert.equal(serverConfigFromEnv({ ...base, KS_ROLLOUT_MAX_IN_FLIGHT: '40' }).rollout.maxInFlight, 40);
  for (const bad of ['0', '-3', '2.5', 'lots', '10001']) {
    assert.throws(() => serverConfigFromEnv({ ...base, KS_ROLLOUT_MAX_IN_FLIGHT: bad }), (error: unknown) => error instanceof ConfigError && /KS_ROLLOUT_MAX_IN_FLIGHT/.test(error.message), bad);
  }
});

for (const dialect of dialectTargets()) {
  describe(`KS_ONBOARDING=off on ${dialect.name}`, { skip: dialect.skip }, () => {
    let stack: Stack;
    after(async () => {
      await stack?.close();
      await dialect.cleanup();
    });

    test('forces onboarding off whatever the stored policy says', async () => {
      stack = await startStack(dialect, { env: { KS_ONBOARDING: 'off' } });
      await stack.ready();
      assert.equal((await stack.api('PUT', '/api/v1/channels/stable', { key: stack.keys.operator, body: STABLE })).status, 200);
      assert.equal((await stack.api('PUT', '/api/v1/onboarding', { body: { enabled: true, channel: 'stable' } })).status, 200);
      const policy = await stack.api<{ enabled: boolean; forcedOff: boolean }>('GET', '/api/v1/onboarding', { key: stack.keys.viewer });
      assert.deepEqual([policy.json.enabled, policy.json.forcedOff], [true, true]);
      const merchant = await newApp(stack);
      await authorizeByPage(stack, merchant, [1, 2]);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.equal((await onboardingOf(stack, merchant.appId)).status, 'disabled');
      assert.equal((await stack.sandbox.calls()).byApp[merchant.appId]?.uploadCode, undefined);
      const plan = await stack.api<{ blockers: { code: string }[] }>('GET', `/api/v1/merchants/${merchant.appId}/onboarding/plan`);
      assert.deepEqual(plan.json.blockers.map((b) => b.code), ['forced_off']);
    });
  });
}
