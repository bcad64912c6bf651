/**
 * Quick activation across a crash: the service stops mid-onboarding (the audit pending), another start on
 * the same database finishes it with no second upload; a crash between the claim and the rollout's
 * creation (a `starting` row left behind), with or without the rollout already created, is taken up by the
 * boot sweep under the same rollout id.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Rollout } from '../../src/fleet/rollout-model.ts';
import { sandboxApp } from '../helpers/rest.ts';
import { startSandbox, waitFor, type SandboxHarness } from '../helpers/sandbox.ts';
import { startStack, type Stack } from '../helpers/service.ts';
import { dialectTargets, type FreshDatabase } from '../store/dialects.ts';
import { okCalls, STABLE, untilOnboarding } from '../helpers/onboarding.ts';

for (const dialect of dialectTargets()) {
  describe(`quick activation across a crash on ${dialect.name}`, { skip: dialect.skip }, () => {
    let sandbox: SandboxHarness;
    let database: FreshDatabase;
    let stack: Stack | undefined;

    /** A service instance on the shared database and sandbox, registered for the sandbox's pushes. */
    const start = async (): Promise<Stack> => {
      const started = await startStack(dialect, { sharedSandbox: sandbox, database, env: { KS_RATE_LIMIT_PER_SEC: '200' } });
      const registered = await sandbox.control('PUT', '/component', { authEventUrl: `${started.url}/callbacks/auth`, messageUrl: `${started.url}/callbacks/events` });
      assert.equal(registered.status, 200);
      await started.ready();
      return started;
    };

    before(async () => {
      // Audits wait for the test's decision, so the onboarding can be caught while auditing.
      sandbox = await startSandbox({ component: { auditDelayMs: -1 } });
      database = dialect.fresh();
      stack = await start();
      const put = await stack.api('PUT', '/api/v1/channels/stable', { key: stack.keys.operator, body: STABLE });
      assert.equal(put.status, 200, JSON.stringify(put.json));
    });

    after(async () => {
      await stack?.close();
      await sandbox?.close();
      await dialect.cleanup();
    });

    test('stopped while auditing → the next start on the same database finishes it: one upload, one audit submission', async () => {
      const [appId] = await sandbox.newApps(1);
      assert.equal((await sandbox.control('POST', '/authorizations', { appId, permissions: [1, 2] })).status, 201);
      await waitFor(async () => ((await sandboxApp(stack!, appId!)).versions.audit?.status === 'AUDITING' ? true : undefined), { timeoutMs: 20_000, what: 'the onboarding under audit' });
      const during = await untilOnboarding(stack!, appId!, 'in_progress');
      await stack!.close();
      stack = undefined;

      stack = await start();
      assert.equal((await sandbox.control('POST', `/audits/${appId}`, { decision: 'pass' })).status, 200);
      const live = await untilOnboarding(stack, appId!, 'live');
      assert.equal(live.rolloutId, during.rolloutId);
      assert.equal((await sandboxApp(stack, appId!)).versions.online?.user_version, STABLE.userVersion);
      assert.equal(await okCalls(stack, appId!, 'uploadCode'), 1);
      assert.equal(await okCalls(stack, appId!, 'submitAudit'), 1);
      assert.equal(await okCalls(stack, appId!, 'release'), 1);
    });

    for (const created of [false, true]) {
      test(`a crash after the claim, ${created ? 'after' : 'before'} the rollout was created → the boot sweep finishes it under the same rollout id`, async () => {
        // The merchant authorizes while onboarding is off: it is there, not onboarded.
        await stack!.api('PUT', '/api/v1/onboarding', { key: stack!.keys.admin, body: { enabled: false, channel: 'stable' } });
        const [appId] = await sandbox.newApps(1);
        assert.equal((await sandbox.control('POST', '/authorizations', { appId, permissions: [1, 2] })).status, 201);
        await waitFor(async () => ((await stack!.api<{ status: string }>('GET', `/api/v1/merchants/${appId}`)).json.status === 'authorized' ? true : undefined), { timeoutMs: 5000 });
        await stack!.close();
        stack = undefined;

        // What a crash right after the claim leaves: a `starting` row (10 minutes old) naming its rollout id.
        const store = await dialect.open(database.url);
        const at = Date.now() - 10 * 60_000;
        const rolloutId = `ro_${at.toString(36)}crash${created ? 1 : 0}`;
        await store.channels.putPolicy({ enabled: true, channel: 'stable', autoRelease: null }, null, at);
        const claimed = await store.onboardings.save(
          { appId: appId!, status: 'starting', channel: 'stable', templateId: STABLE.templateId, userVersion: STABLE.userVersion, rolloutId, reasonCode: null, reason: null, missingPermissions: [], trigger: 'authorized', updatedAt: at },
          null,
          at,
        );
        assert.ok(claimed);
        if (created) {
          const rollout: Rollout = {
            id: rolloutId, kind: 'template', domains: STABLE.domainPolicy, origin: 'onboarding', promoteTo: null, extDefaults: STABLE.extDefaults, templateId: STABLE.templateId, userVersion: STABLE.userVersion,
            userDesc: STABLE.userDesc, status: 'running', autoRelease: true, maxFailureRate: 1, failuresAcknowledged: 0, concurrency: 1,
            waves: [{ wave: 1, size: 1 }], currentWave: 1, pauseReason: null, createdBy: null, createdAt: at, updatedAt: at, finishedAt: null,
          };
          await store.rollouts.create(rollout, [{ rolloutId, appId: appId!, wave: 1, state: 'pending', attempts: 0, nextRunAt: at, leaseOwner: null, leaseUntil: null, lastErrorCode: null, lastError: null, updatedAt: at, stateClaims: 0, auditPushed: null }]);
        }
        await store.close();

        stack = await start();
        const auditing = await untilOnboarding(stack, appId!, 'in_progress');
        assert.equal(auditing.rolloutId, rolloutId, 'the claim’s rollout id, not a new one');
        await waitFor(async () => ((await sandboxApp(stack!, appId!)).versions.audit?.status === 'AUDITING' ? true : undefined), { timeoutMs: 20_000, what: 'under audit' });
        assert.equal((await sandbox.control('POST', `/audits/${appId}`, { decision: 'pass' })).status, 200);
        await untilOnboarding(stack, appId!, 'live');
        const rollouts = await stack.api<{ items: { id: string; origin: string }[] }>('GET', '/api/v1/rollouts?limit=200');
        assert.equal(rollouts.json.items.filter((r) => r.id === rolloutId).length, 1);
        assert.equal(await okCalls(stack, appId!, 'uploadCode'), 1);
        assert.equal(await okCalls(stack, appId!, 'submitAudit'), 1);
      });
    }
  });
}
