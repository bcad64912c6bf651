/**
 * The sandbox under stress and abuse: injected faults (5xx, hangs, rate limit, latency) at their configured
 * rates and without side effects; state kept across a restart; bad input of every kind answered in the
 * right error shape, never a 500 or a stack trace; bulk merchants; reset.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { KuaishouClient } from '../../src/kuaishou/client.ts';
import { ENDPOINTS } from '../../src/kuaishou/endpoints.ts';
import { buildExtJson } from '../../src/kuaishou/ext-json.ts';
import { KuaishouApiError, RateLimitedError, TimeoutError } from '../../src/kuaishou/errors.ts';
import type { CallCounts } from '../../src/sandbox/calls.ts';
import { PushReceiver } from '../helpers/push-receiver.ts';
import { startRawSandbox as startSandbox, type RawSandbox as Started } from '../helpers/raw-sandbox.ts';


/** A component token and an authorizer token for `appId`, without a push receiver: the ticket is read from state. */
async function credentials(s: Started, appId: string, permissions = [1, 2, 3, 4]): Promise<{ componentToken: string; accessToken: string; refreshToken: string }> {
  assert.equal((await s.control('POST', '/sandbox/api/tickets')).status, 201);
  const tickets = s.sandbox.runtime.state.data.credentials.tickets;
  const ticket = Object.keys(tickets).at(-1);
  assert.ok(ticket);
  const componentToken = (await s.client.getComponentAccessToken(ticket)).accessToken;
  const { status, body } = await s.control<{ authorizationCode: string }>('POST', '/sandbox/api/authorizations', { appId, permissions });
  assert.equal(status, 201);
  const tokens = await s.client.exchangeAuthorizationCode(componentToken, body.authorizationCode);
  return { componentToken, accessToken: tokens.accessToken, refreshToken: tokens.refreshToken };
}

/** Runs `one(i)` for i < n with `concurrency` in flight; results in order. */
async function pool<T>(n: number, concurrency: number, one: (i: number) => Promise<T>): Promise<T[]> {
  const results: T[] = new Array<T>(n);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      results[i] = await one(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, concurrency) }, worker));
  return results;
}

async function pollUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

const APP = (n: number): string => `ks${String(n).padStart(16, '0')}`;
const VERSIONS_PATH = ENDPOINTS.getVersions.path;
const UPLOAD_PATH = ENDPOINTS.uploadCode.path;

// ---- faults ----------------------------------------------------------------------------------------------

