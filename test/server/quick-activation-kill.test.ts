/**
 * Quick activation survives kill -9: the provider server runs as a child process, merchants authorize and
 * their onboardings start; the process is killed with SIGKILL mid-way (some uploaded or under audit, some
 * not); a new process on the same database finishes every onboarding with one upload, one audit submission
 * and one release per merchant.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { assertOncePerMerchant, startChildService, type ChildService } from '../helpers/child-service.ts';
import { STABLE, type OnboardingJson } from '../helpers/onboarding.ts';
import { startSandbox, waitFor, type SandboxHarness } from '../helpers/sandbox.ts';
import { dialectTargets } from '../store/dialects.ts';

const MERCHANTS = 10;

for (const dialect of dialectTargets()) {
  describe(`quick activation survives kill -9 on ${dialect.name}`, { skip: dialect.skip, timeout: 300_000 }, () => {
    let sandbox: SandboxHarness;
    const children: ChildService[] = [];
    const adminKey = `ksk_${randomBytes(24).toString('hex')}`;

    before(async () => {
      // 100 ms per call and 1.5 s audits: onboardings sit at different steps when the process dies.
      sandbox = await startSandbox({ component: { auditDelayMs: 1500 } });
      await sandbox.control('PUT', '/faults', { latencyMs: 100 });
    });
    after(async () => {
      for (const child of children) await child.kill('SIGKILL');
      await sandbox?.close();
      await dialect.cleanup();
    });

    const statuses = async (service: ChildService, apps: string[]): Promise<string[]> =>
      Promise.all(apps.map(async (appId) => (await service.api<{ onboarding?: OnboardingJson }>('GET', `/api/v1/merchants/${appId}`)).json.onboarding?.status ?? 'unknown'));

    test('SIGKILL mid-onboarding, restart: every merchant live, each uploaded, submitted and released once', async () => {
      const database = dialect.fresh();
      // Ten one-merchant rollouts share the rate limit: a step (up to ~8 calls) must fit in its lease, or it is
      // taken over and redone forever (docs/onboarding.md, "Limits"). 20 calls/s and 20 s leases leave room.
      const env = { KS_RATE_LIMIT_PER_SEC: '20', KS_ROLLOUT_LEASE_MS: '20000', KS_ROLLOUT_AUDIT_POLL_MS: '2000' };
      const first = await startChildService({ sandbox, databaseUrl: database.url, adminKey, env, waitForTicket: true });
      children.push(first);
      const channel = await first.api('PUT', '/api/v1/channels/stable', STABLE);
      assert.equal(channel.status, 200, JSON.stringify(channel.json));

      const apps = await sandbox.newApps(MERCHANTS);
      for (const appId of apps) assert.equal((await sandbox.control('POST', '/authorizations', { appId, permissions: [1, 2] })).status, 201);
      // Every onboarding claimed or started (none still only in a push handler), a few uploaded, not all live.
      await waitFor(async () => {
        const seen = await statuses(first, apps);
        const uploads = Object.values((await sandbox.calls()).byApp).reduce((sum, app) => sum + (app.uploadCode?.ok ?? 0), 0);
        return seen.every((s) => ['starting', 'in_progress', 'live'].includes(s)) && uploads >= 3 && seen.some((s) => s !== 'live') ? true : undefined;
      }, { timeoutMs: 120_000, intervalMs: 20, what: 'onboardings under way' });
      await first.kill('SIGKILL');

      const second = await startChildService({ sandbox, databaseUrl: database.url, adminKey, env, port: first.port });
      children.push(second);
      let last: string[] = [];
      await waitFor(async () => ((last = await statuses(second, apps)).every((s) => s === 'live') ? true : undefined), {
        timeoutMs: 180_000,
        intervalMs: 250,
        what: `all ${MERCHANTS} onboardings live after the restart`,
      }).catch((error: unknown) => assert.fail(`${String(error)}: ${last.join(', ')}\n${second.output().slice(-2000)}`));
      assertOncePerMerchant(await sandbox.calls(), apps);
      const rollouts = await second.api<{ items: { origin: string }[] }>('GET', '/api/v1/rollouts?limit=200');
      assert.equal(rollouts.json.items.filter((r) => r.origin === 'onboarding').length, MERCHANTS, 'one onboarding rollout per merchant');
    });
  });
}
