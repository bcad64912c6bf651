/**
 * Several service instances on one database and one platform: 200 concurrent calls at token expiry, split
 * across two instances, make exactly ONE refresh call at the platform (counted by the sandbox).
 *
 * PostgreSQL is the multi-instance database (`DATABASE_URL=postgres://…`, N stateless instances). The same
 * runs on SQLite with two services on one database FILE, each with its own connection: the refresh lease
 * and compare-and-set are single statements there, so two connections decide them through SQLite's single
 * writer. (Both services share this test's process; `SqlStore` warns that a second connection in one process
 * must not wait on a write lock held across an await, which only multi-statement transactions do — none
 * runs while the 200 calls do, the pushes that write in transactions have all been applied before.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { credentialKeys } from '../../src/kuaishou/index.ts';
import { startStack, type Stack } from '../helpers/service.ts';
import { waitFor } from '../helpers/sandbox.ts';
import { dialectTargets } from '../store/dialects.ts';

const APP = 'ks0000000000000001';
const CALLS = 200;

for (const dialect of dialectTargets()) {
  describe(`two instances on one ${dialect.name} database`, { skip: dialect.skip, timeout: 50_000 }, () => {
    let first: Stack | undefined;
    let second: Stack | undefined;
    let instances: [Stack, Stack];
    let componentAppId: string;

    before(async () => {
      first = await startStack(dialect);
      second = await startStack(dialect, { database: first.database, sharedSandbox: first.sandbox });
      instances = [first, second];
      componentAppId = first.sandbox.sandbox.runtime.state.component.componentAppId;
      await first.ready();
      // The merchant authorizes; the platform pushes to the first instance; the second sees it in the database.
      assert.equal((await first.sandbox.control('POST', '/authorizations', { appId: APP, permissions: [1, 2] })).status, 201);
      await waitFor(async () => {
        const answer = await second!.api<{ status: string }>('GET', `/api/v1/merchants/${APP}`, { key: second!.keys.viewer });
        return answer.status === 200 && answer.json.status === 'authorized' ? true : undefined;
      }, { timeoutMs: 5000, what: 'the merchant, through the second instance' });
    });
    after(async () => {
      await second?.close();
      await first?.close(); // closes the shared sandbox too
      await dialect.cleanup();
    });

    /** Marks a stored credential expired, through one instance's token store. */
    async function expire(key: string): Promise<string> {
      const store = instances[0].service.store.tokenStore;
      const current = await store.get(key);
      assert.ok(current, `${key} is stored`);
      assert.ok(await store.compareAndSet(key, current.value, { ...current, expiresAt: Date.now() - 1000 }));
      return current.value;
    }

    async function counts(): Promise<{ refresh: number; componentToken: number; versions: number }> {
      const calls = await instances[0].sandbox.calls();
      return {
        // byOperation counts every call; byApp only those the platform answered for the app (successes).
        refresh: calls.byOperation.refreshAuthorizerToken?.calls ?? 0,
        componentToken: calls.byOperation.getComponentAccessToken?.calls ?? 0,
        versions: calls.byOperation.getVersions?.calls ?? 0,
      };
    }

    /**
     * The calls, alternating between the instances. Every platform call takes 100 ms more, so the refresh is
     * still in flight when both instances have found the token expired: they really contend for it.
     */
    async function storm(): Promise<void> {
      assert.equal((await instances[0].sandbox.control('PUT', '/faults', { latencyMs: 100 })).status, 200);
      let answers;
      try {
        answers = await Promise.all(
          Array.from({ length: CALLS }, (_, i) => {
            const instance = instances[i % 2]!;
            return instance.api('GET', `/api/v1/merchants/${APP}/versions`, { key: instance.keys.viewer });
          }),
        );
      } finally {
        assert.equal((await instances[0].sandbox.control('PUT', '/faults', { latencyMs: 0 })).status, 200);
      }
      const statuses = new Map<number, number>();
      for (const answer of answers) statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      assert.deepEqual([...statuses], [[200, CALLS]], `every call answered 200 (${JSON.stringify(answers.find((a) => a.status !== 200)?.json)})`);
    }

    test(`${CALLS} concurrent calls across both instances at the access token's expiry: one refresh`, async () => {
      const key = credentialKeys.authorizer(componentAppId, APP);
      const expired = await expire(key);
      const before = await counts();
      await storm();
      const after = await counts();
      assert.equal(after.refresh - before.refresh, 1, 'exactly one refreshAuthorizerToken at the platform');
      assert.equal(after.versions - before.versions, CALLS);
      const stored = await instances[1].service.store.tokenStore.get(key);
      assert.ok(stored && stored.value !== expired && stored.expiresAt > Date.now(), 'the new pair is stored for both instances');
    });

    test('again with the component token expired as well: one refresh of each', async () => {
      await expire(credentialKeys.componentToken(componentAppId));
      await expire(credentialKeys.authorizer(componentAppId, APP));
      const before = await counts();
      await storm();
      const after = await counts();
      assert.equal(after.componentToken - before.componentToken, 1, 'exactly one getComponentAccessToken');
      assert.equal(after.refresh - before.refresh, 1, 'exactly one refreshAuthorizerToken');
      assert.equal(after.versions - before.versions, CALLS);
    });
  });
}