describe('sandbox faults', () => {
  let s: Started;
  let token: string;
  let versionsUrl: string;

  const faults = (patch: Record<string, unknown>) => s.control('PUT', '/sandbox/api/faults', patch);
  const calls = async (): Promise<CallCounts> => (await s.control<CallCounts>('GET', '/sandbox/api/calls')).body;

  before(async () => {
    s = await startSandbox();
    token = (await credentials(s, APP(1))).accessToken;
    const query = new URLSearchParams({ component_app_id: s.keys.componentAppId, authorizer_access_token: token });
    versionsUrl = `${s.url}${VERSIONS_PATH}?${query.toString()}`;
  });

  after(async () => {
    await s.sandbox.close();
  });

  test('errorRate 0.2 → about 20% of calls answer HTTP 500 in the platform shape', async () => {
    assert.equal((await faults({ errorRate: 0.2 })).status, 200);
    const before = (await calls()).byOperation.getVersions?.faulted ?? 0;
    const N = 1000;
    const statuses = await pool(N, 32, async () => {
      const response = await fetch(versionsUrl);
      const body = (await response.json()) as { result: number; error_msg?: string };
      if (response.status === 500) {
        assert.equal(body.result, 100200500);
        assert.equal(typeof body.error_msg, 'string');
      } else {
        assert.equal(response.status, 200);
        assert.equal(body.result, 1);
      }
      return response.status;
    });
    await faults({ errorRate: 0 });
    const errors = statuses.filter((status) => status === 500).length;
    const share = errors / N;
    // σ = sqrt(0.2·0.8/1000) ≈ 0.0126: ±0.06 is over 4.7σ (a false alarm about once in 400,000 runs).
    assert.ok(Math.abs(share - 0.2) <= 0.06, `share of 500s ${share.toFixed(3)}`);
    assert.equal(((await calls()).byOperation.getVersions?.faulted ?? 0) - before, errors, 'every 500 counted as faulted');
  });

  test('timeoutRate 0.3 with hangMs 300 → the client (timeout 100 ms, no retries) gets TimeoutError at about that rate', async () => {
    assert.equal((await faults({ timeoutRate: 0.3, hangMs: 300 })).status, 200);
    const before = (await calls()).byOperation.getVersions?.faulted ?? 0;
    const client = new KuaishouClient({
      componentAppId: s.keys.componentAppId,
      componentAppSecret: 'unused',
      baseUrl: s.url,
      timeoutMs: 100,
      retry: { retries: 0 },
    });
    const N = 300;
    // Few in flight: client and sandbox share one event loop (on a busy machine, too), and queueing must
    // not push answered calls past the 100 ms timeout.
    const outcomes = await pool(N, 3, async () => {
      try {
        await client.getVersions(token);
        return 'ok';
      } catch (error) {
        if (error instanceof TimeoutError) {
          assert.equal(error.timeoutMs, 100);
          return 'timeout';
        }
        throw error;
      }
    });
    await faults({ timeoutRate: 0 });
    const timeouts = outcomes.filter((outcome) => outcome === 'timeout').length;
    const hangs = ((await calls()).byOperation.getVersions?.faulted ?? 0) - before;
    // σ = sqrt(0.3·0.7/300) ≈ 0.026: ±0.12 is over 4.5σ.
    assert.ok(Math.abs(timeouts / N - 0.3) <= 0.12, `share of timeouts ${(timeouts / N).toFixed(3)}`);
    assert.ok(Math.abs(hangs / N - 0.3) <= 0.12, `share of hangs ${(hangs / N).toFixed(3)}`);
    assert.ok(timeouts >= hangs, `every hang (${hangs}) is a timeout (${timeouts})`);
    // Faults off: the client works again.
    assert.equal((await client.getVersions(token)).development, undefined);
  });

  test('rateLimitPerSec 50 → a burst beyond it gets HTTP 429, code 400002 and retry-after', async () => {
    assert.equal((await faults({ rateLimitPerSec: 50 })).status, 200);
    const N = 150;
    const started = performance.now();
    const answers = await pool(N, N, async () => {
      const response = await fetch(versionsUrl);
      return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as { result: number; error_msg?: string } };
    });
    const elapsedMs = performance.now() - started;
    const ok = answers.filter((a) => a.status === 200);
    const limited = answers.filter((a) => a.status === 429);
    assert.equal(ok.length + limited.length, N);
    // Fixed one-second windows: the burst spans at most ⌈elapsed⌉ + 1 of them.
    const windows = Math.ceil(elapsedMs / 1000) + 1;
    assert.ok(ok.length >= 1 && ok.length <= 50 * windows, `${ok.length} answered in ${elapsedMs.toFixed(0)} ms`);
    assert.ok(limited.length >= N - 50 * windows, `${limited.length} limited`);
    for (const answer of limited) {
      assert.equal(answer.retryAfter, '1');
      assert.equal(answer.body.result, 400002);
      assert.equal(typeof answer.body.error_msg, 'string');
    }
    // Through the client: a typed RateLimitedError (bounded: the window may roll over once).
    const error = await pollUntil('a RateLimitedError', 5000, async () => {
      const burst = await Promise.allSettled(Array.from({ length: 60 }, () => s.client.getVersions(token)));
      const rejected = burst.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      return rejected?.reason as unknown;
    });
    assert.ok(error instanceof RateLimitedError, String(error));
    assert.equal(error.code, 400002);
    assert.equal(error.httpStatus, 429);
    assert.equal(error.retryAfterMs, 1000);
    await faults({ rateLimitPerSec: 0 });
    const after = await pool(100, 100, async () => (await fetch(versionsUrl)).status);
    assert.ok(after.every((status) => status === 200));
  });

  test('latencyMs adds latency to platform calls (not to the control API)', async () => {
    const time = async (url: string): Promise<number> => {
      const started = performance.now();
      await (await fetch(url)).arrayBuffer();
      return performance.now() - started;
    };
    const plain = await pool(5, 1, () => time(versionsUrl));
    assert.equal((await faults({ latencyMs: 150 })).status, 200);
    const slowed = await pool(5, 1, () => time(versionsUrl));
    const control = await time(`${s.url}/sandbox/api/faults`);
    await faults({ latencyMs: 0 });
    assert.ok(Math.min(...slowed) >= 145, `with latency: ${slowed.map((ms) => ms.toFixed(0)).join(', ')} ms`);
    assert.ok(median(plain) < median(slowed) - 50, `without ${median(plain).toFixed(0)} ms, with ${median(slowed).toFixed(0)} ms`);
    assert.ok(control < 145, `control API took ${control.toFixed(0)} ms`);
  });

  test('a faulted call changes nothing', async () => {
    const upload = (userVersion: string) =>
      fetch(`${s.url}${UPLOAD_PATH}?${new URLSearchParams({ component_app_id: s.keys.componentAppId, authorizer_access_token: token }).toString()}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ template_id: 1, user_version: userVersion, user_desc: '', ext_json: JSON.stringify(buildExtJson(APP(1), { ext: {} })) }),
      });
    assert.equal((await upload('1.0.0')).status, 200);
    const before = await s.client.getVersions(token);
    assert.equal(before.development?.userVersion, '1.0.0');
    const tokensBefore = Object.keys(s.sandbox.runtime.state.data.credentials.componentTokens).length;

    assert.equal((await faults({ errorRate: 1 })).status, 200);
    const faulted = await upload('2.0.0');
    assert.equal(faulted.status, 500);
    assert.deepEqual(await faulted.json(), { result: 100200500, error_msg: 'sandbox: injected fault' });
    const ticket = Object.keys(s.sandbox.runtime.state.data.credentials.tickets)[0]!;
    await assert.rejects(s.client.getComponentAccessToken(ticket), (error) => error instanceof KuaishouApiError && error.httpStatus === 500 && error.kind === 'transient');
    // The control API is not subject to faults.
    assert.equal((await s.control('GET', '/sandbox/api/state')).status, 200);
    await faults({ errorRate: 0 });

    assert.deepEqual(await s.client.getVersions(token), before);
    assert.equal(Object.keys(s.sandbox.runtime.state.data.credentials.componentTokens).length, tokensBefore);
  });

  test('invalid fault settings → 400 {error:{code,message}}, settings unchanged', async () => {
    const current = (await s.control('GET', '/sandbox/api/faults')).body;
    const invalid: unknown[] = [
      { errorRate: 1.5 },
      { errorRate: -0.1 },
      { errorRate: '0.2' },
      { timeoutRate: 2 },
      { errorRate: 0.6, timeoutRate: 0.5 },
      { latencyMs: null },
      { latencyMs: 1e12 },
      { hangMs: 2 ** 31 },
      { rateLimitPerSec: -5 },
      { rateLimitPerSec: true },
      { bogus: 1 },
      { __proto__: null, constructor: 1 },
      [],
      [{ errorRate: 0.1 }],
      'errorRate=0.5',
      5,
      null,
    ];
    for (const body of invalid) {
      const { status, body: answer } = await s.control<{ error?: { code?: unknown; message?: unknown } }>('PUT', '/sandbox/api/faults', body);
      assert.equal(status, 400, JSON.stringify(body));
      assert.equal(typeof answer.error?.code, 'string', JSON.stringify(body));
      assert.equal(typeof answer.error?.message, 'string', JSON.stringify(body));
    }
    assert.deepEqual((await s.control('GET', '/sandbox/api/faults')).body, current);
  });
});

// ---- persistence -----------------------------------------------------------------------------------------

describe('sandbox persistence (stateFile)', () => {
  let dir: string;
  const running: Started[] = [];
  let receiver: PushReceiver | undefined;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ks-sandbox-state-'));
  });

  after(async () => {
    for (const s of running) await s.sandbox.close();
    await receiver?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('authorizations, tokens and a pending audit survive a restart; the audit is decided when due', async () => {
    const stateFile = join(dir, 'nested', 'sandbox.json');
    // The audit comes due 1.5 s after submission: after the restart, with ample margin to see it pending.
    const first = await startSandbox({ stateFile, component: { auditDelayMs: 1500 } });
    running.push(first);
    receiver = await PushReceiver.start(first.keys);
    await first.control('PUT', '/sandbox/api/component', { authEventUrl: receiver.authEventUrl, messageUrl: receiver.messageUrl });
    const appId = APP(2);
    const { componentToken, accessToken, refreshToken } = await credentials(first, appId, [1, 2]);
    await first.client.uploadCode(accessToken, { templateId: 2, userVersion: '3.1.0', userDesc: 'persisted', extJson: buildExtJson(appId, { ext: { shop: 'B' } }) });
    const submittedAt = Date.now(); // taken before: the sandbox's own submission time is no earlier
    await first.client.submitAudit(accessToken, { auditNote: 'before restart' });
    assert.equal((await first.client.getVersions(accessToken)).audit?.status, 'auditing');
    await first.sandbox.close();
    running.length = 0;

    // A long delay for the second run: the decision must come from the stored due time, not from it.
    const second = await startSandbox({ stateFile, component: { auditDelayMs: 60_000 } });
    running.push(second);
    assert.notEqual(second.url, first.url);
    const mini = second.sandbox.runtime.state.app(appId);
    assert.deepEqual(mini?.authorization?.permissions, [1, 2]);
    const versions = await second.client.getVersions(accessToken);
    assert.equal(versions.development?.userVersion, '3.1.0');
    if (Date.now() - submittedAt < 1400) assert.equal(versions.audit?.status, 'auditing');
    assert.equal((await second.client.listTemplates(componentToken)).length, 2, 'the component token survived too');
    const state = await second.control<{ merchants: { apps: { appId: string; authorized: boolean }[] }[] }>('GET', '/sandbox/api/state');
    assert.equal(state.body.merchants.flatMap((m) => m.apps).find((a) => a.appId === appId)?.authorized, true);

    const decided = await pollUntil('the audit decision after restart', 10_000, async () => {
      const audit = (await second.client.getVersions(accessToken)).audit;
      return audit?.status === 'auditing' ? undefined : audit;
    });
    assert.equal(decided?.status, 'passed');
    assert.ok(Date.now() - submittedAt >= 1450, 'decided when due, not at once');
    // Registration survived too: the result was pushed to the receiver registered before the restart.
    const pushed = await receiver.waitForEvent('auditResult', (event) => event.appId === appId);
    assert.equal(pushed.event.userVersion, '3.1.0');
    assert.equal(pushed.event.passed, true);

    // The refresh token survived and is still single-use.
    const refreshed = await second.client.refreshAuthorizerToken(componentToken, { appId, refreshToken });
    await assert.rejects(second.client.getVersions(accessToken), (error) => error instanceof KuaishouApiError && error.kind === 'tokenInvalid');
    assert.equal((await second.client.getVersions(refreshed.accessToken)).audit?.status, 'passed');
  });
});

// ---- bad input -------------------------------------------------------------------------------------------

type Style = 'oauth' | 'openapi' | 'control' | 'html';

interface BadCase {
  name: string;
  method?: string;
  path: string;
  /** JSON-encoded unless `raw` is set. */
  body?: unknown;
  raw?: string | Buffer;
  contentType?: string;
  style: Style;
  /** Expected HTTP status; default: any 4xx (or 200 for a platform business error). */
  status?: number;
  /** Expected `result` code (platform) or `error.code` (control API). */
  code?: number | string;
}

describe('sandbox bad input', () => {
  let s: Started;
  let q: { secret: string; ctoken: string; atoken: string; base: string };

  before(async () => {
    s = await startSandbox();
    const { componentToken, accessToken } = await credentials(s, APP(1));
    const id = encodeURIComponent(s.keys.componentAppId);
    q = {
      base: `component_app_id=${id}`,
      secret: `component_app_id=${id}&component_app_secret=${encodeURIComponent(s.sandbox.runtime.state.component.componentAppSecret)}`,
      ctoken: `component_app_id=${id}&component_access_token=${componentToken}`,
      atoken: `component_app_id=${id}&authorizer_access_token=${accessToken}`,
    };
  });

  after(async () => {
    await s.sandbox.close();
  });

  const INVALID_PARAMS = 100200100;

  const cases = (): BadCase[] => {
    const list: BadCase[] = [];
    const add = (c: BadCase): void => void list.push(c);
    const OAUTH = '/mp/tp/oauth';

    // Missing query parameters on every T route.
    for (const path of ['start_push_ticket', 'access_token', 'pre_auth_code', 'authorizer_access_token', 're_authorization_code', 'refresh_authorizer_access_token']) {
      add({ name: `${path}: no query`, path: `${OAUTH}/${path}`, style: 'oauth', status: 200, code: INVALID_PARAMS });
      add({ name: `${path}: only component_app_id`, path: `${OAUTH}/${path}?${q.base}`, style: 'oauth', status: 200, code: INVALID_PARAMS });
      add({ name: `${path}: empty values`, path: `${OAUTH}/${path}?component_app_id=&component_app_secret=&component_access_token=`, style: 'oauth', status: 200, code: INVALID_PARAMS });
      add({ name: `${path}: another component`, path: `${OAUTH}/${path}?component_app_id=ks_other&component_app_secret=x&component_access_token=x`, style: 'oauth', status: 200, code: 100200101 });
    }
    add({ name: 'T1 wrong secret', path: `${OAUTH}/start_push_ticket?${q.base}&component_app_secret=wrong`, style: 'oauth', status: 200, code: 100200101 });
    add({ name: 'T2 no ticket', path: `${OAUTH}/access_token?${q.secret}`, style: 'oauth', status: 200, code: INVALID_PARAMS });
    add({ name: 'T4 no code', path: `${OAUTH}/authorizer_access_token?${q.ctoken}`, style: 'oauth', status: 200, code: INVALID_PARAMS });
    add({ name: 'T5 no app', path: `${OAUTH}/re_authorization_code?${q.ctoken}`, style: 'oauth', status: 200, code: INVALID_PARAMS });
    add({ name: 'T6 no refresh token', path: `${OAUTH}/refresh_authorizer_access_token?${q.ctoken}&authorizer_app_id=${APP(1)}`, style: 'oauth', status: 200, code: INVALID_PARAMS });

    // Prototype keys as credentials and ids: refused like any unknown value.
    for (const key of ['__proto__', 'constructor', 'hasOwnProperty', 'toString']) {
      add({ name: `T2 ticket ${key}`, path: `${OAUTH}/access_token?${q.secret}&component_verify_ticket=${key}`, style: 'oauth', status: 200, code: 100200114 });
      add({ name: `T3 token ${key}`, path: `${OAUTH}/pre_auth_code?${q.base}&component_access_token=${key}`, style: 'oauth', status: 200, code: 100200102 });
      add({ name: `T4 code ${key}`, path: `${OAUTH}/authorizer_access_token?${q.ctoken}&authorization_code=${key}`, style: 'oauth', status: 200, code: 100200105 });
      add({ name: `T5 app ${key}`, path: `${OAUTH}/re_authorization_code?${q.ctoken}&authorized_app_id=${key}`, style: 'oauth', status: 200, code: 100200111 });
      add({ name: `T6 refresh ${key}`, path: `${OAUTH}/refresh_authorizer_access_token?${q.ctoken}&authorizer_app_id=${key}&authorizer_refresh_token=${key}`, style: 'oauth', status: 200, code: 100200113 });
      add({ name: `component_app_id ${key}`, path: `${OAUTH}/start_push_ticket?component_app_id=${key}&component_app_secret=${key}`, style: 'oauth', status: 200, code: 100200101 });
      add({ name: `A7 token ${key}`, path: `${VERSIONS_PATH}?${q.base}&authorizer_access_token=${key}`, style: 'openapi', status: 200, code: 100200102 });
      add({ name: `A12 token ${key}`, path: `${ENDPOINTS.listTemplates.path}?${q.base}&component_access_token=${key}`, style: 'openapi', status: 200, code: 100200102 });
      add({ name: `control authorize ${key}`, method: 'POST', path: '/sandbox/api/authorizations', body: { appId: key }, style: 'control', status: 404 });
      add({ name: `control revoke ${key}`, method: 'POST', path: '/sandbox/api/revocations', body: { appId: key }, style: 'control', status: 404 });
      add({ name: `control reauthorization ${key}`, method: 'POST', path: '/sandbox/api/reauthorization-codes', body: { appId: key }, style: 'control' });
      add({ name: `control audit decision ${key}`, method: 'POST', path: `/sandbox/api/audits/${key}`, body: { decision: 'pass' }, style: 'control', status: 404 });
      add({ name: `control capability decision ${key}`, method: 'POST', path: `/sandbox/api/capabilities/${key}`, body: { decision: 'approve', capability: 'LIVE_MOUNT' }, style: 'control', status: 404 });
      add({ name: `preview ${key}`, path: `/sandbox/preview/${key}`, style: 'html', status: 404 });
      add({ name: `revoke form ${key}`, method: 'POST', path: '/sandbox/revoke', raw: `app_id=${key}`, contentType: 'application/x-www-form-urlencoded', style: 'html', status: 400 });
    }
    add({ name: 'JSON with __proto__ (platform)', method: 'POST', path: `${ENDPOINTS.serverDomains.path}?${q.atoken}`, raw: '{"__proto__":{"polluted":1},"action":"get"}', contentType: 'application/json', style: 'openapi', status: 400 });
    add({ name: 'JSON with constructor.prototype (control)', method: 'POST', path: '/sandbox/api/merchants', raw: '{"constructor":{"prototype":{"polluted":1}}}', contentType: 'application/json', style: 'control', status: 400 });

    // Authorized rows without a token, and with wrong types in their bodies.
    for (const [operation, endpoint] of Object.entries(ENDPOINTS)) {
      if (endpoint.style !== 'openapi') continue;
      add({ name: `${operation}: no token`, method: endpoint.method, path: `${endpoint.path}?${q.base}`, ...(endpoint.method === 'POST' ? { body: {} } : {}), style: 'openapi', status: 200, code: INVALID_PARAMS });
      add({ name: `${operation}: no query at all`, method: endpoint.method, path: endpoint.path, ...(endpoint.method === 'POST' ? { body: {} } : {}), style: 'openapi', status: 200, code: INVALID_PARAMS });
      if (endpoint.method !== 'POST') continue;
      const path = `${endpoint.path}?${q.atoken}`;
      const bodies: [string, string | Buffer, string | undefined, number][] = [
        ['a JSON string', '"x"', 'application/json', 200],
        ['a JSON number', '5', 'application/json', 200],
        ['JSON null', 'null', 'application/json', 200],
        ['a JSON array', '[{"action":"get"}]', 'application/json', 200],
        ['not JSON', '{"action":', 'application/json', 400],
        ['an empty JSON body', '', 'application/json', 400],
        ['an empty body without content-type', '', undefined, 200],
        ['text/plain', 'action=get', 'text/plain', 200],
        ['an unknown media type', '<xml/>', 'application/xml', 415],
        ['a body over 1 MiB', Buffer.from(JSON.stringify({ action: 'get', pad: 'x'.repeat(1024 * 1024 + 16) })), 'application/json', 413],
      ];
      for (const [what, raw, contentType, status] of bodies) {
        add({ name: `${operation}: ${what}`, method: 'POST', path, raw, ...(contentType ? { contentType } : {}), style: 'openapi', status, code: INVALID_PARAMS });
      }
    }
    const A = (operation: keyof typeof ENDPOINTS, body: unknown, code = INVALID_PARAMS): void =>
      add({ name: `${operation}: ${JSON.stringify(body).slice(0, 60)}`, method: 'POST', path: `${ENDPOINTS[operation].path}?${q.atoken}`, body, style: 'openapi', status: 200, code });
    A('serverDomains', {});
    A('serverDomains', { action: 5 });
    A('serverDomains', { action: ['add'] });
    A('serverDomains', { action: 'add', request: 'x' });
    A('serverDomains', { action: 'add', request: [1] });
    A('serverDomains', { action: 'add', request: {} });
    A('serverDomains', { action: 'set', socket: [null] });
    A('serverDomains', { action: 'add', request: ['not a url'] }, 403102);
    A('serverDomains', { action: 'add', request: Array.from({ length: 201 }, (_, i) => `https://a${i}.example.com`) });
    A('webviewDomains', { action: 'add', webview_domain: 'https://example.com' });
    A('webviewDomains', { action: 'add', webview_domain: { 0: 'https://example.com' } });
    A('uploadCode', { template_id: '1', user_version: '1.0.0', ext_json: '{}' });
    A('uploadCode', { template_id: 1.5, user_version: '1.0.0', ext_json: '{}' });
    A('uploadCode', { template_id: 1, user_version: 5, ext_json: '{}' });
    A('uploadCode', { template_id: 1, user_version: '1.0.0', ext_json: {} });
    A('uploadCode', { template_id: 1, user_version: '1.0.0', ext_json: '[1]' }, 403202);
    A('uploadCode', { template_id: 1, user_version: '1.0.0', ext_json: 'not json' }, 403202);
    A('uploadCode', { template_id: 1, user_version: '1.0.0', user_desc: ['x'], ext_json: '{}' });
    A('uploadCode', { template_id: 99, user_version: '1.0.0', ext_json: '{}' }, 403201);
    A('submitAudit', { audit_note: 5 });
    A('applyCapability', { capability: 5 });
    A('applyCapability', { capability: '__proto__' });
    A('applyCapability', { capability: 'LIVE_MOUNT', reason: [] });
    A('applyCapability', { capability: 'LIVE_MOUNT', reason: 'x'.repeat(501) });
    add({ name: 'A6 bad version', path: `${ENDPOINTS.getQrCode.path}?${q.atoken}&version=bogus`, style: 'openapi', status: 200, code: INVALID_PARAMS });
    add({ name: 'A11 no capability', path: `${ENDPOINTS.getCapabilityStatus.path}?${q.atoken}`, style: 'openapi', status: 200, code: INVALID_PARAMS });
    add({ name: 'A11 capability constructor', path: `${ENDPOINTS.getCapabilityStatus.path}?${q.atoken}&capability=constructor`, style: 'openapi', status: 200, code: INVALID_PARAMS });
    add({ name: 'oauth: a body over 1 MiB', method: 'POST', path: `${OAUTH}/start_push_ticket`, raw: Buffer.alloc(1024 * 1024 + 1, 0x61), contentType: 'application/json', style: 'oauth', status: 413 });

    // Unknown paths and methods.
    add({ name: 'unknown openapi path', path: '/openapi/mp/auth/app/nope', style: 'openapi', status: 404 });
    add({ name: 'unknown oauth path', path: `${OAUTH}/nope`, style: 'oauth', status: 404 });
    add({ name: 'unknown /mp path', method: 'POST', path: '/mp/x', body: {}, style: 'oauth', status: 404 });
    add({ name: 'GET on a POST row', path: `${UPLOAD_PATH}?${q.atoken}`, style: 'openapi', status: 404 });
    add({ name: 'POST on a GET row', method: 'POST', path: `${VERSIONS_PATH}?${q.atoken}`, body: {}, style: 'openapi', status: 404 });
    add({ name: 'malformed %-escape in an openapi path', path: '/openapi/mp/auth/app/%E0%A4%A', style: 'openapi', status: 400, code: INVALID_PARAMS });
    add({ name: 'malformed %-escape in an oauth path', path: `${OAUTH}/%E0%A4%A`, style: 'oauth', status: 400, code: INVALID_PARAMS });
    add({ name: 'malformed %-escape in a query', path: `${OAUTH}/access_token?component_app_id=%E0%A4%A&component_app_secret=%&x=%zz`, style: 'oauth', status: 200 });
    add({ name: 'malformed %-escape in a control path', method: 'POST', path: '/sandbox/api/audits/%E0%A4%A', body: { decision: 'pass' }, style: 'control', status: 400 });
    add({ name: 'a path parameter over 100 characters', method: 'POST', path: `/sandbox/api/audits/ks${'0'.repeat(150)}`, body: { decision: 'pass' }, style: 'control', status: 414 });
    add({ name: 'unknown control path', path: '/sandbox/api/nope', style: 'control', status: 404, code: 'not_found' });
    add({ name: 'unknown root path', method: 'DELETE', path: '/nope', style: 'control', status: 404, code: 'not_found' });

    // The control API: non-object bodies, wrong types, out-of-range counts.
    for (const path of ['/sandbox/api/merchants', '/sandbox/api/authorizations', '/sandbox/api/revocations', '/sandbox/api/reauthorization-codes', `/sandbox/api/audits/${APP(1)}`, `/sandbox/api/capabilities/${APP(1)}`, '/sandbox/api/templates']) {
      for (const [what, raw, contentType] of [['array', '[]', 'application/json'], ['string', '"x"', 'application/json'], ['number', '7', 'application/json'], ['null', 'null', 'application/json'], ['not JSON', '{', 'application/json'], ['empty JSON', '', 'application/json'], ['no body', '', undefined]] as const) {
        add({ name: `${path}: ${what}`, method: 'POST', path, raw, ...(contentType ? { contentType } : {}), style: 'control', status: 400 });
      }
    }
    add({ name: 'control: a body over 1 MiB', method: 'POST', path: '/sandbox/api/merchants', raw: Buffer.from(JSON.stringify({ count: 1, pad: 'x'.repeat(1024 * 1024) })), contentType: 'application/json', style: 'control', status: 413 });
    for (const count of [0, 10_001, -1, 1.5, '5', [1], { n: 1 }]) {
      add({ name: `merchants count ${JSON.stringify(count)}`, method: 'POST', path: '/sandbox/api/merchants', body: { count }, style: 'control', status: 400, code: 'invalid_count' });
    }
    add({ name: 'component: not an object', method: 'PUT', path: '/sandbox/api/component', body: ['x'], style: 'control', status: 400 });
    for (const patch of [
      { bogus: 1 },
      { auditDelayMs: 'x' },
      { auditDelayMs: -2 },
      { auditDelayMs: 1e12 },
      { ticketIntervalS: 0 },
      { ticketIntervalS: 3_000_000 },
      { capabilityDelayMs: 2 ** 31 },
      { serverDomains: 5 },
      { serverDomains: null },
      { serverDomains: ['not a host'] },
      { webviewDomains: [1] },
      { messageKey: 'short' },
      { authEventUrl: 'javascript:alert(1)' },
      { messageUrl: 5 },
      { componentAppId: '' },
    ]) {
      add({ name: `component ${JSON.stringify(patch)}`, method: 'PUT', path: '/sandbox/api/component', body: patch, style: 'control', status: 400 });
    }
    add({ name: 'authorize: permissions not an array', method: 'POST', path: '/sandbox/api/authorizations', body: { appId: APP(3), permissions: '1' }, style: 'control', status: 400 });
    add({ name: 'authorize: permissions of strings', method: 'POST', path: '/sandbox/api/authorizations', body: { appId: APP(3), permissions: ['1'] }, style: 'control', status: 400 });
    add({ name: 'authorize: appId a number', method: 'POST', path: '/sandbox/api/authorizations', body: { appId: 3 }, style: 'control', status: 400 });
    add({ name: 'authorize: unknown permission set', method: 'POST', path: '/sandbox/api/authorizations', body: { appId: APP(3), permissions: [9] }, style: 'control' });
    for (const redirectUri of ['ftp://x', 'http://', 'https://exa mple.com', 5]) {
      add({ name: `authorize: redirectUri ${JSON.stringify(redirectUri)}`, method: 'POST', path: '/sandbox/api/authorizations', body: { appId: APP(3), permissions: [1], redirectUri }, style: 'control', status: 400 });
    }
    add({ name: 'audit decision: bad decision', method: 'POST', path: `/sandbox/api/audits/${APP(1)}`, body: { decision: 'maybe' }, style: 'control', status: 400 });
    add({ name: 'audit decision: reason a number', method: 'POST', path: `/sandbox/api/audits/${APP(1)}`, body: { decision: 'pass', reason: 5 }, style: 'control', status: 400 });
    add({ name: 'audit decision: nothing to decide', method: 'POST', path: `/sandbox/api/audits/${APP(1)}`, body: { decision: 'pass' }, style: 'control', status: 409 });
    add({ name: 'capability decision: bad capability', method: 'POST', path: `/sandbox/api/capabilities/${APP(1)}`, body: { decision: 'approve', capability: 5 }, style: 'control' });
    add({ name: 'template: no version', method: 'POST', path: '/sandbox/api/templates', body: { userVersion: 5 }, style: 'control', status: 400 });
    add({ name: 'template: version too long', method: 'POST', path: '/sandbox/api/templates', body: { userVersion: 'x'.repeat(65) }, style: 'control', status: 400 });
    return list;
  };

  test('every bad request is answered in its route family’s error shape: 4xx or a platform business error, never a 500', async () => {
    const list = cases();
    assert.ok(list.length > 250, `${list.length} cases`);
    const failures: string[] = [];
    for (const c of list) {
      const method = c.method ?? 'GET';
      const headers: Record<string, string> = {};
      let body: string | Buffer | undefined;
      if (c.raw !== undefined) {
        body = c.raw;
        if (c.contentType) headers['content-type'] = c.contentType;
      } else if (c.body !== undefined) {
        body = JSON.stringify(c.body);
        headers['content-type'] = 'application/json';
      }
      const response = await fetch(`${s.url}${c.path}`, { method, headers, ...(body !== undefined && method !== 'GET' ? { body } : {}), redirect: 'manual' });
      const text = await response.text();
      const problems: string[] = [];
      const status = response.status;
      if (status >= 500) problems.push(`HTTP ${status}`);
      if (c.status !== undefined && status !== c.status) problems.push(`HTTP ${status}, want ${c.status}`);
      if (/\n\s+at |node_modules|\.ts:\d+|Error:/.test(text)) problems.push('looks like a stack trace');
      if (c.style === 'html') {
        if (!(response.headers.get('content-type') ?? '').startsWith('text/html')) problems.push('not HTML');
      } else {
        let json: Record<string, unknown> | undefined;
        try {
          json = JSON.parse(text) as Record<string, unknown>;
        } catch {
          problems.push('not JSON');
        }
        if (json && c.style === 'control') {
          const error = json.error as { code?: unknown; message?: unknown } | undefined;
          if (status < 400) problems.push(`control API answered ${status}`);
          if (typeof error?.code !== 'string' || typeof error.message !== 'string') problems.push('not {error:{code,message}}');
          else if (c.code !== undefined && error.code !== c.code) problems.push(`error.code ${error.code}, want ${String(c.code)}`);
        } else if (json) {
          const field = c.style === 'oauth' ? 'errorMsg' : 'error_msg';
          if (typeof json.result !== 'number' || json.result === 1) problems.push(`result ${String(json.result)}`);
          if (typeof json[field] !== 'string') problems.push(`no ${field}`);
          if (c.code !== undefined && json.result !== c.code) problems.push(`result ${String(json.result)}, want ${c.code}`);
          if (status !== 200 && (status < 400 || status >= 500)) problems.push(`HTTP ${status}`);
        }
      }
      if (problems.length > 0) failures.push(`${c.name} (${method} ${c.path.split('?')[0]}): ${problems.join('; ')} — ${text.slice(0, 160)}`);
    }
    assert.deepEqual(failures, []);

    // Nothing was authorized, polluted or created by all that.
    const state = s.sandbox.runtime.state;
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.ok(!Object.hasOwn(state.data.apps, '__proto__') && !Object.hasOwn(state.data.apps, 'constructor'));
    assert.equal(Object.keys(state.data.merchants).length, 5);
    assert.equal(state.app(APP(3))?.authorization, undefined, 'a refused authorization left none behind');
    assert.deepEqual(state.component.serverDomains, ['example.com']);
    assert.equal(state.component.auditDelayMs, 50);
    assert.equal(state.data.templates.length, 2);
    // And the sandbox still answers properly.
    assert.equal((await s.control('GET', '/healthz')).status, 200);
  });
});

// ---- bulk merchants and reset ----------------------------------------------------------------------------

describe('sandbox bulk merchants and reset', () => {
  let s: Started;

  before(async () => {
    s = await startSandbox();
  });

  after(async () => {
    await s.sandbox.close();
  });

  test('10,000 merchants in one call, quickly; the state then lists 10,005; reset brings back the seeded 5', async () => {
    const started = performance.now();
    const created = await s.control<{ merchants: { merchantId: string; appIds: string[] }[] }>('POST', '/sandbox/api/merchants', { count: 10_000 });
    const elapsedMs = performance.now() - started;
    assert.equal(created.status, 201);
    assert.equal(created.body.merchants.length, 10_000);
    assert.ok(elapsedMs < 5000, `took ${elapsedMs.toFixed(0)} ms`);
    assert.equal(created.body.merchants.at(-1)?.merchantId, 'm010005');
    assert.equal(new Set(created.body.merchants.flatMap((m) => m.appIds)).size, 10_000);

    const state = await s.control<{ merchants: { merchantId: string; apps: unknown[] }[] }>('GET', '/sandbox/api/state');
    assert.equal(state.status, 200);
    assert.equal(state.body.merchants.length, 10_005);
    // The pages stay bounded.
    const home = await fetch(`${s.url}/sandbox?page=201`);
    assert.equal(home.status, 200);
    assert.match(await home.text(), /第 201 \/ 201 页/);

    // One of them can be authorized like a seeded one.
    const last = created.body.merchants.at(-1)!.appIds[0]!;
    assert.equal((await s.control('POST', '/sandbox/api/authorizations', { appId: last, permissions: [1] })).status, 201);

    const reset = await s.control('POST', '/sandbox/api/reset');
    assert.deepEqual(reset, { status: 200, body: { reset: true } });
    const after = await s.control<{ merchants: { merchantId: string; name: string; apps: { authorized: boolean }[] }[] }>('GET', '/sandbox/api/state');
    assert.deepEqual(after.body.merchants.map((m) => m.merchantId), ['m000001', 'm000002', 'm000003', 'm000004', 'm000005']);
    assert.equal(after.body.merchants[0]?.name, '川味小馆');
    assert.ok(after.body.merchants.every((m) => m.apps.every((a) => !a.authorized)));
    assert.equal(s.sandbox.runtime.state.app(last), undefined);
  });
});
