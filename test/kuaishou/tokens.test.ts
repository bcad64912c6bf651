import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import {
  credentialKeys,
  KuaishouPlatform,
  MemoryTokenStore,
  NoTicketError,
  NotAuthorizedError,
  KuaishouApiError,
  TokenManager,
  type TokenStore,
} from '../../src/kuaishou/index.ts';
import { FakePlatform } from '../helpers/fake-platform.ts';
import { COMPONENT_APP_ID, COMPONENT_SECRET, TokenRoutes } from '../helpers/token-routes.ts';

const APP = 'ks_merchant_1';
const HOUR = 3_600_000;

let fake: FakePlatform;
let routes: TokenRoutes;

function makePlatform(store: TokenStore = new MemoryTokenStore(), tokenOptions = {}): KuaishouPlatform {
  return KuaishouPlatform.create({
    componentAppId: COMPONENT_APP_ID,
    componentAppSecret: COMPONENT_SECRET,
    baseUrl: fake.baseUrl,
    store,
    retry: { retries: 0 },
    tokens: { ticketRequestIntervalMs: 0, ...tokenOptions },
  });
}

/** A platform whose merchant APP has authorized and whose pair is stored. */
async function authorizedPlatform(store: TokenStore = new MemoryTokenStore()): Promise<KuaishouPlatform> {
  const platform = makePlatform(store);
  await platform.tokens.storeTicket('ticket-1', 3 * 3600);
  await platform.completeAuthorization(routes.authorize(APP));
  return platform;
}

/** Makes the stored access token of APP look expired (as it would after 2 hours). */
async function expireAuthorizerToken(store: TokenStore): Promise<string> {
  const key = credentialKeys.authorizer(COMPONENT_APP_ID, APP);
  const current = await store.get(key);
  assert.ok(current);
  assert.ok(await store.compareAndSet(key, current.value, { ...current, expiresAt: Date.now() - 1 }));
  return current.value;
}

before(async () => {
  fake = await FakePlatform.start();
});
after(() => fake.close());
beforeEach(() => {
  fake.reset();
  routes = new TokenRoutes(fake, { issueDelayMs: 20 });
});

describe('single-flight refresh', () => {
  test('200 concurrent calls with an expired component token make exactly one token call', async () => {
    const store = new MemoryTokenStore();
    const platform = makePlatform(store);
    await platform.tokens.storeTicket('ticket-1', 3 * 3600);
    await store.compareAndSet(credentialKeys.componentToken(COMPONENT_APP_ID), undefined, { value: 'old', expiresAt: Date.now() - 1 });

    const tokens = await Promise.all(Array.from({ length: 200 }, () => platform.tokens.getComponentAccessToken()));

    assert.equal(routes.issued('access_token'), 1);
    assert.equal(new Set(tokens).size, 1);
    assert.ok(routes.componentTokens.has(tokens[0]!));
  });

  test('200 concurrent authorized calls at authorizer-token expiry make exactly one refresh call', async () => {
    const store = new MemoryTokenStore();
    const platform = await authorizedPlatform(store);
    const expired = await expireAuthorizerToken(store);

    await Promise.all(Array.from({ length: 200 }, () => platform.getVersions(APP)));

    assert.equal(routes.issued('refresh_authorizer_access_token'), 1);
    const used = new Set(fake.calls('/openapi/mp/auth/app/package/versions').map((r) => r.query.authorizer_access_token));
    assert.equal(used.size, 1);
    assert.ok(!used.has(expired));
  });

  test('two instances sharing one store make one refresh between them (the lease)', async () => {
    const store = new MemoryTokenStore();
    const first = await authorizedPlatform(store);
    const second = makePlatform(store);
    await expireAuthorizerToken(store);

    const calls = Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? first : second).tokens.getAuthorizerAccessToken(APP));
    const tokens = await Promise.all(calls);

    assert.equal(routes.issued('refresh_authorizer_access_token'), 1);
    assert.equal(new Set(tokens).size, 1);
  });

  test('tokens are refreshed ahead of expiry, by the configured skew', async () => {
    const store = new MemoryTokenStore();
    const platform = await authorizedPlatform(store);
    const key = credentialKeys.authorizer(COMPONENT_APP_ID, APP);
    const current = (await store.get(key))!;

    await store.compareAndSet(key, current.value, { ...current, expiresAt: Date.now() + 10 * 60_000 });
    assert.equal(await platform.tokens.getAuthorizerAccessToken(APP), current.value, 'ten minutes left: kept');
    assert.equal(routes.issued('refresh_authorizer_access_token'), 0);

    await store.compareAndSet(key, current.value, { ...current, expiresAt: Date.now() + 2 * 60_000 });
    assert.notEqual(await platform.tokens.getAuthorizerAccessToken(APP), current.value, 'two minutes left: refreshed');
    assert.equal(routes.issued('refresh_authorizer_access_token'), 1);
  });
});

