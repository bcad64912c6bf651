/**
 * GET /metrics after real work on the sandbox (a rollout, an onboarding that goes live, one that is
 * blocked, a rollout left under audit, a revocation), read with the strict exposition checker: the
 * histograms have observations where the work was, every gauge agrees with what the API and the store
 * say, the old counters and Node's process metrics are there, and neither an appId nor a secret appears.
 * Then METRICS_TOKEN: 401 in the error shape without it or with a wrong one, 200 with it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { credentialKeys } from '../../src/kuaishou/index.ts';
import { TARGET_STATES } from '../../src/fleet/rollout-model.ts';
import { ConfigError, componentEnv, serverConfigFromEnv } from '../../src/server/config.ts';
import { parseExposition, samplesOf, valueOf, type Family } from '../helpers/exposition.ts';
import { STABLE, untilOnboarding } from '../helpers/onboarding.ts';
import { assertError, authorizeMerchant, revokeMerchant } from '../helpers/rest.ts';
import { waitFor } from '../helpers/sandbox.ts';
import { startStack, type Stack } from '../helpers/service.ts';
import { dialectTargets } from '../store/dialects.ts';

interface RolloutJson {
  id: string;
  status: string;
}
interface RolloutAnswer {
  rollout: RolloutJson;
  progress: { total: number; byState: Record<string, number> };
}
interface Calls {
  byApp: Record<string, Record<string, { ok: number; calls: number }>>;
}

const OLD_COUNTERS = [
  'ksisv_http_requests_total',
  'ksisv_upstream_calls_total',
  'ksisv_token_refreshes_total',
  'ksisv_pushes_total',
  'ksisv_push_commits_total',
  'ksisv_push_commit_pushes_total',
];

async function untilRollout(stack: Stack, id: string, done: (answer: RolloutAnswer) => boolean): Promise<RolloutAnswer> {
  let last: RolloutAnswer | undefined;
  return waitFor(
    async () => {
      last = (await stack.api<RolloutAnswer>('GET', `/api/v1/rollouts/${id}`)).json;
      return done(last) ? last : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 50, what: `rollout ${id} (last: ${JSON.stringify(last)})` },
  );
}

async function newApp(stack: Stack): Promise<string> {
  const created = await stack.sandbox.control<{ merchants: { appIds: string[] }[] }>('POST', '/merchants', { count: 1 });
  return created.json.merchants[0]!.appIds[0]!;
}

/** Sum of a histogram's finite buckets' increments: > 0 when an observation fell below +Inf. */
function finiteObservations(families: ReadonlyMap<string, Family>, name: string, labels: Record<string, string>): number {
  const buckets = samplesOf(families, `${name}_bucket`, labels).filter((sample) => sample.labels.le !== '+Inf');
  return Math.max(0, ...buckets.map((bucket) => bucket.value));
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

test('METRICS_TOKEN: unset or empty leaves /metrics public; a short or odd token is refused at start, never echoed', () => {
  const base = {
    ...componentEnv('http://127.0.0.1:4100', { componentAppId: 'tp_x', componentAppSecret: 's', messageToken: 't', messageKey: 'k'.repeat(43), serverDomains: [], webviewDomains: [] }),
  };
  assert.equal(serverConfigFromEnv(base).metricsToken, undefined);
  assert.equal(serverConfigFromEnv({ ...base, METRICS_TOKEN: '' }).metricsToken, undefined);
  assert.equal(serverConfigFromEnv({ ...base, METRICS_TOKEN: 'a'.repeat(16) }).metricsToken, 'a'.repeat(16));
  for (const bad of ['short-token', 'has spaces in it ok', 'tab\tseparated-token-x', 'é'.repeat(20)]) {
    assert.throws(
      () => serverConfigFromEnv({ ...base, METRICS_TOKEN: bad }),
      (error: unknown) => error instanceof ConfigError && error.message.startsWith('METRICS_TOKEN') && !error.message.includes(bad),
      bad,
    );
  }
});

for (const dialect of dialectTargets()) {
  describe(`GET /metrics on ${dialect.name}`, { skip: dialect.skip, timeout: 120_000 }, () => {
    let stack: Stack;
    const apps: string[] = [];
    let underAudit: string;

    before(async () => {
      stack = await startStack(dialect, { sandbox: { component: { auditDelayMs: 100 } }, env: { KS_RATE_LIMIT_PER_SEC: '500' } });
      await stack.ready();
      // Four merchants authorize (no channel yet: nothing onboards them); one revokes.
      for (let i = 0; i < 4; i++) apps.push(await newApp(stack));
      for (const appId of apps) await authorizeMerchant(stack, appId);
      await revokeMerchant(stack, apps[3]!);

      // A rollout on the sandbox, to completion: upload, audit (pushed), release for each.
      const first = await stack.api<RolloutAnswer>('POST', '/api/v1/rollouts', {
        key: stack.keys.operator,
        body: { templateId: 2, userVersion: '1.1.0', userDesc: 'metrics', targets: { appIds: apps.slice(0, 3) }, concurrency: 3 },
      });
      assert.equal(first.status, 201, JSON.stringify(first.json));
      await untilRollout(stack, first.json.rollout.id, (answer) => answer.rollout.status === 'completed');

      // Quick activation: one merchant goes live, one is blocked (permission set 2 missing): stuck.
      const channel = await stack.api('PUT', '/api/v1/channels/stable', { key: stack.keys.operator, body: { ...STABLE, baseVersion: 0 } });
      assert.equal(channel.status, 200, JSON.stringify(channel.json));
      const live = await newApp(stack);
      const blocked = await newApp(stack);
      apps.push(live, blocked);
      await authorizeMerchant(stack, live, [1, 2]);
      await untilOnboarding(stack, live, 'live');
      await authorizeMerchant(stack, blocked, [1]);
      await untilOnboarding(stack, blocked, 'blocked');

      // A second rollout left under audit: its targets are what ksisv_rollout_targets counts.
      await stack.sandbox.control('PUT', '/component', { auditDelayMs: -1 });
      const second = await stack.api<RolloutAnswer>('POST', '/api/v1/rollouts', {
        key: stack.keys.operator,
        body: { templateId: 2, userVersion: '1.2.0', userDesc: 'metrics 2', targets: { appIds: apps.slice(0, 3) }, concurrency: 3 },
      });
      assert.equal(second.status, 201, JSON.stringify(second.json));
      underAudit = second.json.rollout.id;
      await untilRollout(stack, underAudit, (answer) => answer.progress.byState.auditing === 3);
    });

    after(async () => {
      await stack?.close();
      await dialect.cleanup();
    });

    const scrape = async (): Promise<{ text: string; families: Map<string, Family>; contentType: string }> => {
      const answer = await stack.api('GET', '/metrics', { key: null });
      assert.equal(answer.status, 200);
      const text = answer.bytes.toString('utf8');
      return { text, families: parseExposition(text), contentType: answer.headers.get('content-type') ?? '' };
    };

    test('the exposition is well formed, typed by the registry, and keeps the old counters', async () => {
      const { families, contentType } = await scrape();
      assert.equal(contentType, 'text/plain; version=0.0.4; charset=utf-8');
      for (const name of OLD_COUNTERS) assert.equal(families.get(name)?.type, 'counter', `${name} is a counter`);
      assert.ok((valueOf(families, 'ksisv_push_commits_total') ?? 0) >= 1, 'pushes were group-committed');
      assert.ok((valueOf(families, 'ksisv_push_commit_pushes_total') ?? 0) >= (valueOf(families, 'ksisv_push_commits_total') ?? 0));
      for (const name of ['ksisv_http_request_duration_seconds', 'ksisv_upstream_call_duration_seconds', 'ksisv_push_handle_duration_seconds', 'ksisv_rollout_step_duration_seconds']) {
        assert.equal(families.get(name)?.type, 'histogram', `${name} is a histogram`);
      }
      // Node's process metrics, with the service's prefix; no family without it.
      for (const name of ['ksisv_process_cpu_user_seconds_total', 'ksisv_process_resident_memory_bytes', 'ksisv_nodejs_eventloop_lag_seconds', 'ksisv_nodejs_heap_size_used_bytes']) {
        assert.equal(samplesOf(families, name).length, 1, `${name} has a sample`);
      }
      assert.ok((valueOf(families, 'ksisv_process_resident_memory_bytes') ?? 0) > 1_000_000);
      assert.deepEqual([...families.keys()].filter((name) => !name.startsWith('ksisv_')), []);
    });

    test('histograms: upstream calls by operation, API routes by template, pushes by event, rollout steps', async () => {
      const { families } = await scrape();
      const calls = (await stack.sandbox.control<Calls>('GET', '/calls')).json;
      for (const operation of ['uploadCode', 'submitAudit', 'release']) {
        const labels = { operation, result: 'http_2xx' };
        const count = valueOf(families, 'ksisv_upstream_call_duration_seconds_count', labels) ?? 0;
        // Every call the sandbox answered was timed (no faults here: each answered 2xx).
        assert.equal(count, sum(Object.values(calls.byApp).map((byOperation) => byOperation[operation]?.calls ?? 0)), `${operation} calls timed`);
        assert.ok(count >= 3, `${operation}: ${count} calls`);
        assert.equal(valueOf(families, 'ksisv_upstream_calls_total', labels), count, `${operation}: the counter agrees`);
        assert.ok(finiteObservations(families, 'ksisv_upstream_call_duration_seconds', labels) > 0, `${operation}: observations below +Inf`);
        assert.ok((valueOf(families, 'ksisv_upstream_call_duration_seconds_sum', labels) ?? 0) > 0);
      }

      const polled = valueOf(families, 'ksisv_http_request_duration_seconds_count', { method: 'GET', route: '/api/v1/rollouts/:id', status: '200' }) ?? 0;
      assert.ok(polled >= 2, `GET /api/v1/rollouts/:id timed: ${polled}`);
      assert.equal(valueOf(families, 'ksisv_http_requests_total', { method: 'GET', route: '/api/v1/rollouts/:id', status: '200' }), polled);
      for (const sample of samplesOf(families, 'ksisv_http_request_duration_seconds_count')) {
        const route = sample.labels.route!;
        assert.ok(route === 'unmatched' || route.startsWith('/'), `a route template: ${route}`);
      }

      const auditResults = sum(samplesOf(families, 'ksisv_pushes_total', { event: 'auditResult' }).map((sample) => sample.value));
      assert.ok(auditResults >= 4, `audit results pushed: ${auditResults}`);
      assert.equal(valueOf(families, 'ksisv_push_handle_duration_seconds_count', { event: 'auditResult' }), auditResults);
      assert.ok(finiteObservations(families, 'ksisv_push_handle_duration_seconds', { event: 'auditResult' }) > 0);

      const uploads = valueOf(families, 'ksisv_rollout_step_duration_seconds_count', { step: 'pending', outcome: 'advanced' }) ?? 0;
      assert.ok(uploads >= 7, `steps from pending: ${uploads} (3 + 1 + 3 targets)`);
      assert.ok(finiteObservations(families, 'ksisv_rollout_step_duration_seconds', { step: 'pending', outcome: 'advanced' }) > 0);
      for (const sample of samplesOf(families, 'ksisv_rollout_step_duration_seconds_count')) {
        assert.match(sample.labels.step!, /^(pending|uploaded|auditing|audit_passed|domains|rollback)$/);
        assert.match(sample.labels.outcome!, /^(advanced|waiting|retry|failed|rejected|lost_lease)$/);
      }
    });

    test('gauges agree with the API and the store', async () => {
      const { families } = await scrape();
      const rollouts = (await stack.api<{ items: RolloutJson[] }>('GET', '/api/v1/rollouts?limit=200')).json.items;
      assert.ok(rollouts.filter((rollout) => rollout.status === 'completed').length >= 2, 'the operator rollout and the onboarding completed');
      for (const status of ['running', 'paused', 'completed', 'aborted', 'rolling_back', 'rolled_back']) {
        assert.equal(valueOf(families, 'ksisv_rollouts', { status }), rollouts.filter((rollout) => rollout.status === status).length, `rollouts ${status}`);
      }
      assert.ok((valueOf(families, 'ksisv_rollouts', { status: 'completed' }) ?? 0) >= 1);

      const expectedTargets: Record<string, number> = {};
      for (const rollout of rollouts.filter((r) => r.status === 'running' || r.status === 'paused')) {
        const { progress } = (await stack.api<RolloutAnswer>('GET', `/api/v1/rollouts/${rollout.id}`)).json;
        for (const [state, count] of Object.entries(progress.byState)) expectedTargets[state] = (expectedTargets[state] ?? 0) + count;
      }
      assert.equal(expectedTargets.auditing, 3, 'the rollout under audit');
      for (const state of TARGET_STATES) assert.equal(valueOf(families, 'ksisv_rollout_targets', { state }), expectedTargets[state] ?? 0, `targets ${state}`);
      assert.deepEqual(samplesOf(families, 'ksisv_rollout_targets').map((sample) => sample.labels.state).sort(), [...TARGET_STATES].sort(), 'bounded: one series per state');

      const authorized = await stack.service.store.merchants.count({ status: 'authorized' });
      const revoked = await stack.service.store.merchants.count({ status: 'revoked' });
      assert.deepEqual([authorized, revoked], [5, 1]);
      assert.equal(valueOf(families, 'ksisv_merchants', { status: 'authorized' }), authorized);
      assert.equal(valueOf(families, 'ksisv_merchants', { status: 'revoked' }), revoked);

      // Onboardings: what each merchant's page shows, and the stuck list.
      const shown: Partial<Record<string, number>> = {};
      for (const appId of apps) {
        const status = (await stack.api<{ onboarding: { status: string } }>('GET', `/api/v1/merchants/${appId}`)).json.onboarding.status;
        if (status !== 'none' && status !== 'disabled') shown[status] = (shown[status] ?? 0) + 1;
      }
      assert.deepEqual({ ...shown }, { live: 1, blocked: 1 });
      for (const status of ['blocked', 'starting', 'in_progress', 'live', 'failed']) {
        assert.equal(valueOf(families, 'ksisv_onboardings', { status }), shown[status] ?? 0, `onboardings ${status}`);
      }
      const stuck = (await stack.api<{ items: { appId: string }[] }>('GET', '/api/v1/merchants?onboarding=stuck&limit=100')).json.items;
      assert.deepEqual(stuck.map((merchant) => merchant.appId), [apps[5]]);
      assert.equal(valueOf(families, 'ksisv_onboardings', { status: 'stuck' }), stuck.length);

      // Seconds until the stored ticket and component token expire, as the durable store holds them.
      const componentAppId = stack.sandbox.sandbox.runtime.state.component.componentAppId;
      for (const [name, key] of [
        ['ksisv_component_ticket_expiry_seconds', credentialKeys.ticket(componentAppId)],
        ['ksisv_component_token_expiry_seconds', credentialKeys.componentToken(componentAppId)],
      ] as const) {
        const stored = await stack.service.store.tokenStore.get(key);
        assert.ok(stored, `${key} stored`);
        const seconds = valueOf(families, name);
        assert.ok(seconds !== undefined && seconds > 0, `${name}: ${seconds}`);
        assert.ok(Math.abs(seconds - (stored.expiresAt - Date.now()) / 1000) < 30, `${name} ${seconds} vs stored ${stored.expiresAt}`);
      }
    });

    test('no appId and no secret anywhere in the text', async () => {
      const { text } = await scrape();
      const { component } = stack.sandbox.sandbox.runtime.state;
      const secrets = [component.componentAppSecret, component.messageToken, component.messageKey, ...Object.values(stack.keys)];
      for (const key of [credentialKeys.ticket(component.componentAppId), credentialKeys.componentToken(component.componentAppId), ...apps.map((appId) => credentialKeys.authorizer(component.componentAppId, appId))]) {
        const stored = await stack.service.store.tokenStore.get(key);
        if (stored) secrets.push(stored.value, ...(stored.refreshToken ? [stored.refreshToken] : []));
      }
      assert.ok(secrets.length >= 10, `secrets to look for: ${secrets.length}`);
      for (const secret of secrets) assert.ok(secret.length >= 8 && !text.includes(secret), 'a secret in /metrics');
      for (const appId of apps) assert.ok(!text.includes(appId), `${appId} in /metrics`);
      assert.ok(!text.includes(component.componentAppId), 'the component app id in /metrics');
      assert.ok(!text.includes(underAudit), 'a rollout id in /metrics');
    });

    test('a gauge whose query fails is left out (and logged); the rest of the scrape is served', async (t) => {
      const merchants = stack.service.store.merchants;
      const original = merchants.countByStatus.bind(merchants);
      merchants.countByStatus = () => Promise.reject(new Error('connection lost'));
      t.after(() => {
        merchants.countByStatus = original;
      });
      const logged = stack.logs.length;
      const { families } = await scrape();
      assert.deepEqual(families.get('ksisv_merchants')?.samples, []);
      assert.ok((valueOf(families, 'ksisv_rollouts', { status: 'completed' }) ?? 0) >= 1, 'the other gauges are there');
      assert.ok(samplesOf(families, 'ksisv_upstream_calls_total').length > 0, 'and the counters');
      assert.ok(stack.logs.slice(logged).some((line) => line.includes('a gauge could not be read') && line.includes('ksisv_merchants') && line.includes('connection lost')));
      merchants.countByStatus = original;
      assert.equal(valueOf((await scrape()).families, 'ksisv_merchants', { status: 'authorized' }), 5, 'back on the next scrape');
    });
  });

  describe(`GET /metrics with METRICS_TOKEN on ${dialect.name}`, { skip: dialect.skip, timeout: 60_000 }, () => {
    const token = 'metrics-token-0123456789abcdef';
    let stack: Stack;

    before(async () => {
      stack = await startStack(dialect, { env: { METRICS_TOKEN: token } });
    });
    after(async () => {
      await stack?.close();
      await dialect.cleanup();
    });

    test('401 in the error shape without the token, with a wrong one, or with an API key; 200 with it', async () => {
      const missing = assertError(await stack.api('GET', '/metrics', { key: null }), 401, 'unauthenticated', 'no token');
      assert.match(missing.message, /METRICS_TOKEN/);
      assert.deepEqual(missing.details, {});
      assertError(await stack.api('GET', '/metrics', { key: `${token}x` }), 401, 'unauthenticated', 'a wrong token');
      assertError(await stack.api('GET', '/metrics', { key: token.slice(0, -1) }), 401, 'unauthenticated', 'a prefix of it');
      assertError(await stack.api('GET', '/metrics', { key: stack.keys.admin }), 401, 'unauthenticated', 'an admin API key');
      assertError(await stack.api('GET', '/metrics', { key: null, headers: { authorization: `Basic ${token}` } }), 401, 'unauthenticated', 'another scheme');
      const refused = await stack.api('GET', '/metrics', { key: null });
      assert.equal(refused.headers.get('www-authenticate'), 'Bearer realm="metrics"');
      assert.ok(!refused.bytes.toString('utf8').includes('ksisv_'), 'no metrics in the refusal');

      const scraped = await stack.api('GET', '/metrics', { key: token });
      assert.equal(scraped.status, 200);
      assert.equal(scraped.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
      const families = parseExposition(scraped.bytes.toString('utf8'));
      assert.equal(families.get('ksisv_http_requests_total')?.type, 'counter');
      // The refusals were requests too, counted under their route.
      assert.equal(valueOf(families, 'ksisv_http_requests_total', { method: 'GET', route: '/metrics', status: '401' }), 6);
      // Other routes are unaffected: /healthz stays public.
      assert.equal((await stack.api('GET', '/healthz', { key: null })).status, 200);
    });
  });
}
