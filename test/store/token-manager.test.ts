/**
 * The headline: two service instances (each its own TokenManager, KuaishouClient and store connection)
 * share one database; 200 concurrent calls at expiry, split across both, make exactly ONE refresh call.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { KuaishouClient } from '../../src/kuaishou/client.ts';
import { TokenManager } from '../../src/kuaishou/tokens/token-manager.ts';
import { credentialKeys } from '../../src/kuaishou/tokens/token-store.ts';
import type { SqlStore } from '../../src/store/index.ts';
import { FakePlatform } from '../helpers/fake-platform.ts';
import { COMPONENT_APP_ID, COMPONENT_SECRET, TokenRoutes } from '../helpers/token-routes.ts';
import { dialectTargets } from './dialects.ts';

const APP = 'ks_merchant_1';

function instance(fake: FakePlatform, store: SqlStore): TokenManager {
  const client = new KuaishouClient({ componentAppId: COMPONENT_APP_ID, componentAppSecret: COMPONENT_SECRET, baseUrl: fake.baseUrl, retry: { retries: 0 } });
  return new TokenManager({ client, store: store.tokenStore, ticketRequestIntervalMs: 0, leasePollMs: 20 });
}

/** Makes the stored credential at `key` look expired, the way two hours would. */
async function expire(store: SqlStore, key: string): Promise<string> {
  const current = await store.tokenStore.get(key);
  assert.ok(current);
  assert.ok(await store.tokenStore.compareAndSet(key, current.value, { ...current, expiresAt: Date.now() - 1 }));
  return current.value;
}

for (const target of dialectTargets()) {
  describe(`two TokenManagers on one ${target.name} database`, { skip: target.skip }, () => {
    let fake: FakePlatform;
    let routes: TokenRoutes;
    const stores: SqlStore[] = [];

    before(async () => {
      fake = await FakePlatform.start();
    });
    after(async () => {
      await fake.close();
      await Promise.all(stores.map((s) => s.close()));
      await target.cleanup();
    });
    beforeEach(() => {
      fake.reset();
      routes = new TokenRoutes(fake, { issueDelayMs: 30 });
    });

    async function twoInstances(): Promise<{ first: TokenManager; second: TokenManager; storeA: SqlStore; storeB: SqlStore }> {
      const { url } = target.fresh();
      const storeA = await target.open(url);
      const storeB = await target.open(url);
      stores.push(storeA, storeB);
      return { first: instance(fake, storeA), second: instance(fake, storeB), storeA, storeB };
    }

    test('200 concurrent getAuthorizerAccessToken at expiry, split across both: exactly one refresh', async () => {
      const { first, second, storeA, storeB } = await twoInstances();
      await first.storeTicket('ticket-1', 3 * 3600);
      await first.exchangeAuthorizationCode(routes.authorize(APP));
      const key = credentialKeys.authorizer(COMPONENT_APP_ID, APP);
      const before = await storeB.tokenStore.get(key);
      const expired = await expire(storeA, key);

      const tokens = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? first : second).getAuthorizerAccessToken(APP)));

      assert.equal(routes.issued('refresh_authorizer_access_token'), 1);
      assert.equal(new Set(tokens).size, 1);
      const [token] = tokens;
      assert.ok(token !== undefined && token !== expired && routes.authorizerTokens.has(token));
      const stored = await storeB.tokenStore.get(key);
      assert.equal(stored?.value, token);
      assert.ok(stored?.refreshToken && routes.refreshTokens.has(stored.refreshToken), 'the stored refresh token is the live one');
      assert.notEqual(stored.refreshToken, before?.refreshToken);
    });

    test('200 concurrent getComponentAccessToken at expiry, split across both: exactly one token call', async () => {
      const { first, second, storeA } = await twoInstances();
      await second.storeTicket('ticket-1', 3 * 3600);
      await first.getComponentAccessToken();
      await expire(storeA, credentialKeys.componentToken(COMPONENT_APP_ID));

      const tokens = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? first : second).getComponentAccessToken()));

      assert.equal(routes.issued('access_token'), 2, 'one to start, one refresh');
      assert.equal(new Set(tokens).size, 1);
      assert.ok(routes.componentTokens.has(tokens[0] ?? ''));
    });
  });
}
