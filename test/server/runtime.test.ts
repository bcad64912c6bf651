/**
 * The merchant runtime over HTTP (docs/runtime.md), against the sandbox playing the mini-program side:
 * a user's ks.login code → a session → /me with the merchant's ext → introspection by the business back
 * end; the tenant rules (cross-merchant, revoked, reused and foreign codes, expired and logged-out sessions,
 * the phone capability); messages; and no session key or phone number in logs, answers or the database.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { assertError, authorizeMerchant, revokeMerchant } from '../helpers/rest.ts';
import { startStack, type ApiAnswer, type Stack } from '../helpers/service.ts';
import { dialectTargets } from '../store/dialects.ts';

interface SessionAnswer {
  sessionToken: string;
  openId: string;
  expiresAt: number;
}
interface MeAnswer {
  appId: string;
  openId: string;
  merchant: { name: string | null };
  ext: Record<string, unknown>;
  phone: string | null;
}

for (const dialect of dialectTargets()) {
  describe(`the merchant runtime on ${dialect.name}`, { skip: dialect.skip }, () => {
    let stack: Stack;
    let a: string, b: string, c: string;

    const sandboxUser = async (nickname: string, phoneNumber?: string): Promise<string> => {
      const created = await stack.sandbox.control<{ userId: string }>('POST', '/users', { nickname, ...(phoneNumber ? { phoneNumber } : {}) });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      return created.json.userId;
    };
    const jsCode = async (appId: string, userId: string): Promise<string> => {
      const login = await stack.sandbox.control<{ code: string }>('POST', `/apps/${appId}/login`, { userId });
      assert.equal(login.status, 200, JSON.stringify(login.json));
      return login.json.code;
    };
    const logIn = (appId: string, code: string): Promise<ApiAnswer<SessionAnswer>> =>
      stack.api<SessionAnswer>('POST', '/runtime/v1/sessions', { key: null, body: { appId, code } });
    const session = async (appId: string, userId: string): Promise<SessionAnswer> => {
      const answer = await logIn(appId, await jsCode(appId, userId));
      assert.equal(answer.status, 201, JSON.stringify(answer.json));
      return answer.json;
    };
    const asUser = (token: string): { key: null; headers: Record<string, string> } => ({ key: null, headers: { authorization: `Bearer ${token}` } });
    const me = (token: string): Promise<ApiAnswer<MeAnswer>> => stack.api<MeAnswer>('GET', '/runtime/v1/me', asUser(token));
    const introspect = (token: string, key = stack.keys.runtime): Promise<ApiAnswer> => stack.api('POST', '/runtime/v1/introspect', { key, body: { sessionToken: token } });
    const approvePhone = async (appId: string): Promise<void> => {
      assert.equal((await stack.api('POST', `/api/v1/merchants/${appId}/capabilities/phone-number`, { key: stack.keys.operator, body: { reason: 'login by phone' } })).status, 200);
      assert.equal((await stack.sandbox.control('POST', `/capabilities/${appId}`, { capability: 'PHONE_NUMBER', decision: 'approve' })).status, 200);
      for (let i = 0; i < 200; i++) {
        if ((await stack.service.store.capabilities.get(appId, 'phone-number'))?.status === 'approved') return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      assert.fail('the approval push did not arrive');
    };

    before(async () => {
      // Capabilities decided by hand (the automatic decision is 10 minutes away); logins not limited here (the limits have their own test).
      stack = await startStack(dialect, { sandbox: { component: { capabilityDelayMs: 600_000 } }, env: { KS_RUNTIME_LOGINS_PER_IP_PER_MIN: '0' } });
      await stack.ready();
      const created = await stack.sandbox.control<{ merchants: { appIds: string[] }[] }>('POST', '/merchants', { count: 3 });
      [a, b, c] = created.json.merchants.flatMap((m) => m.appIds) as [string, string, string];
      for (const appId of [a, b, c]) await authorizeMerchant(stack, appId);
      // A's shop settings: template defaults ← A's overrides, as /me must show them.
      assert.equal((await stack.api('POST', '/api/v1/templates/sync', { key: stack.keys.operator })).status, 200);
      const templates = await stack.api<{ items: { templateId: number }[] }>('GET', '/api/v1/templates');
      const templateId = Math.max(...templates.json.items.map((t) => t.templateId));
      assert.equal((await stack.api('PUT', `/api/v1/templates/${templateId}/ext`, { key: stack.keys.operator, body: { ext: { theme: 'red', currency: 'CNY' }, baseVersion: 0 } })).status, 200);
      assert.equal((await stack.api('PUT', `/api/v1/merchants/${a}/ext`, { key: stack.keys.operator, body: { templateId, overrides: { shopName: '川味小馆' }, baseVersion: 0 } })).status, 200);
      await stack.service.store.merchants.setName(a, '川味小馆');
    });

    after(async () => {
      await stack?.close();
      await dialect.cleanup();
    });

    test('a ks.login code becomes a session; /me shows the merchant and its ext; the business back end introspects it', async () => {
      const user = await sandboxUser('小王');
      const created = await session(a, user);
      assert.match(created.sessionToken, /^kss_[A-Za-z0-9_-]{43}$/);
      assert.ok(created.expiresAt > Date.now() + 6 * 24 * 3600_000, 'seven days by default');
      const mine = await me(created.sessionToken);
      assert.equal(mine.status, 200, JSON.stringify(mine.json));
      assert.equal(mine.json.appId, a);
      assert.equal(mine.json.openId, created.openId);
      assert.deepEqual(mine.json.ext, { theme: 'red', currency: 'CNY', shopName: '川味小馆' });
      assert.equal(mine.json.phone, null);
      assert.deepEqual(mine.json.merchant, { name: '川味小馆' });
      assert.deepEqual(Object.keys(mine.json).sort(), ['appId', 'ext', 'merchant', 'openId', 'phone']);

      const active = await introspect(created.sessionToken);
      assert.equal(active.status, 200);
      assert.deepEqual(active.json, { active: true, appId: a, openId: created.openId, expiresAt: created.expiresAt });
      assertError(await introspect(created.sessionToken, stack.keys.admin), 403, 'forbidden');
      assert.deepEqual((await introspect(`kss_${'A'.repeat(43)}`)).json, { active: false });

      // The same user in another merchant's mini-program is another openId, another session.
      const elsewhere = await session(b, user);
      assert.notEqual(elsewhere.openId, created.openId);
      assert.equal((await me(elsewhere.sessionToken)).json.appId, b);

      // The users of A, as its business back end and its operators see them.
      const users = await stack.api<{ items: { openId: string; hasPhone: boolean }[] }>('GET', `/runtime/v1/merchants/${a}/users`, { key: stack.keys.runtime });
      assert.ok(users.json.items.some((u) => u.openId === created.openId && !u.hasPhone));
      assert.ok(!users.json.items.some((u) => u.openId === elsewhere.openId), "B's user is not A's");
      const stats = await stack.api<{ users: number; activeSessions: number; lastLoginAt: number | null }>('GET', `/api/v1/merchants/${a}/runtime`, { key: stack.keys.viewer });
      assert.ok(stats.json.users >= 1 && stats.json.activeSessions >= 1 && (stats.json.lastLoginAt ?? 0) > 0, JSON.stringify(stats.json));
    });

    test('codes: a reused code, a code of another mini-program and a made-up code → 401 code_invalid', async () => {
      const user = await sandboxUser('小李');
      const code = await jsCode(a, user);
      assert.equal((await logIn(a, code)).status, 201);
      assertError(await logIn(a, code), 401, 'code_invalid', 'reused:');
      // A code of A's mini-program, presented as B: exchanged with B's token, refused by the platform.
      assertError(await logIn(b, await jsCode(a, user)), 401, 'code_invalid', 'foreign:');
      assertError(await logIn(a, 'made-up-code'), 401, 'code_invalid', 'made up:');
      // A merchant ks-isv does not know never reaches the platform.
      assertError(await logIn('ks_unknown_app', 'x'), 403, 'merchant_not_authorized');
    });

    test('a session of merchant A never acts for merchant B', async () => {
      const user = await sandboxUser('小张');
      const ofA = await session(a, user);
      // The business back end names B with A's openId: not B's user.
      assertError(
        await stack.api('POST', `/runtime/v1/merchants/${b}/messages`, { key: stack.keys.runtime, body: { openId: ofA.openId, templateId: 'order_paid', data: {} } }),
        404,
        'user_not_found',
      );
      // Nothing on a session route takes an appId: a query naming B changes nothing.
      const mine = await stack.api<MeAnswer>('GET', `/runtime/v1/me?appId=${b}`, asUser(ofA.sessionToken));
      assert.equal(mine.json.appId, a);
    });

    test('logout and expiry → 401 session_invalid; the other sessions stay', async () => {
      const user = await sandboxUser('小赵');
      const first = await session(a, user);
      const second = await session(a, user);
      const out = await stack.api('DELETE', '/runtime/v1/sessions/current', asUser(first.sessionToken));
      assert.equal(out.status, 204);
      assertError(await me(first.sessionToken), 401, 'session_invalid', 'logged out:');
      assertError(await stack.api('DELETE', '/runtime/v1/sessions/current', asUser(first.sessionToken)), 401, 'session_invalid');
      assert.deepEqual((await introspect(first.sessionToken)).json, { active: false });
      assert.equal((await me(second.sessionToken)).status, 200);

      // Expiry: the row's expires_at moves into the past (the server's clock is real).
      await sql`update runtime_sessions set expires_at = ${Date.now() - 1} where open_id = ${second.openId} and ended_at is null`.execute(stack.service.store.database.db);
      assertError(await me(second.sessionToken), 401, 'session_invalid', 'expired:');
      assert.deepEqual((await introspect(second.sessionToken)).json, { active: false });
    });

    test('phone number: refused without the approved capability; then bound, masked everywhere but its one answer', async () => {
      const user = await sandboxUser('小陈', '13912345678');
      const old = await session(c, user);
      const sealed = await stack.sandbox.control<{ encryptedData: string; iv: string; errMsg?: string }>('POST', `/apps/${c}/phone`, { userId: user });
      assert.equal(sealed.status, 403, 'the button itself fails without the capability');
      assert.match(sealed.json.errMsg ?? '', /no permission/);
      // Even well-formed data is refused by ks-isv before anything is opened.
      assertError(await stack.api('POST', '/runtime/v1/me/phone', { ...asUser(old.sessionToken), body: { encryptedData: 'AAAAAAAAAAAAAAAAAAAAAA==', iv: 'AAAAAAAAAAAAAAAAAAAAAA==' } }), 403, 'capability_not_approved');

      await approvePhone(c);
      // A new login gives the user a new session_key: the old session cannot open data sealed with it.
      const current = await session(c, user);
      const button = await stack.sandbox.control<{ encryptedData: string; iv: string }>('POST', `/apps/${c}/phone`, { userId: user });
      assert.equal(button.status, 200, JSON.stringify(button.json));
      const stale = assertError(await stack.api('POST', '/runtime/v1/me/phone', { ...asUser(old.sessionToken), body: button.json }), 422, 'phone_data_invalid');
      assert.equal(stale.details.problem, 'undecryptable');

      const bound = await stack.api('POST', '/runtime/v1/me/phone', { ...asUser(current.sessionToken), body: button.json });
      assert.equal(bound.status, 200, JSON.stringify(bound.json));
      assert.deepEqual(bound.json, { phoneNumber: '13912345678', purePhoneNumber: '13912345678', countryCode: '86' });
      assert.equal((await me(current.sessionToken)).json.phone, '139****5678');
      assert.equal((await me(old.sessionToken)).json.phone, '139****5678', 'bound to the user, not the session');
      const users = await stack.api('GET', `/api/v1/merchants/${c}/users`, { key: stack.keys.viewer });
      assert.ok(!users.bytes.toString('utf8').includes('13912345678'));
      assert.match(users.bytes.toString('utf8'), /"hasPhone":true/);

      // Data sealed for another mini-program (the watermark) is refused.
      await approvePhone(b);
      const inB = await session(b, user);
      const forB = await stack.sandbox.control<{ encryptedData: string; iv: string }>('POST', `/apps/${b}/phone`, { userId: user });
      assert.equal((await stack.api('POST', '/runtime/v1/me/phone', { ...asUser(inB.sessionToken), body: forB.json })).status, 200);
    });

    test('messages: sent on the merchant’s behalf to its user, recorded by the platform', async () => {
      const user = await sandboxUser('小周');
      const mine = await session(a, user);
      const sent = await stack.api<{ messageId: string; sentAt: number }>('POST', `/runtime/v1/merchants/${a}/messages`, {
        key: stack.keys.runtime,
        body: { openId: mine.openId, templateId: 'order_paid', page: 'pages/order/detail?id=42', data: { thing1: { value: '水煮鱼' }, amount2: { value: '¥88.00' } } },
      });
      assert.equal(sent.status, 201, JSON.stringify(sent.json));
      const platform = await stack.sandbox.control<{ items: { openId: string; templateId: string; page: string | null; data: Record<string, unknown> }[] }>('GET', `/apps/${a}/messages`);
      const received = platform.json.items.find((m) => m.openId === mine.openId);
      assert.deepEqual(received && { templateId: received.templateId, page: received.page, data: received.data }, {
        templateId: 'order_paid',
        page: 'pages/order/detail?id=42',
        data: { thing1: { value: '水煮鱼' }, amount2: { value: '¥88.00' } },
      });
    });

    test('a revoked merchant: its sessions stop at once (403), stay ended, and it cannot log users in', async () => {
      const user = await sandboxUser('小孙');
      const live = await session(c, user);
      assert.equal((await me(live.sessionToken)).status, 200);
      await revokeMerchant(stack, c);
      assertError(await me(live.sessionToken), 403, 'merchant_not_authorized');
      assert.deepEqual((await introspect(live.sessionToken)).json, { active: false });
      assertError(await logIn(c, 'any'), 403, 'merchant_not_authorized');
      assertError(await stack.api('GET', `/runtime/v1/merchants/${c}/users`, { key: stack.keys.runtime }), 403, 'merchant_not_authorized');
      // The push ended them: after re-authorizing, the old session stays dead.
      for (let i = 0; i < 100; i++) {
        const open = await sql<{ n: number | string }>`select count(*) as n from runtime_sessions where app_id = ${c} and ended_at is null`.execute(stack.service.store.database.db);
        if (Number(open.rows[0]?.n) === 0) break;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      await authorizeMerchant(stack, c);
      assertError(await me(live.sessionToken), 401, 'session_invalid');
    });

    test('no session_key, phone number or session token in the logs, and none in plain text in the database', async () => {
      const state = stack.sandbox.sandbox.runtime.state.data.users;
      const sessionKeys = Object.values(state.sessions).flatMap((byOpenId) => Object.values(byOpenId).map((s) => s.sessionKey));
      assert.ok(sessionKeys.length >= 5);
      const secrets = [...sessionKeys, '13912345678'];
      const logs = stack.logs.join('\n');
      for (const secret of secrets) assert.ok(!logs.includes(secret), 'a session key or phone number in the logs');
      const { db } = stack.service.store.database;
      const rows = JSON.stringify([
        ...(await sql`select * from runtime_sessions`.execute(db)).rows,
        ...(await sql`select * from runtime_users`.execute(db)).rows,
        ...(await sql`select * from runtime_messages`.execute(db)).rows,
      ]);
      for (const secret of secrets) assert.ok(!rows.includes(secret), 'a session key or phone number in plain text in a row');
      assert.ok(!rows.includes('kss_'), 'session tokens are stored hashed');
      if (dialect.name === 'sqlite') {
        const file = stack.database.url.replace(/^sqlite:/, '');
        const bytes = [file, `${file}-wal`].map((path) => {
          try {
            return readFileSync(path).toString('latin1');
          } catch {
            return '';
          }
        }).join('');
        for (const secret of secrets) assert.ok(!bytes.includes(secret), 'a session key or phone number in the database file');
      }
    });
  });

  describe(`runtime login limits on ${dialect.name}`, { skip: dialect.skip }, () => {
    test('per client address and per mini-program: 429 rate_limited with retry-after, before any platform call', async () => {
      const stack = await startStack(dialect, { env: { KS_RUNTIME_LOGINS_PER_IP_PER_MIN: '3', KS_RUNTIME_LOGINS_PER_APP_PER_MIN: '0' } });
      try {
        await stack.ready();
        const body = { appId: 'ks_any', code: 'c' };
        for (let i = 0; i < 3; i++) assertError(await stack.api('POST', '/runtime/v1/sessions', { key: null, body }), 403, 'merchant_not_authorized');
        const limited = await stack.api('POST', '/runtime/v1/sessions', { key: null, body });
        const error = assertError(limited, 429, 'rate_limited');
        assert.ok(Number(limited.headers.get('retry-after')) >= 1);
        assert.deepEqual({ limit: error.details.limit, per: error.details.per }, { limit: 3, per: 'from this address' });
        // Other routes are not counted against it.
        assert.equal((await stack.api('GET', '/healthz', { key: null })).status, 200);
      } finally {
        await stack.close();
      }
      const perApp = await startStack(dialect, { env: { KS_RUNTIME_LOGINS_PER_IP_PER_MIN: '0', KS_RUNTIME_LOGINS_PER_APP_PER_MIN: '2' } });
      try {
        await perApp.ready();
        for (let i = 0; i < 2; i++) assertError(await perApp.api('POST', '/runtime/v1/sessions', { key: null, body: { appId: 'ks_one', code: 'c' } }), 403);
        assertError(await perApp.api('POST', '/runtime/v1/sessions', { key: null, body: { appId: 'ks_one', code: 'c' } }), 429, 'rate_limited');
        // Another mini-program has its own allowance.
        assertError(await perApp.api('POST', '/runtime/v1/sessions', { key: null, body: { appId: 'ks_two', code: 'c' } }), 403, 'merchant_not_authorized');
      } finally {
        await perApp.close();
      }
    });
  });
}

for (const dialect of dialectTargets().filter((target) => target.name === 'postgres')) {
  describe('two instances on one PostgreSQL database', { skip: dialect.skip }, () => {
    test('each honours the other’s sessions; a revoked merchant’s sessions die on both', async () => {
      const first = await startStack(dialect, { env: { KS_RUNTIME_LOGINS_PER_IP_PER_MIN: '0' } });
      const second = await startStack(dialect, { database: first.database, sharedSandbox: first.sandbox, env: { KS_RUNTIME_LOGINS_PER_IP_PER_MIN: '0' } });
      try {
        await first.ready();
        const appId = (await first.sandbox.control<{ merchants: { appIds: string[] }[] }>('POST', '/merchants', { count: 1 })).json.merchants[0]!.appIds[0]!;
        await authorizeMerchant(first, appId);
        const user = (await first.sandbox.control<{ userId: string }>('POST', '/users', { nickname: '两地用户' })).json.userId;
        const code = async (): Promise<string> => (await first.sandbox.control<{ code: string }>('POST', `/apps/${appId}/login`, { userId: user })).json.code;
        const onFirst = await first.api<SessionAnswer>('POST', '/runtime/v1/sessions', { key: null, body: { appId, code: await code() } });
        const onSecond = await second.api<SessionAnswer>('POST', '/runtime/v1/sessions', { key: null, body: { appId, code: await code() } });
        assert.equal(onFirst.status, 201, JSON.stringify(onFirst.json));
        assert.equal(onSecond.status, 201, JSON.stringify(onSecond.json));
        const bearer = (token: string) => ({ key: null, headers: { authorization: `Bearer ${token}` } });
        for (const [stack, token] of [[second, onFirst.json.sessionToken], [first, onSecond.json.sessionToken]] as const) {
          assert.equal((await stack.api<MeAnswer>('GET', '/runtime/v1/me', bearer(token))).json.appId, appId);
          assert.equal((await stack.api('POST', '/runtime/v1/introspect', { key: first.keys.runtime, body: { sessionToken: token } })).json.active, true);
        }
        // A logout on one is a logout on the other.
        assert.equal((await second.api('DELETE', '/runtime/v1/sessions/current', bearer(onFirst.json.sessionToken))).status, 204);
        assertError(await first.api('GET', '/runtime/v1/me', bearer(onFirst.json.sessionToken)), 401, 'session_invalid');
        // The revocation is pushed to the first instance; the second answers 403 at once too.
        await revokeMerchant(first, appId);
        for (const stack of [first, second]) assertError(await stack.api('GET', '/runtime/v1/me', bearer(onSecond.json.sessionToken)), 403, 'merchant_not_authorized');
      } finally {
        await second.close();
        await first.close();
        await dialect.cleanup();
      }
    });
  });
}
