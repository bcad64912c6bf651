/**
 * The runtime client against ks-isv itself (the real server on the sandbox), not a mimic: the sandbox plays
 * ks.login (a user's js_code) and the getPhoneNumber button (sealed data); the client logs in, reads /me
 * with the merchant's ext, binds the phone, relogs in after expiry, and logs out, through `fetchRequest`
 * and through a `ks.request` stand-in that sets a JSON content type on every call (bodyless ones too).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { createRuntimeClient, fetchRequest, ksRequest, memoryStorage, RuntimeClientError, sessionStorageKey, type KsRequestOptions, type RequestFn } from '../../src/runtime-client/index.ts';
import { authorizeMerchant } from '../helpers/rest.ts';
import { startStack, type Stack } from '../helpers/service.ts';
import { dialectTargets } from '../store/dialects.ts';
import { fakeKsRequest } from './fake-ks.ts';

/** ks.request as WeChat's behaves: `content-type: application/json` on every call, success for any status. */
const jsonEverywhereKs = { request: (options: KsRequestOptions): void => fakeKsRequest(options) };

const transports: { name: string; make: () => RequestFn }[] = [
  { name: 'fetchRequest(fetch)', make: () => fetchRequest(fetch) },
  { name: 'ksRequest(ks with a JSON content type on every call)', make: () => ksRequest(jsonEverywhereKs) },
];

for (const dialect of dialectTargets()) {
  describe(`runtime client against ks-isv on ${dialect.name}`, { skip: dialect.skip }, () => {
    let stack: Stack;
    let appId: string;

    before(async () => {
      stack = await startStack(dialect, { sandbox: { component: { capabilityDelayMs: 600_000 } }, env: { KS_RUNTIME_LOGINS_PER_IP_PER_MIN: '0' } });
      await stack.ready();
      const created = await stack.sandbox.control<{ merchants: { appIds: string[] }[] }>('POST', '/merchants', { count: 1 });
      appId = created.json.merchants[0]!.appIds[0]!;
      await authorizeMerchant(stack, appId);
      assert.equal((await stack.api('POST', '/api/v1/templates/sync', { key: stack.keys.operator })).status, 200);
      const templates = await stack.api<{ items: { templateId: number }[] }>('GET', '/api/v1/templates');
      const templateId = Math.max(...templates.json.items.map((t) => t.templateId));
      assert.equal((await stack.api('PUT', `/api/v1/merchants/${appId}/ext`, { key: stack.keys.operator, body: { templateId, overrides: { shopName: '川味小馆' }, baseVersion: 0 } })).status, 200);
      await stack.service.store.merchants.setName(appId, '川味小馆');
      // the phone capability, approved
      assert.equal((await stack.api('POST', `/api/v1/merchants/${appId}/capabilities/phone-number`, { key: stack.keys.operator, body: { reason: 'login by phone' } })).status, 200);
      assert.equal((await stack.sandbox.control('POST', `/capabilities/${appId}`, { capability: 'PHONE_NUMBER', decision: 'approve' })).status, 200);
      for (let i = 0; (await stack.service.store.capabilities.get(appId, 'phone-number'))?.status !== 'approved'; i++) {
        assert.ok(i < 200, 'the approval push did not arrive');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    });
    after(() => stack?.close());

    for (const transport of transports) {
      test(`login, me, bindPhone, relogin after expiry, logout (${transport.name})`, async () => {
        const created = await stack.sandbox.control<{ userId: string }>('POST', '/users', { nickname: '小林', phoneNumber: '13812345678' });
        const userId = created.json.userId;
        let logins = 0;
        const storage = memoryStorage();
        const client = createRuntimeClient({
          baseUrl: `${stack.url}/runtime/v1`,
          appId,
          request: transport.make(),
          storage,
          // the sandbox's ks.login for this user
          login: async () => {
            logins += 1;
            const answer = await stack.sandbox.control<{ code: string }>('POST', `/apps/${appId}/login`, { userId });
            return answer.json.code;
          },
        });

        const session = await client.login();
        assert.match(session.openId, /\S/);
        assert.ok(session.expiresAt > Date.now());
        const token = await client.sessionToken();
        assert.match(token ?? '', /^kss_/);
        assert.equal(await storage.get(sessionStorageKey(appId)), token);

        const me = await client.me();
        assert.equal(me.appId, appId);
        assert.equal(me.openId, session.openId);
        assert.equal(me.merchant.name, '川味小馆');
        assert.equal(me.ext.shopName, '川味小馆');
        assert.equal(me.phone, null);

        const button = await stack.sandbox.control<{ encryptedData: string; iv: string }>('POST', `/apps/${appId}/phone`, { userId });
        assert.equal(button.status, 200, JSON.stringify(button.json));
        assert.deepEqual(await client.bindPhone(button.json), { phoneNumber: '13812345678', purePhoneNumber: '13812345678', countryCode: '86' });
        assert.equal((await client.me()).phone, '138****5678');

        // the session expires: me logs in again by itself, once
        await sql`update runtime_sessions set expires_at = ${Date.now() - 1} where open_id = ${session.openId} and ended_at is null`.execute(stack.service.store.database.db);
        assert.equal((await client.me()).openId, session.openId);
        assert.equal(logins, 2);
        const fresh = await client.sessionToken();
        assert.notEqual(fresh, token);

        await client.logout();
        assert.equal(await client.sessionToken(), undefined);
        const introspected = await stack.api('POST', '/runtime/v1/introspect', { key: stack.keys.runtime, body: { sessionToken: fresh } });
        assert.deepEqual(introspected.json, { active: false }, 'the session ended on the server');
      });

      test(`errors carry the server's code and status (${transport.name})`, async () => {
        const client = createRuntimeClient({ baseUrl: `${stack.url}/runtime/v1`, appId, request: transport.make(), storage: memoryStorage(), login: () => Promise.resolve('made-up-code') });
        const error = await client.login().then(
          () => assert.fail('a made-up code must be refused'),
          (failure: unknown) => failure,
        );
        assert.ok(error instanceof RuntimeClientError);
        assert.equal(error.status, 401);
        assert.equal(error.code, 'code_invalid');

        const stale = createRuntimeClient({
          baseUrl: `${stack.url}/runtime/v1`,
          appId,
          request: transport.make(),
          storage: memoryStorage({ [sessionStorageKey(appId)]: 'kss_not_a_session' }),
          login: () => Promise.resolve('unused'),
          autoRelogin: false,
        });
        const invalid = await stale.me().then(
          () => assert.fail('an unknown token must be refused'),
          (failure: unknown) => failure,
        );
        assert.ok(invalid instanceof RuntimeClientError);
        assert.equal(invalid.status, 401);
        assert.equal(invalid.code, 'session_invalid');
        assert.equal(await stale.sessionToken(), undefined);
        await stale.logout(); // nothing stored: nothing sent, no error
      });
    }
  });
}
