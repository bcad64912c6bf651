/**
 * Many merchants authorizing at once (a campaign in the service market): every authorization code is
 * exchanged under the instance's platform rate limit (KS_RATE_LIMIT_PER_SEC), shared with the rollouts,
 * so the platform refuses none of the exchanges even when it allows barely more than that limit. The same
 * for a script firing an operator's operations at once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '../helpers/sandbox.ts';
import { startStack, type Stack } from '../helpers/service.ts';
import { dialectTargets } from '../store/dialects.ts';

const MERCHANTS = 40;
const RATE = 10;
/** The service lets RATE/s go; calls it let go apart can arrive bunched on a loaded machine: 2× margin. */
const PLATFORM_LIMIT = 2 * RATE;

for (const dialect of dialectTargets()) {
  describe(`${MERCHANTS} authorizations at once on ${dialect.name}`, { skip: dialect.skip, timeout: 120_000 }, () => {
    let stack: Stack;
    before(async () => {
      stack = await startStack(dialect, { env: { KS_RATE_LIMIT_PER_SEC: String(RATE) } });
      await stack.ready();
    });
    after(async () => {
      await stack?.close();
      await dialect.cleanup();
    });

    test('every code exchanged once, none refused by the platform’s rate limit, all merchants authorized', async () => {
      const apps = await stack.sandbox.newApps(MERCHANTS);
      const before = (await stack.sandbox.calls()).byOperation.exchangeAuthorizationCode;
      assert.equal((await stack.sandbox.control('PUT', '/faults', { rateLimitPerSec: PLATFORM_LIMIT })).status, 200);
      try {
        const granted = await Promise.all(apps.map((appId) => stack.sandbox.control('POST', '/authorizations', { appId, permissions: [1, 2] })));
        assert.deepEqual(new Set(granted.map((g) => g.status)), new Set([201]));
        await waitFor(async () => {
          const listed = await stack.api<{ items: { appId: string }[] }>('GET', '/api/v1/merchants?status=authorized&limit=200');
          return apps.every((appId) => listed.json.items.some((m) => m.appId === appId)) ? true : undefined;
        }, { timeoutMs: 60_000, intervalMs: 100, what: 'every merchant authorized on the service' });
      } finally {
        assert.equal((await stack.sandbox.control('PUT', '/faults', { rateLimitPerSec: 0 })).status, 200);
      }
      const exchanges = (await stack.sandbox.calls()).byOperation.exchangeAuthorizationCode;
      assert.equal((exchanges?.faulted ?? 0) - (before?.faulted ?? 0), 0, 'no exchange refused by the platform’s rate limit');
      assert.equal((exchanges?.ok ?? 0) - (before?.ok ?? 0), MERCHANTS, 'each code exchanged once');
    });

    test('40 operator calls at once (versions of 40 merchants) wait for the same limit: none refused', async () => {
      const listed = await stack.api<{ items: { appId: string }[] }>('GET', '/api/v1/merchants?status=authorized&limit=40');
      const apps = listed.json.items.map((m) => m.appId);
      assert.equal(apps.length, MERCHANTS);
      const before = (await stack.sandbox.calls()).byOperation.getVersions;
      assert.equal((await stack.sandbox.control('PUT', '/faults', { rateLimitPerSec: PLATFORM_LIMIT })).status, 200);
      try {
        const answers = await Promise.all(apps.map((appId) => stack.api('GET', `/api/v1/merchants/${appId}/versions`)));
        assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
      } finally {
        assert.equal((await stack.sandbox.control('PUT', '/faults', { rateLimitPerSec: 0 })).status, 200);
      }
      const versions = (await stack.sandbox.calls()).byOperation.getVersions;
      assert.equal((versions?.faulted ?? 0) - (before?.faulted ?? 0), 0, 'no versions read refused by the platform’s rate limit');
      assert.equal((versions?.ok ?? 0) - (before?.ok ?? 0), MERCHANTS);
    });
  });
}
