/**
 * Domain policies end to end on the sandbox: the dry run's per-merchant diff, applying one as a rollout of
 * kind `domains` (read back from the sandbox's state, with call counts proving no `set` for merchants
 * already in sync), a merchant without permission set 2, 5xx retried, the overlap rule, and a template
 * rollout with a domain policy attached (onboarding).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dialectTargets } from '../store/dialects.ts';
import { startStack, type Stack } from '../helpers/service.ts';
import { assertError, auditLog, authorizeMerchant, sandboxApp, sandboxCalls } from '../helpers/rest.ts';

interface ListDiff {
  add: string[];
  remove: string[];
}
interface DriftReport {
  policy: Record<string, unknown>;
  summary: { targets: number; checked: number; inSync: number; drifting: number; unreadable: number; errors: Record<string, number> };
  items: { appId: string; inSync: boolean; server?: Record<string, ListDiff>; webview?: ListDiff | null; error: { code: string; message: string } | null }[];
  warnings: { code: string; message: string }[];
  nextCursor: string | null;
}
interface RolloutAnswer {
  rollout: { id: string; kind: string; status: string; templateId: number | null; userVersion: string | null; domains: Record<string, unknown> | null };
  progress: { total: number; byState: Record<string, number> };
}
interface Target {
  appId: string;
  state: string;
  attempts: number;
  lastErrorCode: string | null;
  lastError: string | null;
}
interface Calls {
  byApp: Record<string, Record<string, { ok: number; calls: number }>>;
}

const API = 'https://api.example.com';
const PAY = 'https://pay.example.com';
const OLD = 'https://old.example.com';
const H5 = 'https://h5.example.com';
const M = 'https://m.example.com';
const WS = 'wss://ws.example.com';

async function until(stack: Stack, id: string, done: (answer: RolloutAnswer) => boolean, timeoutMs = 30_000): Promise<RolloutAnswer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = (await stack.api<RolloutAnswer>('GET', `/api/v1/rollouts/${id}`)).json;
    if (done(answer)) return answer;
    if (Date.now() > deadline) assert.fail(`rollout ${id} did not get there: ${JSON.stringify(answer)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function targets(stack: Stack, id: string): Promise<Target[]> {
  const answer = await stack.api<{ items: Target[] }>('GET', `/api/v1/rollouts/${id}/targets?limit=500`);
  assert.equal(answer.status, 200);
  return answer.json.items;
}

for (const dialect of dialectTargets()) {
  describe(`domain policies on ${dialect.name}`, { skip: dialect.skip }, () => {
    let stack: Stack;
    /** In sync with POLICY, drifting, fresh, without permission set 2, onboarded by a template rollout. */
    let a: string, b: string, c: string, d: string, e: string;
    const POLICY = { serverDomains: { request: [API, PAY] }, webviewDomains: [H5] };
    const calls = async (): Promise<Calls> => (await stack.sandbox.control<Calls>('GET', '/calls')).json;
    const delta = (before: Calls, after: Calls, appId: string, operation: string): number =>
      (after.byApp[appId]?.[operation]?.calls ?? 0) - (before.byApp[appId]?.[operation]?.calls ?? 0);

    before(async () => {
      stack = await startStack(dialect, { sandbox: { component: { auditDelayMs: 50 } }, env: { KS_RATE_LIMIT_PER_SEC: '500' } });
      await stack.ready();
      const created = await stack.sandbox.control<{ merchants: { appIds: string[] }[] }>('POST', '/merchants', { count: 5 });
      [a, b, c, d, e] = created.json.merchants.flatMap((m) => m.appIds) as [string, string, string, string, string];
      for (const appId of [a, b, c, e]) await authorizeMerchant(stack, appId);
      await authorizeMerchant(stack, d, [1, 3, 4]);
      const set = async (appId: string, kind: 'server' | 'webview', body: Record<string, unknown>): Promise<void> => {
        const answer = await stack.api('POST', `/api/v1/merchants/${appId}/domains/${kind}`, { key: stack.keys.operator, body: { action: 'set', ...body } });
        assert.equal(answer.status, 200, JSON.stringify(answer.json));
      };
      await set(a, 'server', { request: [PAY, API], socket: [WS] });
      await set(a, 'webview', { domains: [H5] });
      await set(b, 'server', { request: [OLD, API] });
      await set(b, 'webview', { domains: [M] });
    });

    after(async () => {
      await stack?.close();
      await dialect.cleanup();
    });

    test('a dry run answers the per-merchant diff and a summary, changes nothing, and pages', async () => {
      const before = await calls();
      const answer = await stack.api<DriftReport>('POST', '/api/v1/domain-policies', { key: stack.keys.operator, body: { targets: { appIds: [d, c, b, a] }, ...POLICY, dryRun: true } });
      assert.equal(answer.status, 200, JSON.stringify(answer.json));
      const report = answer.json;
      assert.deepEqual(report.summary, { targets: 4, checked: 4, inSync: 1, drifting: 2, unreadable: 1, errors: { PERMISSION_DENIED: 1 } });
      assert.deepEqual(report.policy, { server: { request: [API, PAY] }, webview: [H5] });
      const byApp = new Map(report.items.map((item) => [item.appId, item]));
      assert.deepEqual(report.items.map((item) => item.appId), [a, b, c, d].sort(), 'sorted by app id');
      assert.deepEqual(byApp.get(a), { appId: a, inSync: true, server: { request: { add: [], remove: [] } }, webview: { add: [], remove: [] }, error: null });
      assert.deepEqual(byApp.get(b), { appId: b, inSync: false, server: { request: { add: [PAY], remove: [OLD] } }, webview: { add: [H5], remove: [M] }, error: null });
      assert.deepEqual(byApp.get(c), { appId: c, inSync: false, server: { request: { add: [API, PAY], remove: [] } }, webview: { add: [H5], remove: [] }, error: null });
      assert.equal(byApp.get(d)?.error?.code, 'PERMISSION_DENIED');
      assert.equal(byApp.get(d)?.inSync, false);
      // The stack's PUBLIC_URL is http://127.0.0.1:…: a policy naming the request list is told the runtime is out of reach.
      assert.deepEqual(report.warnings.map((w) => w.code), ['runtime_not_https']);
      assert.match(report.warnings[0]!.message, /PUBLIC_URL \(http:\/\/127\.0\.0\.1:\d+\) is not https/);

      // Nothing was set: each readable merchant got one read per kind; the sandbox still has the old domains.
      const after = await calls();
      for (const appId of [a, b, c]) {
        assert.equal(delta(before, after, appId, 'serverDomains'), 1, `${appId} server domains read once`);
        assert.equal(delta(before, after, appId, 'webviewDomains'), 1, `${appId} webview domains read once`);
      }
      assert.deepEqual((await sandboxApp(stack, b)).serverDomains.request, [OLD, API]);
      const planned = (await auditLog(stack, 'action=domains.plan'))[0];
      assert.equal(planned?.result, 'ok');
      assert.deepEqual(planned?.summary, { domains: report.policy, targets: 4, checked: 4, inSync: 1, drifting: 2, unreadable: 1 });

      // Pages: limit, then the cursor it answers.
      const first = await stack.api<DriftReport>('POST', '/api/v1/domain-policies', { key: stack.keys.operator, body: { targets: { appIds: [a, b, c] }, webviewDomains: [H5], dryRun: true, limit: 2 } });
      assert.deepEqual(first.json.warnings, [], 'a webview-only policy leaves the request domains alone: no warning');
      assert.deepEqual(first.json.items.map((item) => item.appId), [a, b].sort());
      assert.equal(first.json.summary.targets, 3);
      assert.equal(first.json.summary.checked, 2);
      assert.ok(first.json.nextCursor);
      const second = await stack.api<DriftReport>('POST', '/api/v1/domain-policies', {
        key: stack.keys.operator, body: { targets: { appIds: [a, b, c] }, webviewDomains: [H5], dryRun: true, limit: 2, cursor: first.json.nextCursor },
      });
      assert.deepEqual(second.json.items.map((item) => item.appId), [c]);
      assert.equal(second.json.nextCursor, null);
      assert.deepEqual(second.json.items[0]?.server, {}, 'only the webview list named');
    });

    test('a domain that is not registered, a wrong scheme or a path: 400 naming it, before any call', async () => {
      const before = await sandboxCalls(stack);
      const logged = (await auditLog(stack)).length;
      for (const dryRun of [true, false]) {
        const notRegistered = await stack.api('POST', '/api/v1/domain-policies', { key: stack.keys.operator, body: { targets: { all: true }, serverDomains: { request: [API, 'https://api.elsewhere.test'] }, dryRun } });
        const error = assertError(notRegistered, 400, 'invalid_request');
        assert.match(error.message, /request: api\.elsewhere\.test is not one of the component's registered domains/);
        const scheme = assertError(await stack.api('POST', '/api/v1/domain-policies', { key: stack.keys.operator, body: { targets: { all: true }, serverDomains: { socket: ['https://ws.example.com'] }, dryRun } }), 400);
        assert.match(scheme.message, /socket: "https:\/\/ws\.example\.com" must use wss:\/\//);
      }
      assert.equal(await sandboxCalls(stack), before, 'no platform call');
      assert.equal((await auditLog(stack)).length, logged, 'nothing recorded');
      assert.deepEqual((await stack.api<{ items: unknown[] }>('GET', '/api/v1/rollouts')).json.items, [], 'no rollout');
    });

    test('applying: a rollout of kind domains; every merchant ends with the policy, no set for those in sync; no permission → failed with the platform code', async () => {
      const before = await calls();
      const created = await stack.api<RolloutAnswer>('POST', '/api/v1/domain-policies', { key: stack.keys.operator, body: { targets: { appIds: [a, b, c, d] }, ...POLICY, dryRun: false, maxFailureRate: 1 } });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      const { rollout } = created.json;
      assert.equal(rollout.kind, 'domains');
      assert.equal(rollout.templateId, null);
      assert.equal(rollout.userVersion, null);
      assert.deepEqual(rollout.domains, { server: { request: [API, PAY] }, webview: [H5] });
      assert.equal(created.json.progress.total, 4);

      const done = await until(stack, rollout.id, (answer) => answer.rollout.status === 'completed');
      assert.equal(done.progress.byState.applied, 3, JSON.stringify(done.progress.byState));
      assert.equal(done.progress.byState.failed, 1);
      const failed = (await targets(stack, rollout.id)).filter((target) => target.state === 'failed');
      assert.deepEqual(failed.map((target) => [target.appId, target.lastErrorCode]), [[d, 'PERMISSION_DENIED']]);

      for (const appId of [a, b, c]) {
        const app = await sandboxApp(stack, appId);
        assert.deepEqual([...app.serverDomains.request].sort(), [API, PAY], `${appId} request domains`);
        assert.deepEqual(app.webviewDomains, [H5], `${appId} webview domains`);
      }
      assert.deepEqual((await sandboxApp(stack, a)).serverDomains.socket, [WS], 'a list the policy leaves out is left alone');
      const after = await calls();
      // In sync: one read per kind, no set. Drifting: a read and a set per kind.
      assert.equal(delta(before, after, a, 'serverDomains'), 1);
      assert.equal(delta(before, after, a, 'webviewDomains'), 1);
      for (const appId of [b, c]) {
        assert.equal(delta(before, after, appId, 'serverDomains'), 2, `${appId} server: read + set`);
        assert.equal(delta(before, after, appId, 'webviewDomains'), 2, `${appId} webview: read + set`);
      }

      // A rollout like any other: listed, its events stream, but no release or rollback.
      const listed = await stack.api<{ items: { id: string; kind: string }[] }>('GET', '/api/v1/rollouts');
      assert.deepEqual(listed.json.items.find((item) => item.id === rollout.id)?.kind, 'domains');
      const events = await fetch(`${stack.url}/api/v1/rollouts/${rollout.id}/events`, { headers: { authorization: `Bearer ${stack.keys.viewer}` } });
      const stream = await events.text();
      assert.match(stream, /event: progress\ndata: .*"kind":"domains".*"applied":3/);
      assert.match(stream, /event: end\ndata: \{"status":"completed"\}/);
      for (const command of ['release', 'rollback']) {
        assertError(await stack.api('POST', `/api/v1/rollouts/${rollout.id}/${command}`, { key: stack.keys.operator }), 409, 'not_a_template_rollout', command);
      }
      const entry = (await auditLog(stack, 'action=domains.policy'))[0];
      assert.equal(entry?.summary.rolloutId, rollout.id);

      // Applied again: every merchant is in sync, so reads only.
      const beforeAgain = await calls();
      const again = await stack.api<RolloutAnswer>('POST', '/api/v1/domain-policies', { key: stack.keys.operator, body: { targets: { appIds: [a, b, c] }, ...POLICY, dryRun: false } });
      assert.equal(again.status, 201);
      const doneAgain = await until(stack, again.json.rollout.id, (answer) => answer.rollout.status === 'completed');
      assert.equal(doneAgain.progress.byState.applied, 3);
      const afterAgain = await calls();
      for (const appId of [a, b, c]) {
        assert.equal(delta(beforeAgain, afterAgain, appId, 'serverDomains'), 1, `${appId}: a read, no set`);
        assert.equal(delta(beforeAgain, afterAgain, appId, 'webviewDomains'), 1, `${appId}: a read, no set`);
      }
    });

    test('5xx are retried with backoff; meanwhile another domain policy on the same merchants is refused, a template rollout is not', async (t) => {
      await stack.sandbox.control('PUT', '/faults', { errorRate: 1 });
      t.after(() => stack.sandbox.control('PUT', '/faults', { errorRate: 0 }));
      const created = await stack.api<RolloutAnswer>('POST', '/api/v1/domain-policies', {
        key: stack.keys.operator, body: { targets: { appIds: [a, b, c] }, serverDomains: { request: [API] }, webviewDomains: [H5, M], dryRun: false, maxFailureRate: 1 },
      });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      const id = created.json.rollout.id;
      for (let i = 0; ; i++) {
        const seen = await targets(stack, id);
        if (seen.every((target) => target.attempts >= 1)) {
          assert.deepEqual(new Set(seen.map((target) => `${target.state} ${target.lastErrorCode}`)), new Set(['pending platform_unavailable']));
          break;
        }
        assert.ok(i < 400, `targets retried: ${JSON.stringify(seen)}`);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }

      const overlapping = await stack.api('POST', '/api/v1/domain-policies', { key: stack.keys.operator, body: { targets: { appIds: [c, e] }, webviewDomains: [H5], dryRun: false } });
      const busy = assertError(overlapping, 409, 'targets_in_active_rollout');
      assert.deepEqual((busy.details.busy as { appId: string }[]).map((entry) => entry.appId), [c]);
      const onboarding = await stack.api('POST', '/api/v1/rollouts', { key: stack.keys.operator, body: { templateId: 1, userVersion: '1.0.0', userDesc: 'x', targets: { appIds: [c] }, domains: { webview: [H5] } } });
      assertError(onboarding, 409, 'targets_in_active_rollout', 'a template rollout with domains overlaps a domain policy');
      const upgrade = await stack.api<RolloutAnswer>('POST', '/api/v1/rollouts', { key: stack.keys.operator, body: { templateId: 1, userVersion: '1.0.0', userDesc: 'x', targets: { appIds: [c] }, maxFailureRate: 1 } });
      assert.equal(upgrade.status, 201, 'a template rollout without domains does not touch them');

      await stack.sandbox.control('PUT', '/faults', { errorRate: 0 });
      const done = await until(stack, id, (answer) => answer.rollout.status === 'completed', 60_000);
      assert.equal(done.progress.byState.applied, 3, JSON.stringify(done.progress.byState));
      for (const appId of [a, b, c]) {
        const app = await sandboxApp(stack, appId);
        assert.deepEqual(app.serverDomains.request, [API]);
        assert.deepEqual(app.webviewDomains, [H5, M]);
      }
      const released = await until(stack, upgrade.json.rollout.id, (answer) => answer.rollout.status === 'completed', 60_000);
      assert.equal(released.progress.byState.released, 1);
    });

    test('onboarding: a template rollout with a domain policy sets the domains, then uploads, audits and releases', async () => {
      const created = await stack.api<RolloutAnswer>('POST', '/api/v1/rollouts', {
        key: stack.keys.operator,
        body: { templateId: 2, userVersion: '1.0.0', userDesc: 'onboarding', targets: { appIds: [e] }, domains: { server: { request: [API], socket: [WS] }, webview: [H5] } },
      });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      assert.equal(created.json.rollout.kind, 'template');
      assert.deepEqual(created.json.rollout.domains, { server: { request: [API], socket: [WS] }, webview: [H5] });
      const done = await until(stack, created.json.rollout.id, (answer) => answer.rollout.status === 'completed');
      assert.equal(done.progress.byState.released, 1);
      const app = await sandboxApp(stack, e);
      assert.deepEqual(app.serverDomains.request, [API]);
      assert.deepEqual(app.serverDomains.socket, [WS]);
      assert.deepEqual(app.webviewDomains, [H5]);
      assert.equal(app.versions.online?.user_version, '1.0.0');
      const byApp = (await calls()).byApp[e] ?? {};
      assert.equal(byApp.serverDomains?.ok, 2, 'server domains: one read, one set');
      assert.equal(byApp.webviewDomains?.ok, 2, 'webview domains: one read, one set');
      assert.equal(byApp.uploadCode?.ok, 1);

      // A domain policy for a merchant without permission set 2 fails it before any upload.
      const refused = await stack.api<RolloutAnswer>('POST', '/api/v1/rollouts', {
        key: stack.keys.operator, body: { templateId: 2, userVersion: '1.0.0', userDesc: 'onboarding', targets: { appIds: [d] }, domains: { webview: [H5] }, maxFailureRate: 1 },
      });
      assert.equal(refused.status, 201);
      const failed = await until(stack, refused.json.rollout.id, (answer) => answer.rollout.status === 'completed');
      assert.equal(failed.progress.byState.failed, 1);
      assert.equal((await calls()).byApp[d]?.uploadCode, undefined, 'no upload');
    });
  });
}
