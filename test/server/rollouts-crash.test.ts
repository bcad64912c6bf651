/**
 * Crash safety, for real: the provider server runs as a child process and is killed with SIGKILL in the
 * middle of a rollout (some targets uploaded or under audit, some still pending, steps in flight holding
 * leases). A new process on the same database takes the dead one's leases over once they expire and
 * completes the rollout; the sandbox's call log shows exactly one upload, one audit submission and one
 * release per merchant.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { assertOncePerMerchant, authorizeNewMerchants, startChildService, untilRollout, type ChildService, type RolloutAnswer } from '../helpers/child-service.ts';
import { startSandbox, type SandboxHarness } from '../helpers/sandbox.ts';
import { dialectTargets } from '../store/dialects.ts';

const MERCHANTS = 30;
const LEASE_MS = 3000;

for (const dialect of dialectTargets()) {
  describe(`a rollout survives kill -9 of its server on ${dialect.name}`, { skip: dialect.skip, timeout: 300_000 }, () => {
    let sandbox: SandboxHarness;
    const children: ChildService[] = [];
    const adminKey = `ksk_${randomBytes(24).toString('hex')}`;

    before(async () => {
      // Each call takes 100 ms and audits 1.5 s, so targets sit uploaded, under audit and pending at once.
      sandbox = await startSandbox({ component: { auditDelayMs: 1500 } });
      await sandbox.control('PUT', '/faults', { latencyMs: 100 });
    });
    after(async () => {
      for (const child of children) await child.kill('SIGKILL');
      await sandbox?.close();
      await dialect.cleanup();
    });

    test('SIGKILL mid-rollout, restart: it completes, one upload, one submission and one release per merchant', async () => {
      const database = dialect.fresh();
      // 5 steps in flight (the rollout's concurrency), more than the derived instance cap for such short leases.
      const env = { KS_RATE_LIMIT_PER_SEC: '10', KS_ROLLOUT_LEASE_MS: String(LEASE_MS), KS_ROLLOUT_AUDIT_POLL_MS: '2000', KS_ROLLOUT_MAX_IN_FLIGHT: '5' };
      const first = await startChildService({ sandbox, databaseUrl: database.url, adminKey, env, waitForTicket: true });
      children.push(first);
      const apps = await authorizeNewMerchants(sandbox, first, MERCHANTS);

      const created = await first.api<RolloutAnswer>('POST', '/api/v1/rollouts', {
        templateId: 2, userVersion: '7.0.0', userDesc: 'crash test', targets: { all: true }, concurrency: 5, maxFailureRate: 1,
      });
      assert.equal(created.status, 201, JSON.stringify(created.json));
      const id = created.json.rollout.id;

      // Mid-way: some targets under audit (uploaded and submitted), some not started, steps in flight.
      const store = await dialect.open(database.url);
      let leased = 0;
      try {
        await untilRollout(first, id, (a) => a.progress.byState.auditing >= 3 && a.progress.byState.pending >= 10, 120_000, 20);
        await first.kill('SIGKILL');
        const targets = (await store.rollouts.targets({ rolloutId: id, limit: 200 })).items;
        leased = targets.filter((t) => t.leaseUntil !== null && t.leaseUntil > Date.now()).length;
        const byState = targets.reduce<Record<string, number>>((counts, t) => ({ ...counts, [t.state]: (counts[t.state] ?? 0) + 1 }), {});
        assert.ok(byState.pending! > 0 && byState.released !== MERCHANTS, `killed mid-way: ${JSON.stringify(byState)}`);
      } finally {
        await store.close();
      }
      // With 5 in flight and 100 ms per call, the dead process held leases: the next one must wait them out.
      assert.ok(leased > 0, 'the dead process left live leases behind');

      const second = await startChildService({ sandbox, databaseUrl: database.url, adminKey, env, port: first.port });
      children.push(second);
      const done = await untilRollout(second, id, (a) => a.rollout.status === 'completed', 180_000, 250);
      assert.equal(done.progress.byState.released, MERCHANTS, JSON.stringify(done.progress.byState));
      assertOncePerMerchant(await sandbox.calls(), apps);
    });
  });
}
