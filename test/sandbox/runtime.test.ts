/**
 * The sandbox's mini-program side, over HTTP: users, ks.login codes and R1 (single use, bound to one app,
 * expiring, a new session_key each time), the getPhoneNumber button (sealed with the current key, only with
 * an approved capability), R2 (form fields, its error codes, 100/s per app, the message log), ks.request
 * (the domain rule, loopback allowed, really proxied) and the simulator page.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { ENDPOINTS, openPhoneNumber, PhoneDataError, type KuaishouPlatform } from '../../src/kuaishou/index.ts';
import { buildSandbox } from '../../src/sandbox/app.ts';
import { sandboxOptionsFromEnv } from '../../src/sandbox/config.ts';
import type { SentMessage, UserRecord } from '../../src/sandbox/model.ts';
import { checkRequestUrl } from '../../src/sandbox/native-request.ts';
import { assertApiError, startSandbox, waitFor, type SandboxHarness } from '../helpers/sandbox.ts';

interface ControlFailure {
  error: { code: string; message: string };
  errMsg?: string;
}

describe('sandbox mini-program side', () => {
  let sb: SandboxHarness;
  let ks: KuaishouPlatform;
  /** Two authorized apps, X and Y. */
  let X: string;
  let Y: string;
  let alice: UserRecord;

  const newUser = async (nickname: string, phoneNumber?: string): Promise<UserRecord> => {
    const answer = await sb.control<UserRecord>('POST', '/users', { nickname, ...(phoneNumber ? { phoneNumber } : {}) });
    assert.equal(answer.status, 201, JSON.stringify(answer.json));
    return answer.json;
  };
  const login = async (appId: string, userId: string): Promise<string> => {
    const answer = await sb.control<{ code: string; expiresInS: number }>('POST', `/apps/${appId}/login`, { userId });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.equal(answer.json.expiresInS, 300);
    return answer.json.code;
  };
  const phone = (appId: string, userId: string) => sb.control<{ encryptedData: string; iv: string } & Partial<ControlFailure>>('POST', `/apps/${appId}/phone`, { userId });
  const tokenOf = (appId: string): string => sb.sandbox.runtime.state.data.credentials.livePairs[appId]!.accessToken;
  const r2 = (appId: string, fields: Record<string, string>, contentType = 'application/x-www-form-urlencoded'): Promise<Response> => {
    const query = new URLSearchParams({ component_app_id: sb.sandbox.runtime.state.component.componentAppId, authorizer_access_token: tokenOf(appId) });
    const body = contentType.startsWith('application/json') ? JSON.stringify(fields) : new URLSearchParams(fields).toString();
    return sb.request(`${ENDPOINTS.sendSubscriptionMessage.path}?${query.toString()}`, { method: 'POST', headers: { 'content-type': contentType }, body });
  };
  const approvePhone = async (appId: string): Promise<void> => {
    await ks.applyCapability(appId, { capability: 'phoneNumber' });
    await waitFor(() => (sb.sandbox.runtime.state.app(appId)?.capabilities.PHONE_NUMBER?.status === 'APPROVED' ? true : undefined), { what: 'phone capability' });
  };

  before(async () => {
    sb = await startSandbox();
    ks = sb.platform();
    await sb.ticket();
    [X, Y] = (await sb.newApps(2)) as [string, string];
    await sb.authorize(X);
    await sb.authorize(Y);
    alice = await newUser('小红', '13800138000');
  });
  after(() => sb.close());

  // ---- users ------------------------------------------------------------------------------------------

  test('users: created with a generated mainland number when none is given, listed; bad input → 400', async () => {
    const bob = await newUser('  阿强  ');
    assert.equal(bob.nickname, '阿强');
    assert.match(bob.phoneNumber, /^138\d{8}$/);
    assert.match(bob.userId, /^u\d{6}$/);
    assert.equal(alice.phoneNumber, '13800138000');
    const listed = await sb.control<{ items: UserRecord[] }>('GET', '/users');
    assert.ok(listed.json.items.some((user) => user.userId === bob.userId));
    for (const body of [{}, { nickname: '' }, { nickname: '   ' }, { nickname: 'x'.repeat(33) }, { nickname: 5 }, { nickname: 'a', phoneNumber: '23800138000' }, { nickname: 'a', phoneNumber: '1380013800' }, { nickname: 'a', phoneNumber: 13800138000 }]) {
      const answer = await sb.control<ControlFailure>('POST', '/users', body);
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.equal(typeof answer.json.error.message, 'string');
    }
    assert.equal((await sb.control('POST', '/users', { nickname: 'x'.repeat(32) })).status, 201);
  });

  test('ks.login: unknown app or user → 404 in the control API style; missing userId → 400', async () => {
    const unknownApp = await sb.control<ControlFailure>('POST', '/apps/ks_nope/login', { userId: alice.userId });
    assert.equal(unknownApp.status, 404);
    assert.equal(typeof unknownApp.json.error.code, 'string');
    assert.equal((await sb.control<ControlFailure>('POST', `/apps/${X}/login`, { userId: 'u999999' })).status, 404);
    assert.equal((await sb.control<ControlFailure>('POST', `/apps/${X}/login`, { userId: '__proto__' })).status, 404);
    assert.equal((await sb.control<ControlFailure>('POST', `/apps/${X}/login`, {})).status, 400);
  });

  // ---- R1 -----------------------------------------------------------------------------------------------

  test('R1: a code is single use; the answer has the openId and a 16-byte session_key', async () => {
    const code = await login(X, alice.userId);
    const session = await ks.code2Session(X, code);
    assert.match(session.openId, /^[0-9a-f]{32}$/);
    assert.equal(Buffer.from(session.sessionKey, 'base64').length, 16);
    await assertApiError(ks.code2Session(X, code), 'JS_CODE_INVALID');
    await assertApiError(ks.code2Session(X, 'not-a-code'), 'JS_CODE_INVALID');
  });

  test("R1: a code of app X with app Y's token → 403401, and the code still works on X", async () => {
    const code = await login(X, alice.userId);
    const error = await assertApiError(ks.code2Session(Y, code), 'JS_CODE_INVALID');
    assert.equal(error.code, 403401);
    assert.equal(sb.sandbox.runtime.state.data.users.sessions[Y]?.[(await ks.code2Session(X, code)).openId], undefined, 'no session on Y');
  });

  test('R1: the same user has a stable openId per app, a different one in each app', async () => {
    const onX1 = await ks.code2Session(X, await login(X, alice.userId));
    const onX2 = await ks.code2Session(X, await login(X, alice.userId));
    const onY = await ks.code2Session(Y, await login(Y, alice.userId));
    assert.equal(onX1.openId, onX2.openId);
    assert.notEqual(onX1.openId, onY.openId);
    const bob = await newUser('老王');
    assert.notEqual((await ks.code2Session(X, await login(X, bob.userId))).openId, onX1.openId);
  });

  test('R1: every exchange gives a new session_key', async () => {
    const keys = new Set<string>();
    for (let i = 0; i < 3; i++) keys.add((await ks.code2Session(X, await login(X, alice.userId))).sessionKey);
    assert.equal(keys.size, 3);
  });

  test('R1: an expired code → 403401 (login code lifetime injected)', async () => {
    const short = await startSandbox({ jsCodeTtlMs: 30 });
    try {
      await short.ticket();
      const [appId] = (await short.newApps(1)) as [string];
      await short.authorize(appId);
      const user = (await short.control<UserRecord>('POST', '/users', { nickname: '过期' })).json;
      const answer = await short.control<{ code: string; expiresInS: number }>('POST', `/apps/${appId}/login`, { userId: user.userId });
      assert.equal(answer.json.expiresInS, 1);
      await new Promise((resolve) => setTimeout(resolve, 60));
      await assertApiError(short.platform().code2Session(appId, answer.json.code), 'JS_CODE_INVALID');
    } finally {
      await short.close();
    }
  });

  // ---- phone --------------------------------------------------------------------------------------------

  test('phone: sealed with the current session_key; opens with it, not with the previous one', async () => {
    await approvePhone(X);
    const first = await ks.code2Session(X, await login(X, alice.userId));
    const sealed1 = await phone(X, alice.userId);
    assert.equal(sealed1.status, 200);
    assert.deepEqual(openPhoneNumber({ appId: X, sessionKey: first.sessionKey, ...sealed1.json }), { phoneNumber: '13800138000', purePhoneNumber: '13800138000', countryCode: '86' });
    const second = await ks.code2Session(X, await login(X, alice.userId));
    const sealed2 = (await phone(X, alice.userId)).json;
    assert.equal(openPhoneNumber({ appId: X, sessionKey: second.sessionKey, ...sealed2 }).phoneNumber, '13800138000');
    assert.throws(() => openPhoneNumber({ appId: X, sessionKey: first.sessionKey, ...sealed2 }), PhoneDataError);
    assert.throws(() => openPhoneNumber({ appId: Y, sessionKey: second.sessionKey, ...sealed2 }), (e: unknown) => e instanceof PhoneDataError && e.problem === 'watermark_mismatch');
  });

  test('phone: refused without an APPROVED PHONE_NUMBER capability; without a session on the app → login first', async () => {
    await ks.code2Session(Y, await login(Y, alice.userId));
    const refused = await phone(Y, alice.userId);
    assert.equal(refused.status, 403);
    assert.equal(refused.json.errMsg, 'getPhoneNumber:fail no permission');
    assert.equal(typeof refused.json.error?.code, 'string');
    const stranger = await newUser('路人');
    await login(X, stranger.userId); // a code not exchanged is no session
    const noSession = await phone(X, stranger.userId);
    assert.equal(noSession.status, 409);
    assert.equal(noSession.json.errMsg, 'getPhoneNumber:fail session not found, login first');
    assert.equal((await phone(X, 'u999999')).status, 404);
    assert.equal((await phone('ks_nope', alice.userId)).status, 404);
  });

  // ---- R2 -----------------------------------------------------------------------------------------------

  test('R2: the client sends form fields and the message is recorded; the list is newest first', async () => {
    const { openId } = await ks.code2Session(X, await login(X, alice.userId));
    await ks.sendSubscriptionMessage(X, { templateId: 'tpl_order-1', toOpenId: openId, data: { thing1: { value: '川味小馆' } }, page: 'pages/order/index?id=7' });
    await ks.sendSubscriptionMessage(X, { templateId: 'tpl_order-2', toOpenId: openId, data: { thing1: { value: '第二条' } } });
    const listed = await sb.control<{ items: SentMessage[] }>('GET', `/apps/${X}/messages`);
    assert.equal(listed.status, 200);
    const [newest, older] = listed.json.items;
    assert.equal(newest?.templateId, 'tpl_order-2');
    assert.equal(newest.page, null);
    assert.deepEqual(
      { ...older, messageId: '', sentAt: 0 },
      { messageId: '', appId: X, openId, userId: alice.userId, templateId: 'tpl_order-1', page: 'pages/order/index?id=7', data: { thing1: { value: '川味小馆' } }, sentAt: 0 },
    );
    assert.match(older?.messageId ?? '', /^msg_/);
    assert.equal((await sb.control('GET', '/apps/ks_nope/messages')).status, 404);
  });

  test('R2: each refusal has its code; a JSON body is not form fields', async () => {
    const { openId } = await ks.code2Session(X, await login(X, alice.userId));
    const onlyY = await ks.code2Session(Y, await login(Y, (await newUser('只在Y')).userId));
    const ok = { template_id: 'tpl_1', to_user: openId, data: '{"thing1":{"value":"x"}}' };
    const cases: [Record<string, string>, number][] = [
      [{ ...ok, template_id: '' }, 403501],
      [{ ...ok, template_id: 'x'.repeat(65) }, 403501],
      [{ ...ok, template_id: 'has space' }, 403501],
      [{ to_user: openId, data: ok.data }, 403501],
      [{ ...ok, to_user: 'nobody' }, 403502],
      [{ ...ok, to_user: onlyY.openId }, 403502],
      [{ ...ok, to_user: '' }, 403502],
      [{ ...ok, data: 'not json' }, 403503],
      [{ ...ok, data: '[1]' }, 403503],
      [{ ...ok, data: '"text"' }, 403503],
      [{ template_id: ok.template_id, to_user: openId }, 403503],
      [{ ...ok, page: 'p'.repeat(513) }, 100200100],
    ];
    const before = (await sb.control<{ items: SentMessage[] }>('GET', `/apps/${X}/messages`)).json.items.length;
    for (const [fields, code] of cases) {
      const response = await r2(X, fields);
      const body = (await response.json()) as { result: number; error_msg: string };
      assert.equal(response.status, 200);
      assert.equal(body.result, code, JSON.stringify(fields).slice(0, 80));
      assert.equal(typeof body.error_msg, 'string');
    }
    const json = await r2(X, ok, 'application/json');
    assert.equal(((await json.json()) as { result: number }).result, 100200100);
    const repeated = await sb.request(`${ENDPOINTS.sendSubscriptionMessage.path}?component_app_id=${sb.sandbox.runtime.state.component.componentAppId}&authorizer_access_token=${tokenOf(X)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `${new URLSearchParams(ok).toString()}&template_id=tpl_2`,
    });
    assert.equal(((await repeated.json()) as { result: number }).result, 100200100);
    assert.equal((await sb.control<{ items: SentMessage[] }>('GET', `/apps/${X}/messages`)).json.items.length, before, 'nothing refused was recorded');
    const accepted = await r2(X, { ...ok, page: 'p'.repeat(512) });
    assert.equal(((await accepted.json()) as { result: number }).result, 1);
  });

  test('R2: at most 100 accepted sends per second per app, then RATE_LIMITED (429, retry-after)', async () => {
    const [Z] = (await sb.newApps(1)) as [string];
    await sb.authorize(Z);
    const { openId } = await ks.code2Session(Z, await login(Z, alice.userId));
    const fields = { template_id: 'tpl_flood', to_user: openId, data: '{}' };
    const started = Date.now();
    const responses = await Promise.all(Array.from({ length: 101 }, () => r2(Z, fields)));
    const elapsed = Date.now() - started;
    const limited = responses.filter((response) => response.status === 429);
    if (elapsed < 1000) assert.equal(limited.length, 1, `took ${elapsed} ms`);
    for (const response of limited) {
      assert.equal(response.headers.get('retry-after'), '1');
      assert.equal(((await response.json()) as { result: number }).result, 400002);
    }
    assert.ok(responses.filter((response) => response.status === 200).length >= 100);
    // Another app is not limited by Z's flood.
    const { openId: onX } = await ks.code2Session(X, await login(X, alice.userId));
    assert.equal(((await (await r2(X, { ...fields, to_user: onX })).json()) as { result: number }).result, 1);
  });

  // ---- ks.request ---------------------------------------------------------------------------------------

  describe('ks.request', () => {
    let echo: FastifyInstance;
    let echoUrl: string;
    const ksRequest = <T = Record<string, unknown>>(body: unknown, appId = X) => sb.control<T>('POST', `/apps/${appId}/request`, body);

    before(async () => {
      echo = Fastify();
      echo.all('/echo', (request) => ({ method: request.method, query: request.query, body: request.body ?? null, authorization: request.headers.authorization ?? null }));
      echo.get('/text', (_request, reply) => reply.type('text/plain').send('plain text'));
      echo.post('/created', (_request, reply) => reply.code(201).header('x-trace', 'abc').send({ error: { code: 'x', message: 'y' } }));
      echoUrl = await echo.listen({ port: 0, host: '127.0.0.1' });
    });
    after(() => echo.close());

    test('a host not in the request domains is refused; http to a listed one too; https to a listed one passes the rule', async () => {
      const refused = await ksRequest<ControlFailure>({ url: 'https://not-listed.example.net/x' });
      assert.equal(refused.status, 403);
      assert.equal(refused.json.errMsg, 'request:fail url not in domain list');
      await ks.serverDomains(X, { action: 'set', request: ['https://api.example.com'] });
      assert.equal((await ksRequest<ControlFailure>({ url: 'http://api.example.com/x' })).json.errMsg, 'request:fail url not in domain list');
      assert.equal((await ksRequest<ControlFailure>({ url: 'https://api.example.com/x' }, Y)).status, 403, "X's domains are not Y's");
      const app = sb.sandbox.runtime.state.app(X)!;
      assert.equal(checkRequestUrl(app, 'https://api.example.com/runtime/v1/me').domainCheck, 'passed');
      assert.equal(checkRequestUrl(app, 'https://API.example.com:443/x').domainCheck, 'passed');
      assert.throws(() => checkRequestUrl(app, 'https://api.example.com:8443/x'));
      assert.throws(() => checkRequestUrl(app, 'https://evil.api.example.com/x'));
      for (const url of ['ftp://127.0.0.1/x', 'not a url', 5]) assert.equal((await ksRequest<ControlFailure>({ url })).status, 400);
      assert.equal((await ksRequest<ControlFailure>({ url: `${echoUrl}/echo`, method: 'BREW' })).status, 400);
      assert.equal((await ksRequest<ControlFailure>({ url: `${echoUrl}/echo` }, 'ks_nope')).status, 404);
    });

    test('loopback passes with the notice and is really requested: GET data as the query, POST JSON, headers', async () => {
      type Answer = { statusCode: number; data: Record<string, unknown>; header: Record<string, string>; domainCheck: string };
      const got = await ksRequest<Answer>({ url: `${echoUrl}/echo?x=1`, data: { a: 'b' }, header: { Authorization: 'Bearer kss_t' } });
      assert.equal(got.status, 200);
      assert.equal(got.json.statusCode, 200);
      assert.equal(got.json.domainCheck, 'skipped (loopback, as the developer tools allow)');
      assert.deepEqual(got.json.data, { method: 'GET', query: { x: '1', a: 'b' }, body: null, authorization: 'Bearer kss_t' });
      const posted = await ksRequest<Answer>({ url: `${echoUrl.replace('127.0.0.1', 'localhost')}/echo`, method: 'post', data: { appId: X, code: 'c' } });
      assert.deepEqual(posted.json.data, { method: 'POST', query: {}, body: { appId: X, code: 'c' }, authorization: null });
      const created = await ksRequest<Answer>({ url: `${echoUrl}/created`, method: 'POST' });
      assert.equal(created.json.statusCode, 201, 'a provider error status is an answer, not a request failure');
      assert.equal(created.json.header['x-trace'], 'abc');
      assert.deepEqual(created.json.data, { error: { code: 'x', message: 'y' } });
      assert.equal((await ksRequest<Answer>({ url: `${echoUrl}/text` })).json.data, 'plain text');
    });

    test('an unreachable loopback port → request:fail', async () => {
      const closed = Fastify();
      const url = await closed.listen({ port: 0, host: '127.0.0.1' });
      await closed.close();
      const failed = await ksRequest<ControlFailure>({ url: `${url}/x` });
      assert.ok(failed.status >= 400 && failed.status < 500);
      assert.match(failed.json.errMsg ?? '', /^request:fail /);
    });
  });

  // ---- simulator page -----------------------------------------------------------------------------------

  test('simulator: 未发布 without a version; the experience version with its ext; the runtime URL; 404 for an unknown app', async () => {
    const [appId] = (await sb.newApps(1)) as [string];
    await sb.authorize(appId);
    const html = async (path: string): Promise<{ status: number; text: string }> => {
      const response = await sb.request(path);
      assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
      return { status: response.status, text: await response.text() };
    };
    assert.match((await html(`/sandbox/apps/${appId}`)).text, /未发布/);
    assert.match((await html(`/sandbox/apps/${appId}?version=experience`)).text, /未发布/);
    await ks.uploadCode(appId, { templateId: 1, userVersion: '1.2.3', userDesc: 'demo', ext: { shopName: '川味<小馆>' } });
    const page = await html(`/sandbox/apps/${appId}?version=experience`);
    assert.equal(page.status, 200);
    assert.match(page.text, /登录/);
    assert.match(page.text, /获取手机号/);
    assert.match(page.text, /退出登录/);
    assert.match(page.text, /data-testid="login"/);
    assert.match(page.text, /v1\.2\.3/);
    assert.match(page.text, /shopName/);
    assert.match(page.text, /川味&#60;小馆&#62;/, 'escaped');
    assert.ok(!page.text.includes('川味<小馆>'));
    assert.match(page.text, new RegExp(`data-testid="ext-app-id">${appId}<`));
    assert.match(page.text, /data-testid="no-runtime-url"/);
    assert.match(page.text, new RegExp(`${alice.userId}`), 'the user picker lists users');
    assert.equal((await sb.control('PUT', '/component', { runtimeUrl: 'http://127.0.0.1:3300/runtime/v1' })).status, 200);
    const configured = await html(`/sandbox/apps/${appId}?version=experience`);
    assert.match(configured.text, /data-testid="runtime-url">http:\/\/127\.0\.0\.1:3300\/runtime\/v1/);
    assert.ok(!configured.text.includes('no-runtime-url'));
    assert.equal((await sb.control('PUT', '/component', { runtimeUrl: 'not a url' })).status, 400);
    assert.equal((await sb.control('PUT', '/component', { runtimeUrl: '' })).status, 200);
    assert.equal((await html('/sandbox/apps/ks_nope')).status, 404);
    assert.match((await html(`/sandbox/preview/${appId}`)).text, new RegExp(`href="/sandbox/apps/${appId}\\?version=experience"`));
  });

  test('reset clears users, codes, sessions and messages', async () => {
    const other = await startSandbox();
    try {
      const user = (await other.control<UserRecord>('POST', '/users', { nickname: '临时' })).json;
      await other.control('POST', `/apps/ks0000000000000001/login`, { userId: user.userId });
      assert.equal((await other.control('POST', '/reset')).status, 200);
      assert.deepEqual((await other.control<{ items: UserRecord[] }>('GET', '/users')).json.items, []);
      assert.deepEqual(other.sandbox.runtime.state.data.users.jsCodes, {});
    } finally {
      await other.close();
    }
  });
});

test('users and their openIds survive a restart through the state file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ks-sandbox-users-'));
  const stateFile = join(dir, 'sandbox.json');
  try {
    const options = { ...sandboxOptionsFromEnv({}), port: 0, host: '127.0.0.1', stateFile };
    const first = await buildSandbox(options);
    const url = await first.listen();
    const created = (await (await fetch(`${url}/sandbox/api/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"nickname":"长久"}' })).json()) as UserRecord;
    const key = first.runtime.state.data.users.openIdKey;
    await first.close();
    const second = await buildSandbox(options);
    try {
      assert.deepEqual(second.runtime.state.data.users.users[created.userId], created);
      assert.equal(second.runtime.state.data.users.openIdKey, key);
      assert.equal(second.runtime.state.component.runtimeUrl, '');
    } finally {
      await second.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