describe('token-invalid answers', () => {
  test('a rejected token is invalidated, refreshed once, and the call retried once', async () => {
    const store = new MemoryTokenStore();
    const platform = await authorizedPlatform(store);
    const revoked = await platform.tokens.getAuthorizerAccessToken(APP);
    routes.authorizerTokens.delete(revoked); // the platform no longer honours it

    await platform.getVersions(APP);

    const sent = fake.calls('/openapi/mp/auth/app/package/versions').map((r) => r.query.authorizer_access_token);
    assert.equal(sent.length, 2);
    assert.equal(sent[0], revoked);
    assert.notEqual(sent[1], revoked);
    assert.equal(routes.issued('refresh_authorizer_access_token'), 1);
  });

  test('a token rejected again after the refresh fails typed, without a loop', async () => {
    const platform = await authorizedPlatform();
    fake.on('/openapi/mp/auth/app/package/versions', { json: { result: 100200102, error_msg: 'access token invalid' } });

    await assert.rejects(platform.getVersions(APP), (error: unknown) => error instanceof KuaishouApiError && error.kind === 'tokenInvalid');
    assert.equal(fake.count('/openapi/mp/auth/app/package/versions'), 2);
    assert.equal(routes.issued('refresh_authorizer_access_token'), 1);
  });

  test('50 callers rejected at once cause one refresh', async () => {
    const platform = await authorizedPlatform();
    routes.authorizerTokens.clear();

    await Promise.all(Array.from({ length: 50 }, () => platform.getVersions(APP)));

    assert.equal(routes.issued('refresh_authorizer_access_token'), 1);
  });

  test('invalidating a token that was already replaced leaves the fresh one alone', async () => {
    const store = new MemoryTokenStore();
    const platform = await authorizedPlatform(store);
    const fresh = await platform.tokens.getAuthorizerAccessToken(APP);

    await platform.tokens.invalidateAuthorizerAccessToken(APP, 'some-older-token');

    assert.equal(await platform.tokens.getAuthorizerAccessToken(APP), fresh);
    assert.equal(routes.issued('refresh_authorizer_access_token'), 0);
  });

  test('a rejected component token is refreshed once and the call retried', async () => {
    const platform = await authorizedPlatform();
    routes.componentTokens.clear();
    fake.on('/openapi/mp/tp/template/list', (r) =>
      routes.componentTokens.has(r.query.component_access_token ?? '')
        ? { json: { result: 1, templates: [] } }
        : { json: { result: 100200102, error_msg: 'component token invalid' } },
    );

    assert.deepEqual(await platform.listTemplates(), []);
    assert.equal(fake.count('/openapi/mp/tp/template/list'), 2);
    assert.equal(routes.issued('access_token'), 2, 'one at authorization, one after the rejection');
  });
});

