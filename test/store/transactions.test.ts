import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { SqlStore } from '../../src/store/index.ts';
import { dialectTargets } from './dialects.ts';

for (const target of dialectTargets()) {
  describe(`transactions on ${target.name}`, { skip: target.skip }, () => {
    let store: SqlStore;
    before(async () => {
      store = await target.open(target.fresh().url);
    });
    after(async () => {
      await store.close();
      await target.cleanup();
    });

    test('ping answers', async () => {
      await store.ping();
    });

    test('work sees its own writes; others see them only after commit', async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const running = store.transaction(async (tx) => {
        await tx.merchants.upsertAuthorized('ks_tx', [1], 1);
        assert.ok(await tx.merchants.get('ks_tx'));
        await gate;
        return 'done';
      });
      await sleep(20);
      // SQLite: this read queues behind the transaction's connection; PostgreSQL: another connection reads.
      const outside = store.merchants.get('ks_tx');
      if (store.dialect === 'postgres') assert.equal(await outside, undefined);
      release();
      assert.equal(await running, 'done');
      if (store.dialect === 'sqlite') assert.ok(await outside, 'the queued read ran after the commit');
      assert.ok(await store.merchants.get('ks_tx'));
    });

    test('concurrent transactions do not interleave or deadlock', { skip: target.name === 'postgres' && 'SQLite-only: PostgreSQL runs transactions concurrently, isolated by MVCC' }, async () => {
      // Each one reads a count, yields, then writes a row named after it: interleaving would repeat a name.
      const names = await Promise.all(
        Array.from({ length: 25 }, () =>
          store.transaction(async (tx) => {
            const name = `key-${await tx.apiKeys.count()}`;
            await sleep(1);
            await tx.apiKeys.insert({ id: name, name, role: 'viewer', hash: name, createdAt: 1, lastUsedAt: null, revokedAt: null });
            return name;
          }),
        ),
      );
      assert.equal(new Set(names).size, 25);
      assert.equal(await store.apiKeys.count(), 25);
    });

    test('a failed transaction does not block the next ones', async () => {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          store.transaction(async (tx) => {
            await tx.merchants.upsertAuthorized(`ks_mixed_${i}`, [1], 1);
            if (i % 2 === 0) throw new Error(`fail ${i}`);
          }),
        ),
      );
      assert.deepEqual(outcomes.map((o) => o.status), Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? 'rejected' : 'fulfilled')));
      const stored = (await store.merchants.list({ limit: 50, q: 'ks_mixed_' })).items.map((m) => m.appId);
      assert.deepEqual(stored, ['ks_mixed_1', 'ks_mixed_3', 'ks_mixed_5', 'ks_mixed_7', 'ks_mixed_9']);
    });
  });
}
