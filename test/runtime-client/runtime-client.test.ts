/**
 * The runtime client (`src/runtime-client`) against a real loopback server speaking docs/runtime.md's
 * session routes, through both transports: `fetchRequest(fetch)` and `ksRequest(fakeKs)`, where the fake
 * `ks.request` behaves as the real one does (success for every HTTP status, fail only on network errors).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, beforeEach, describe, test } from 'node:test';
import {
  createRuntimeClient,
  fetchRequest,
  isRuntimeClientError,
  ksLogin,
  ksRequest,
  ksStorage,
  memoryStorage,
  RuntimeClientError,
  sessionStorageKey,
  type KsLoginApi,
  type KsRequestApi,
  type KsRequestOptions,
  type KsStorageApi,
  type RequestFn,
  type RuntimeClient,
  type RuntimeClientOptions,
  type RuntimeStorage,
} from '../../src/runtime-client/index.ts';
import { fakeKsRequest } from './fake-ks.ts';
import { APP_ID, BROKEN_APP, LIMITED_APP, startMimicServer, type MimicServer } from './mimic-server.ts';

const KEY = sessionStorageKey(APP_ID);

/** `ks.request` as the mini-program API behaves: default JSON content type, success with any status, fail on network errors. */
function fakeKs(): KsRequestApi & { calls: number } {
  const ks = {
    calls: 0,
    request(options: KsRequestOptions): void {
      ks.calls += 1;
      fakeKsRequest(options);
    },
  };
  return ks;
}

/** A login port counting its calls, giving `code-1`, `code-2`… */
function countingLogin(): { login: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return { login: () => Promise.resolve(`code-${++calls}`), calls: () => calls };
}

