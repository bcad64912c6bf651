/**
 * Bad input on every /runtime/v1 route: the right 4xx with `{error: {code, message, details}}`, never a 5xx,
 * and nothing changes — no session, user or message row, no call to the platform. The table must name
 * every runtime operation of the OpenAPI document.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { assertError, authorizeMerchant, sandboxCalls } from '../helpers/rest.ts';
import { startStack, type ApiAnswer, type Stack } from '../helpers/service.ts';
import { dialectTargets } from '../store/dialects.ts';

const APP = 'ks0000000000000001';
const ONE_MIB = 1024 * 1024;
const JSON_TYPE = { 'content-type': 'application/json' };
const long = (length: number, char = 'x'): string => char.repeat(length);

type Credential = 'none' | 'session' | 'runtime' | 'admin';

interface BadRuntimeRequest {
  route: string;
  what: string;
  method: string;
  path: string;
  credential: Credential;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
  status: number;
  code: string;
}

function badRequests(): BadRuntimeRequest[] {
  const cases: BadRuntimeRequest[] = [];
  const add = (route: string, what: string, request: Omit<BadRuntimeRequest, 'route' | 'what'>): void => {
    cases.push({ route, what, ...request });
  };
  const bodyShapes = (route: string, method: string, path: string, credential: Credential, valid: Record<string, unknown>): void => {
    add(route, 'not JSON', { method, path, credential, raw: '{"appId":', headers: JSON_TYPE, status: 400, code: 'invalid_request' });
    add(route, 'empty body', { method, path, credential, raw: '', headers: JSON_TYPE, status: 400, code: 'invalid_request' });
    add(route, 'JSON array', { method, path, credential, body: [valid], status: 400, code: 'invalid_request' });
    add(route, 'JSON null', { method, path, credential, raw: 'null', headers: JSON_TYPE, status: 400, code: 'invalid_request' });
    add(route, 'JSON string', { method, path, credential, body: 'text', status: 400, code: 'invalid_request' });
    add(route, 'text/plain', { method, path, credential, raw: JSON.stringify(valid), headers: { 'content-type': 'text/plain' }, status: 415, code: 'unsupported_media_type' });
    add(route, 'form encoded', { method, path, credential, raw: 'appId=x', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415, code: 'unsupported_media_type' });
    add(route, 'over 1 MiB', { method, path, credential, body: { ...valid, padding: long(ONE_MIB + 10) }, status: 413, code: 'body_too_large' });
    for (const field of Object.keys(valid)) {
      const without = { ...valid };
      delete without[field];
      add(route, `no ${field}`, { method, path, credential, body: without, status: 400, code: 'invalid_request' });
      add(route, `${field} a number`, { method, path, credential, body: { ...valid, [field]: 7 }, status: 400, code: 'invalid_request' });
    }
  };

  const sessions = 'POST /runtime/v1/sessions';
  bodyShapes(sessions, 'POST', '/runtime/v1/sessions', 'none', { appId: APP, code: 'c0de' });
  for (const [what, body] of [
    ['appId with a space', { appId: 'ks 1', code: 'c' }],
    ['appId of 65 characters', { appId: long(65, 'a'), code: 'c' }],
    ['appId in Chinese', { appId: '川味小馆', code: 'c' }],
    ['empty code', { appId: APP, code: '' }],
    ['code of 257 characters', { appId: APP, code: long(257) }],
    ['code an object', { appId: APP, code: { value: 'c' } }],
  ] as const) {
    add(sessions, what, { method: 'POST', path: '/runtime/v1/sessions', credential: 'none', body, status: 400, code: 'invalid_request' });
  }
  // Well-formed, but no such merchant (nothing reaches the platform).
  add(sessions, 'a merchant that never authorized', { method: 'POST', path: '/runtime/v1/sessions', credential: 'none', body: { appId: 'ks_never_seen', code: 'c' }, status: 403, code: 'merchant_not_authorized' });

  // The session routes: no token, a malformed one, a well-formed one nobody issued, an API key.
  const sessionRoutes: [string, string, string, unknown][] = [
    ['GET /runtime/v1/me', 'GET', '/runtime/v1/me', undefined],
    ['POST /runtime/v1/me/phone', 'POST', '/runtime/v1/me/phone', { encryptedData: 'AAAAAAAAAAAAAAAAAAAAAA==', iv: 'AAAAAAAAAAAAAAAAAAAAAA==' }],
    ['DELETE /runtime/v1/sessions/current', 'DELETE', '/runtime/v1/sessions/current', undefined],
  ];
  for (const [route, method, path, body] of sessionRoutes) {
    const withBody = body === undefined ? {} : { body };
    add(route, 'no Authorization', { method, path, credential: 'none', ...withBody, status: 401, code: 'session_invalid' });
    for (const [what, token] of [
      ['garbage token', 'not-a-token'],
      ['unissued token', `kss_${long(43, 'A')}`],
      ['huge token', long(5000, 'k')],
      ['token with a bad character', `kss_${long(42, 'A')}!`],
    ] as const) {
      add(route, what, { method, path, credential: 'none', headers: { authorization: `Bearer ${token}` }, ...withBody, status: 401, code: 'session_invalid' });
    }
    add(route, 'an API key for a session', { method, path, credential: 'admin', ...withBody, status: 401, code: 'session_invalid' });
  }
  // With a live session: the phone body itself.
  const phone = 'POST /runtime/v1/me/phone';
  bodyShapes(phone, 'POST', '/runtime/v1/me/phone', 'session', { encryptedData: 'AAAAAAAAAAAAAAAAAAAAAA==', iv: 'AAAAAAAAAAAAAAAAAAAAAA==' });
  for (const [what, body] of [
    ['encryptedData not base64', { encryptedData: 'not base64!', iv: 'AAAAAAAAAAAAAAAAAAAAAA==' }],
    ['iv of 65 characters', { encryptedData: 'AAAA', iv: long(65, 'A') }],
    ['encryptedData of 4097 characters', { encryptedData: long(4097, 'A'), iv: 'AAAAAAAAAAAAAAAAAAAAAA==' }],
  ] as const) {
    add(phone, what, { method: 'POST', path: '/runtime/v1/me/phone', credential: 'session', body, status: 400, code: 'invalid_request' });
  }
  // Well-formed, but the merchant has no approved phone-number capability (checked before anything is opened).
  add(phone, 'no approved capability', { method: 'POST', path: '/runtime/v1/me/phone', credential: 'session', body: { encryptedData: 'AAAAAAAAAAAAAAAAAAAAAA==', iv: 'AAAAAAAAAAAAAAAAAAAAAA==' }, status: 403, code: 'capability_not_approved' });

  // The runtime-key routes.
  const introspect = 'POST /runtime/v1/introspect';
  bodyShapes(introspect, 'POST', '/runtime/v1/introspect', 'runtime', { sessionToken: 'kss_x' });
  add(introspect, 'empty token', { method: 'POST', path: '/runtime/v1/introspect', credential: 'runtime', body: { sessionToken: '' }, status: 400, code: 'invalid_request' });
  add(introspect, 'token of 513 characters', { method: 'POST', path: '/runtime/v1/introspect', credential: 'runtime', body: { sessionToken: long(513) }, status: 400, code: 'invalid_request' });

  const messages = 'POST /runtime/v1/merchants/{appId}/messages';
  const messagePath = `/runtime/v1/merchants/${APP}/messages`;
  const validMessage = { openId: 'someone', templateId: 'tpl_1', data: { thing1: { value: '川味小馆' } } };
  bodyShapes(messages, 'POST', messagePath, 'runtime', validMessage);
  for (const [what, body] of [
    ['templateId with a slash', { ...validMessage, templateId: 'a/b' }],
    ['templateId of 65 characters', { ...validMessage, templateId: long(65) }],
    ['openId with a space', { ...validMessage, openId: 'a b' }],
    ['data an array', { ...validMessage, data: [1] }],
    ['data of 51 fields', { ...validMessage, data: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`f${i}`, 1])) }],
    ['page of 513 characters', { ...validMessage, page: long(513) }],
  ] as const) {
    add(messages, what, { method: 'POST', path: messagePath, credential: 'runtime', body, status: 400, code: 'invalid_request' });
  }
  add(messages, 'odd app id', { method: 'POST', path: '/runtime/v1/merchants/ks.0001/messages', credential: 'runtime', body: validMessage, status: 400, code: 'invalid_request' });
  add(messages, 'a merchant that never authorized', { method: 'POST', path: '/runtime/v1/merchants/ks_never_seen/messages', credential: 'runtime', body: validMessage, status: 403, code: 'merchant_not_authorized' });
  add(messages, 'not a user of this merchant', { method: 'POST', path: messagePath, credential: 'runtime', body: validMessage, status: 404, code: 'user_not_found' });

  const users = 'GET /runtime/v1/merchants/{appId}/users';
  for (const [query, code] of [
    ['limit=0', 'invalid_request'],
    ['limit=201', 'invalid_request'],
    ['limit=ten', 'invalid_request'],
    ['cursor=zzz', 'invalid_cursor'],
    [`cursor=${long(257, 'A')}`, 'invalid_request'],
  ] as const) {
    add(users, query.slice(0, 20), { method: 'GET', path: `/runtime/v1/merchants/${APP}/users?${query}`, credential: 'runtime', status: 400, code });
  }
  add(users, 'odd app id', { method: 'GET', path: '/runtime/v1/merchants/ks%27%3B--/users', credential: 'runtime', status: 400, code: 'invalid_request' });
  add(users, 'a merchant that never authorized', { method: 'GET', path: '/runtime/v1/merchants/ks_never_seen/users', credential: 'runtime', status: 403, code: 'merchant_not_authorized' });
  return cases;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, { tags?: string[]; security?: unknown[] }>>;
}

for (const dialect of dialectTargets()) {
  describe(`bad input on /runtime/v1 on ${dialect.name}`, { skip: dialect.skip }, () => {
    let stack: Stack;
    let sessionToken = '';

    const rows = async (): Promise<Record<string, number>> => {
      const { db } = stack.service.store.database;
      const count = async (table: string): Promise<number> => {
        const result = await sql<{ n: number | string }>`select count(*) as n from ${sql.table(table)}`.execute(db);
        return Number(result.rows[0]?.n ?? 0);
      };
      return { sessions: await count('runtime_sessions'), users: await count('runtime_users'), messages: await count('runtime_messages'), calls: await sandboxCalls(stack) };
    };

    const send = (bad: BadRuntimeRequest): Promise<ApiAnswer> => {
      const key = bad.credential === 'runtime' ? stack.keys.runtime : bad.credential === 'admin' ? stack.keys.admin : null;
      const headers = { ...(bad.credential === 'session' ? { authorization: `Bearer ${sessionToken}` } : {}), ...bad.headers };
      return stack.api(bad.method, bad.path, { key, headers, ...(bad.raw !== undefined ? { raw: bad.raw } : bad.body !== undefined ? { body: bad.body } : {}) });
    };

    before(async () => {
      stack = await startStack(dialect);
      await stack.ready();
      await authorizeMerchant(stack, APP);
      // One real session, for the cases that need one.
      const user = await stack.sandbox.control<{ userId: string }>('POST', '/users', { nickname: '测试用户' });
      const login = await stack.sandbox.control<{ code: string }>('POST', `/apps/${APP}/login`, { userId: user.json.userId });
      const session = await stack.api<{ sessionToken: string }>('POST', '/runtime/v1/sessions', { key: null, body: { appId: APP, code: login.json.code } });
      assert.equal(session.status, 201, JSON.stringify(session.json));
      sessionToken = session.json.sessionToken;
    });

    after(async () => {
      await stack?.close();
      await dialect.cleanup();
    });

    test('every bad request gets its 4xx and error code, and nothing changes', async () => {
      const before = await rows();
      const failures: string[] = [];
      const cases = badRequests();
      for (const bad of cases) {
        const answer = await send(bad);
        try {
          assertError(answer, bad.status, bad.code, `${bad.route} (${bad.what}):`);
        } catch (error) {
          failures.push(error instanceof Error ? error.message.split('\n')[0]! : String(error));
        }
      }
      assert.deepEqual(failures, [], `${failures.length} of ${cases.length} bad requests were not answered as expected`);
      assert.deepEqual(await rows(), before, 'no bad request wrote a row or reached the platform');
      // The session survived all of it.
      assert.equal((await stack.api('GET', '/runtime/v1/me', { key: null, headers: { authorization: `Bearer ${sessionToken}` } })).status, 200);
    });

    test('the table covers every /runtime/v1 operation of the OpenAPI document, each tagged runtime', async () => {
      const spec = (await stack.api<OpenApiDocument>('GET', '/openapi.json', { key: null })).json;
      const documented = Object.entries(spec.paths)
        .filter(([path]) => path.startsWith('/runtime/v1/'))
        .flatMap(([path, operations]) =>
          Object.entries(operations).map(([method, operation]) => {
            assert.deepEqual(operation.tags, ['runtime'], `${method} ${path} is tagged runtime`);
            return `${method.toUpperCase()} ${path}`;
          }),
        );
      assert.equal(documented.length, 7);
      const tested = new Set(badRequests().map((bad) => bad.route));
      assert.deepEqual(documented.filter((route) => !tested.has(route)), [], 'runtime routes without a bad-input case');
      assert.deepEqual([...tested].filter((route) => !documented.includes(route)), [], 'cases for routes the document does not list');
    });
  });
}
