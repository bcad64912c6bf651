/**
 * Two PushService instances (two stores, two connection pools) on one database, each group-committing
 * audit results for the same merchants in opposite orders, every push delivered to both: on PostgreSQL
 * the batches can deadlock, and a batch that fails is written again push by push. Whatever happens, every
 * push is stored exactly once, each delivery is answered (applied or duplicate), and each merchant ends
 * with a last audit one of its pushes carried.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { PushService, type PushResult } from '../../src/fleet/push-service.ts';
import type { OpenedPush } from '../../src/kuaishou/index.ts';
import { silentLogger } from '../../src/kuaishou/logger.ts';
import type { SqlStore } from '../../src/store/index.ts';
import { dialectTargets } from '../store/dialects.ts';

const MERCHANTS = 12;
const PUSHES = 96;

for (const dialect of dialectTargets()) {
  describe(`push group commit from two instances on ${dialect.name}`, { skip: dialect.skip, timeout: 60_000 }, () => {
    const stores: SqlStore[] = [];
    after(async () => {
      for (const store of stores) await store.close();
      await dialect.cleanup();
    });

    test('overlapping batches in opposite orders: every push stored once, every delivery answered', async () => {
      const database = dialect.fresh();
      for (let i = 0; i < 2; i++) stores.push(await dialect.open(database.url));
      const appIds = Array.from({ length: MERCHANTS }, (_, i) => `ks_pair_${String(i).padStart(2, '0')}`);
      for (const appId of appIds) await stores[0]!.merchants.upsertAuthorized(appId, [1], 1_000);
      const services = stores.map((store) => new PushService({ store, platform: {} as never, logger: silentLogger, maxBatch: 16 }));
      const pushes: OpenedPush[] = Array.from({ length: PUSHES }, (_, i) => ({
        msgId: `pair-${i}`,
        timestamp: Date.now(),
        componentAppId: 'ks_component',
        event: { type: 'auditResult', appId: appIds[i % MERCHANTS]!, userVersion: `1.0.${i}`, passed: true, eventTime: Date.now() },
      }));
      const reversed = [...pushes].reverse();
      const answers: PushResult[][] = await Promise.all([
        Promise.all(pushes.map((push) => services[0]!.handle('events', push))),
        Promise.all(reversed.map((push) => services[1]!.handle('events', push))),
      ]);
      // Each push: applied by exactly one instance, a duplicate for the other.
      for (let i = 0; i < PUSHES; i++) {
        const pair = [answers[0]![i], answers[1]![PUSHES - 1 - i]].sort();
        assert.deepEqual(pair, ['applied', 'duplicate'], `push ${i}: ${pair.join(', ')}`);
      }
      const { items } = await stores[0]!.pushEvents.list({ limit: 500 });
      assert.equal(items.length, PUSHES);
      for (const [m, appId] of appIds.entries()) {
        const carried = pushes.filter((_, i) => i % MERCHANTS === m).map((push) => (push.event.type === 'auditResult' ? push.event.userVersion : ''));
        const last = (await stores[0]!.merchants.get(appId))?.lastAudit?.userVersion;
        assert.ok(last !== undefined && carried.includes(last), `${appId}: ${last}`);
      }
    });
  });
}