async function rejection(promise: Promise<unknown>): Promise<RuntimeClientError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof RuntimeClientError, `a RuntimeClientError, not ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

const transports: { name: string; make: () => RequestFn }[] = [
  { name: 'fetchRequest(fetch)', make: () => fetchRequest(fetch) },
  { name: 'ksRequest(fakeKs)', make: () => ksRequest(fakeKs()) },
];

let server: MimicServer;
before(async () => {
  server = await startMimicServer();
});
after(() => server.close());

for (const transport of transports) {
  describe(`runtime client through ${transport.name}`, () => {
    let storage: RuntimeStorage & { values: Map<string, string> };
    let logins: ReturnType<typeof countingLogin>;
    let client: RuntimeClient;
    const make = (options: Partial<RuntimeClientOptions> = {}): RuntimeClient =>
      createRuntimeClient({ baseUrl: server.baseUrl, appId: APP_ID, request: transport.make(), storage, login: logins.login, ...options });

    beforeEach(() => {
      server.seen.length = 0;
      server.alwaysInvalid = false;
      server.expireAll();
      const values = new Map<string, string>();
      storage = { values, get: (key) => values.get(key), set: (key, value) => void values.set(key, value), remove: (key) => void values.delete(key) };
      logins = countingLogin();
      client = make();
    });

    test('login posts {appId, code}, stores the token under ks-isv:session:<appId>; me sends it as a bearer', async () => {
      assert.equal(KEY, `ks-isv:session:${APP_ID}`);
      const session = await client.login();
      assert.deepEqual(session, { openId: 'open_user_1', expiresAt: 1_900_000_000_000 });
      const token = storage.values.get(KEY);
      assert.match(token ?? '', /^kss_token\d+$/);
      assert.equal(await client.sessionToken(), token);
      assert.deepEqual(server.seen[0], { method: 'POST', url: '/runtime/v1/sessions', authorization: undefined, contentType: 'application/json', body: { appId: APP_ID, code: 'code-1' } });

      const me = await client.me();
      assert.deepEqual(me, { appId: APP_ID, openId: 'open_user_1', merchant: { name: '川味小馆' }, ext: { shopName: '川味小馆', theme: 'red' }, phone: null });
      assert.equal(server.seen[1]?.method, 'GET');
      assert.equal(server.seen[1]?.url, '/runtime/v1/me');
      assert.equal(server.seen[1]?.authorization, `Bearer ${token}`);
    });

    test('a trailing slash on baseUrl is ignored', async () => {
      await make({ baseUrl: `${server.baseUrl}/` }).login();
      assert.equal(server.seen[0]?.url, '/runtime/v1/sessions');
    });

    test('me without a stored session: not_logged_in, nothing sent', async () => {
      const error = await rejection(client.me());
      assert.equal(error.code, 'not_logged_in');
      assert.equal(error.status, 0);
      assert.equal(server.seen.length, 0);
      assert.equal(await client.sessionToken(), undefined);
    });

    test('session_invalid on me: the token is forgotten, one relogin, one retry with the new token', async () => {
      await client.login();
      const old = storage.values.get(KEY);
      server.expireAll();
      const me = await client.me();
      assert.equal(me.openId, 'open_user_1');
      const fresh = storage.values.get(KEY);
      assert.ok(fresh && fresh !== old);
      assert.equal(logins.calls(), 2);
      assert.deepEqual(
        server.seen.map((seen) => `${seen.method} ${seen.url} ${seen.authorization ?? '-'}`),
        [`POST /runtime/v1/sessions -`, `GET /runtime/v1/me Bearer ${old}`, `POST /runtime/v1/sessions -`, `GET /runtime/v1/me Bearer ${fresh}`],
      );
    });

    test('a server that always answers session_invalid: one relogin, one retry, then the error; no token kept', async () => {
      await client.login();
      server.alwaysInvalid = true;
      server.seen.length = 0;
      const error = await rejection(client.me());
      assert.equal(error.code, 'session_invalid');
      assert.equal(error.status, 401);
      assert.match(error.message, /log in again/);
      assert.deepEqual(server.seen.map((seen) => `${seen.method} ${seen.url}`), ['GET /runtime/v1/me', 'POST /runtime/v1/sessions', 'GET /runtime/v1/me']);
      assert.equal(logins.calls(), 2);
      assert.equal(storage.values.has(KEY), false);
    });

    test('autoRelogin: false: session_invalid forgets the token and rejects, no login', async () => {
      client = make({ autoRelogin: false });
      await client.login();
      server.expireAll();
      const error = await rejection(client.me());
      assert.equal(error.code, 'session_invalid');
      assert.equal(logins.calls(), 1);
      assert.equal(storage.values.has(KEY), false);
      assert.equal((await rejection(client.me())).code, 'not_logged_in');
    });

    test('bindPhone posts {encryptedData, iv} with the bearer and answers the number; relogs in on session_invalid', async () => {
      await client.login();
      const token = storage.values.get(KEY);
      const phone = await client.bindPhone({ encryptedData: 'ZW5j', iv: 'aXY=' });
      assert.deepEqual(phone, { phoneNumber: '+86 13800138000', purePhoneNumber: '13800138000', countryCode: '86' });
      const sent = server.seen[1];
      assert.equal(sent?.url, '/runtime/v1/me/phone');
      assert.equal(sent?.authorization, `Bearer ${token}`);
      assert.deepEqual(sent?.body, { encryptedData: 'ZW5j', iv: 'aXY=' });

      server.expireAll();
      assert.equal((await client.bindPhone({ encryptedData: 'ZW5j', iv: 'aXY=' })).purePhoneNumber, '13800138000');
      assert.equal(logins.calls(), 2);
    });

    test('bindPhone refused: the server code, status and message on the error', async () => {
      await client.login();
      const error = await rejection(client.bindPhone({ encryptedData: 'garbage', iv: 'aXY=' }));
      assert.equal(error.status, 422);
      assert.equal(error.code, 'phone_data_invalid');
      assert.equal(error.message, 'the phone data could not be opened with this session');
      assert.deepEqual(error.details, {});
      assert.ok(isRuntimeClientError(error, 'phone_data_invalid'));
      assert.equal(storage.values.has(KEY), true, 'a refusal other than session_invalid keeps the session');
    });

    test('logout ends the session on the server and removes the token', async () => {
      await client.login();
      const token = storage.values.get(KEY);
      await client.logout();
      assert.equal(storage.values.has(KEY), false);
      const sent = server.seen[1];
      assert.equal(`${sent?.method} ${sent?.url} ${sent?.authorization}`, `DELETE /runtime/v1/sessions/current Bearer ${token}`);
      // `{}`, not no body: the fake ks.request (as the real one may) sets a JSON content type on every call,
      // and the server's JSON parser refuses an empty body with it.
      assert.deepEqual(sent?.body, {});
      assert.equal(sent?.contentType, 'application/json');
      // the old token is dead on the server
      storage.values.set(KEY, token!);
      assert.equal((await rejection(make({ autoRelogin: false }).me())).code, 'session_invalid');
    });

    test('logout when the server says session_invalid: resolves, the token is removed; with nothing stored, nothing is sent', async () => {
      await client.login();
      server.expireAll();
      await client.logout();
      assert.equal(storage.values.has(KEY), false);
      assert.equal(logins.calls(), 1, 'logout never logs in');
      const before = server.seen.length;
      await client.logout();
      assert.equal(server.seen.length, before);
    });

    test('login refused (code_invalid): the error, nothing stored', async () => {
      client = make({ login: () => Promise.resolve('bad-code') });
      const error = await rejection(client.login());
      assert.equal(error.status, 401);
      assert.equal(error.code, 'code_invalid');
      assert.equal(storage.values.size, 0);
    });

    test('a non-JSON 502 (a proxy failing): bad_response with the status', async () => {
      client = make({ appId: BROKEN_APP });
      const error = await rejection(client.login());
      assert.equal(error.status, 502);
      assert.equal(error.code, 'bad_response');
      assert.equal(storage.values.size, 0);
    });

    test('429 rate_limited: code, details and retry-after on the error', async () => {
      const error = await rejection(make({ appId: LIMITED_APP }).login());
      assert.equal(error.status, 429);
      assert.equal(error.code, 'rate_limited');
      assert.deepEqual(error.details, { limit: 10 });
      assert.equal(error.retryAfter, 7);
    });

    test('no server listening: network_error, status 0', async () => {
      const closed = await startMimicServer();
      const url = closed.baseUrl;
      await closed.close();
      const error = await rejection(make({ baseUrl: url }).login());
      assert.equal(error.code, 'network_error');
      assert.equal(error.status, 0);
    });

    test('a login port that fails: login_failed (or its own RuntimeClientError)', async () => {
      assert.equal((await rejection(make({ login: () => Promise.reject(new Error('user cancelled')) }).login())).code, 'login_failed');
      assert.equal(server.seen.length, 0);
    });
  });
}

describe('ks adapters', () => {
  test('ksStorage reads a missing key (ks gives "") as undefined and goes through the sync calls', async () => {
    const values = new Map<string, string>();
    const ks: KsStorageApi = {
      getStorageSync: (key) => values.get(key) ?? '',
      setStorageSync: (key, value) => void values.set(key, value),
      removeStorageSync: (key) => void values.delete(key),
    };
    const storage = ksStorage(ks);
    assert.equal(await storage.get('k'), undefined);
    await storage.set('k', 'v');
    assert.equal(values.get('k'), 'v');
    assert.equal(await storage.get('k'), 'v');
    await storage.remove('k');
    assert.equal(values.has('k'), false);
  });

  test('memoryStorage keeps values and starts from the given ones', async () => {
    const storage = memoryStorage({ a: '1' });
    assert.equal(await storage.get('a'), '1');
    await storage.remove('a');
    assert.equal(await storage.get('a'), undefined);
  });

  test('ksLogin resolves the code, rejects with login_failed on fail or no code', async () => {
    const ok: KsLoginApi = { login: ({ success }) => success({ code: 'js-code' }) };
    assert.equal(await ksLogin(ok)(), 'js-code');
    const failing: KsLoginApi = { login: ({ fail }) => fail({ errMsg: 'login:fail auth deny' }) };
    const error = await rejection(ksLogin(failing)());
    assert.equal(error.code, 'login_failed');
    assert.equal(error.message, 'login:fail auth deny');
    assert.equal((await rejection(ksLogin({ login: ({ success }) => success({}) })())).code, 'login_failed');
  });

  test('the whole flow with ksRequest + ksStorage + ksLogin, as the example template wires them', async () => {
    const ks = fakeKs();
    const values = new Map<string, string>();
    const client = createRuntimeClient({
      baseUrl: server.baseUrl,
      appId: APP_ID,
      request: ksRequest(ks),
      storage: ksStorage({ getStorageSync: (key) => values.get(key) ?? '', setStorageSync: (key, value) => void values.set(key, value), removeStorageSync: (key) => void values.delete(key) }),
      login: ksLogin({ login: ({ success }) => success({ code: 'js-code' }) }),
    });
    await client.login();
    assert.equal((await client.me()).merchant.name, '川味小馆');
    await client.logout();
    assert.equal(values.size, 0);
    assert.equal(ks.calls, 3);
  });
});

test('src/runtime-client has no Node-only imports or globals (it runs in a mini-program page)', () => {
  const dir = fileURLToPath(new URL('../../src/runtime-client/', import.meta.url));
  const files = readdirSync(dir).filter((name) => name.endsWith('.ts'));
  assert.ok(files.includes('index.ts'));
  for (const name of files) {
    const source = readFileSync(join(dir, name), 'utf8');
    assert.doesNotMatch(source, /['"]node:/, `${name} imports node:*`);
    assert.doesNotMatch(source, /\bBuffer\b/, `${name} uses Buffer`);
    assert.doesNotMatch(source, /\bprocess\b/, `${name} uses process`);
    assert.doesNotMatch(source, /\brequire\s*\(/, `${name} uses require`);
    for (const [, from] of source.matchAll(/from\s+['"]([^'"]+)['"]/g)) assert.match(from!, /^\.\//, `${name} imports ${from} (only siblings)`);
  }
});