describe('refresh tokens', () => {
  test('are single-use: the new pair replaces the old one in the store', async () => {
    const store = new MemoryTokenStore();
    const platform = await authorizedPlatform(store);
    const key = credentialKeys.authorizer(COMPONENT_APP_ID, APP);
    const before = (await store.get(key))!;
    await expireAuthorizerToken(store);

    await platform.tokens.getAuthorizerAccessToken(APP);

    const afterRefresh = (await store.get(key))!;
    assert.notEqual(afterRefresh.refreshToken, before.refreshToken);
    assert.ok(routes.refreshTokens.has(afterRefresh.refreshToken!), 'the stored refresh token is the live one');
    assert.ok(!routes.refreshTokens.has(before.refreshToken!), 'the platform spent the old one');
  });

  test('the old pair is kept when the refresh call fails, and used on the next attempt', async () => {
    const store = new MemoryTokenStore();
    const platform = await authorizedPlatform(store);
    const key = credentialKeys.authorizer(COMPONENT_APP_ID, APP);
    await expireAuthorizerToken(store);
    const before = (await store.get(key))!;
    const realRoute = '/mp/tp/oauth/refresh_authorizer_access_token';
    let failures = 1;
    fake.on(realRoute, (r, n) => {
      if (failures-- > 0) return { status: 502, json: { result: 100200500, errorMsg: 'upstream' } };
      // second attempt: behave like the real platform
      const appId = routes.refreshTokens.get(r.query.authorizer_refresh_token ?? '');
      assert.equal(appId, APP, `attempt ${n} carries the still-valid old refresh token`);
      routes.refreshTokens.delete(r.query.authorizer_refresh_token ?? '');
      return { json: { result: 1, authorizerAccessToken: 'atoken-new', expiresIn: 7200, authorizerRefreshToken: 'rtoken-new', refreshExpiresIn: 2592000, authorizerAppId: APP, authorizePermission: [] } };
    });

    await assert.rejects(platform.tokens.getAuthorizerAccessToken(APP), KuaishouApiError);
    assert.equal((await store.get(key))!.refreshToken, before.refreshToken, 'old refresh token not dropped');

    assert.equal(await platform.tokens.getAuthorizerAccessToken(APP), 'atoken-new');
    assert.equal((await store.get(key))!.refreshToken, 'rtoken-new');
  });

  test('a rejected refresh token recovers through re_authorization_code and T4', async () => {
    const store = new MemoryTokenStore();
    const platform = await authorizedPlatform(store);
    routes.refreshTokens.clear(); // lost on the platform's side
    await expireAuthorizerToken(store);
    const exchangesBefore = routes.issued('authorizer_access_token');

    const token = await platform.tokens.getAuthorizerAccessToken(APP);

    assert.ok(routes.authorizerTokens.has(token));
    assert.equal(routes.issued('re_authorization_code'), 1);
    assert.equal(routes.issued('authorizer_access_token'), exchangesBefore + 1);
  });

  test('a merchant with no stored pair at all recovers the same way', async () => {
    const platform = makePlatform();
    await platform.tokens.storeTicket('ticket-1', 3 * 3600);
    routes.authorizedApps.add(APP);

    await platform.getVersions(APP);

    assert.equal(routes.issued('re_authorization_code'), 1);
  });

  test('a merchant that never authorized gets NotAuthorizedError', async () => {
    const platform = makePlatform();
    await platform.tokens.storeTicket('ticket-1', 3 * 3600);

    await assert.rejects(platform.getVersions('ks_stranger'), (error: unknown) => {
      assert.ok(error instanceof NotAuthorizedError);
      assert.equal(error.appId, 'ks_stranger');
      return true;
    });
  });

  test('keepAuthorizerAlive refreshes a pair whose refresh token nears its end', async () => {
    const store = new MemoryTokenStore();
    const platform = await authorizedPlatform(store);
    const key = credentialKeys.authorizer(COMPONENT_APP_ID, APP);
    const current = (await store.get(key))!;

    await platform.tokens.keepAuthorizerAlive(APP, 5 * 24 * HOUR);
    assert.equal(routes.issued('refresh_authorizer_access_token'), 0, 'thirty days left: nothing to do');

    await store.compareAndSet(key, current.value, { ...current, refreshExpiresAt: Date.now() + 24 * HOUR });
    await platform.tokens.keepAuthorizerAlive(APP, 5 * 24 * HOUR);
    assert.equal(routes.issued('refresh_authorizer_access_token'), 1);
    assert.ok((await store.get(key))!.refreshExpiresAt! > Date.now() + 29 * 24 * HOUR);
  });

  test('forgetAuthorizer drops the pair', async () => {
    const store = new MemoryTokenStore();
    const platform = await authorizedPlatform(store);
    await platform.tokens.forgetAuthorizer(APP);
    assert.equal(await store.get(credentialKeys.authorizer(COMPONENT_APP_ID, APP)), undefined);
  });
});

describe('authorization codes', () => {
  test('a code exchanged by the redirect and the push at once is exchanged once; both get the grant', async () => {
    const store = new MemoryTokenStore();
    const first = makePlatform(store);
    const second = makePlatform(store);
    await first.tokens.storeTicket('ticket-1', 3 * 3600);
    const code = routes.authorize(APP);

    const grants = await Promise.all([first.completeAuthorization(code), second.completeAuthorization(code), first.completeAuthorization(code)]);

    assert.equal(routes.issued('authorizer_access_token'), 1);
    for (const grant of grants) assert.equal(grant.appId, APP);
    assert.equal(grants.filter((grant) => grant.exchangedHere).length, 1, 'exactly one caller exchanged it');
    const late = await second.completeAuthorization(code);
    assert.deepEqual(late, { ...grants[0], exchangedHere: false });
    assert.equal(routes.issued('authorizer_access_token'), 1, 'a late caller reads the recorded grant');
  });
});

describe('component ticket', () => {
  test('no ticket yet: NoTicketError, and one request for a ticket push', async () => {
    const platform = makePlatform(new MemoryTokenStore(), { ticketRequestIntervalMs: 60_000 });

    await assert.rejects(platform.listTemplates(), NoTicketError);
    await assert.rejects(platform.listTemplates(), NoTicketError);

    assert.equal(fake.count('/mp/tp/oauth/start_push_ticket'), 1, 'throttled to one request per interval');
    const [request] = fake.calls('/mp/tp/oauth/start_push_ticket');
    assert.deepEqual(request?.query, { component_app_id: COMPONENT_APP_ID, component_app_secret: COMPONENT_SECRET });
  });

  test('a ticket the platform rejects is dropped and reported as NoTicketError', async () => {
    const platform = makePlatform();
    await platform.tokens.storeTicket('stale-ticket', 3 * 3600);

    await assert.rejects(platform.tokens.getComponentAccessToken(), NoTicketError);
    assert.equal(await platform.tokens.hasValidTicket(), false);

    await platform.tokens.storeTicket('ticket-1', 3 * 3600);
    assert.ok(routes.componentTokens.has(await platform.tokens.getComponentAccessToken()));
  });

  test('requestTicketPush calls start_push_ticket', async () => {
    const tokens = new TokenManager({ client: makePlatform().client, store: new MemoryTokenStore() });
    await tokens.requestTicketPush();
    assert.equal(fake.count('/mp/tp/oauth/start_push_ticket'), 1);
  });
});
