import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PushEventRecord } from '../../src/fleet/model.ts';
import type { SqlStore } from '../../src/store/index.ts';
import { dialectTargets } from './dialects.ts';

function pushEvent(msgId: string, receivedAt: number, overrides: Partial<PushEventRecord> = {}): PushEventRecord {
  return {
    msgId,
    channel: 'events',
    eventType: 'audit_result',
    appId: 'ks_app',
    receivedAt,
    outcome: 'applied',
    summary: { userVersion: '1.0.0', passed: true },
    error: null,
    ...overrides,
  };
}

for (const target of dialectTargets()) {
  describe(`push events on ${target.name}`, { skip: target.skip }, () => {
    let store: SqlStore;
    before(async () => {
      store = await target.open(target.fresh().url);
    });
    after(async () => {
      await store.close();
      await target.cleanup();
    });

    test('insert stores once by msgId; a resend returns false', async () => {
      const event = pushEvent('msg-1', 1_000, { channel: 'auth', eventType: 'authorized', error: 'boom', outcome: 'failed', appId: null });
      assert.equal(await store.pushEvents.exists('msg-1'), false);
      assert.equal(await store.pushEvents.insert(event), true);
      assert.equal(await store.pushEvents.insert({ ...event, outcome: 'applied' }), false);
      assert.equal(await store.pushEvents.exists('msg-1'), true);
      const { items } = await store.pushEvents.list({ limit: 10, eventType: 'authorized' });
      assert.deepEqual(items, [event], 'the first one is kept as it was');
    });

    test('a duplicate inside a transaction returns false and the rest of the transaction still commits', async () => {
      await store.transaction(async (tx) => {
        assert.equal(await tx.pushEvents.insert(pushEvent('msg-dup', 2_000)), true);
        await tx.merchants.upsertAuthorized('ks_first', [1], 2_000);
      });
      const result = await store.transaction(async (tx) => {
        const inserted = await tx.pushEvents.insert(pushEvent('msg-dup', 2_001));
        await tx.merchants.upsertAuthorized('ks_after_duplicate', [1], 2_001);
        await tx.auditLog.append({ at: 2_001, actorKeyId: null, actorRole: null, action: 'push.duplicate', appId: 'ks_after_duplicate', summary: {}, result: 'ok', errorCode: null });
        return inserted;
      });
      assert.equal(result, false);
      assert.ok(await store.merchants.get('ks_after_duplicate'), 'the statements after the duplicate committed');
      assert.equal((await store.auditLog.list({ limit: 5, appId: 'ks_after_duplicate' })).items.length, 1);
    });

    test('a transaction that throws leaves nothing behind', async () => {
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.pushEvents.insert(pushEvent('msg-rolled-back', 3_000));
          await tx.merchants.upsertAuthorized('ks_rolled_back', [1], 3_000);
          throw new Error('effect failed');
        }),
        /effect failed/,
      );
      assert.equal(await store.pushEvents.exists('msg-rolled-back'), false);
      assert.equal(await store.merchants.get('ks_rolled_back'), undefined);
      assert.equal(await store.pushEvents.insert(pushEvent('msg-rolled-back', 3_001)), true, 'a redelivery can then be applied');
    });

    test('the same push delivered 20 times at once is applied once', async () => {
      const applied = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.transaction(async (tx) => {
            if (!(await tx.pushEvents.insert(pushEvent('msg-burst', 4_000 + i)))) return false;
            await tx.merchants.upsertAuthorized('ks_burst', [i], 4_000 + i);
            return true;
          }),
        ),
      );
      assert.equal(applied.filter(Boolean).length, 1);
    });

    test('record: the event and its effect in one unit; 20 concurrent deliveries apply the effect once; a resend changes nothing', async () => {
      await store.merchants.upsertAuthorized('ks_recorded', [1], 5_000);
      const audit = { userVersion: '2.0.0', state: 'rejected' as const, reason: 'blurry', at: 5_001 };
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          store.pushEvents.record(pushEvent('msg-record-audit', 5_001 + i, { appId: 'ks_recorded' }), { type: 'lastAudit', appId: 'ks_recorded', audit: { ...audit, at: 5_001 + i }, at: 5_001 + i }),
        ),
      );
      assert.equal(answers.filter(Boolean).length, 1);
      const merchant = await store.merchants.get('ks_recorded');
      const winner = answers.indexOf(true);
      assert.deepEqual(merchant?.lastAudit, { ...audit, at: 5_001 + winner }, 'the effect of the delivery that stored the event, once');
      assert.equal(merchant?.updatedAt, 5_001 + winner);

      const capability = { appId: 'ks_recorded', capability: 'live-mount' as const, status: 'approved' as const, reason: null, updatedAt: 6_000 };
      assert.equal(await store.pushEvents.record(pushEvent('msg-record-cap', 6_000), { type: 'capability', record: capability }), true);
      assert.equal(await store.pushEvents.record(pushEvent('msg-record-cap', 6_001), { type: 'capability', record: { ...capability, status: 'rejected', updatedAt: 6_001 } }), false);
      assert.deepEqual(await store.capabilities.get('ks_recorded', 'live-mount'), capability);
      assert.equal(await store.pushEvents.record(pushEvent('msg-record-none', 6_002)), true);
      assert.equal(await store.pushEvents.record(pushEvent('msg-record-none', 6_003)), false);
      // A last audit for a merchant never stored: the event is kept, no merchant appears.
      assert.equal(await store.pushEvents.record(pushEvent('msg-record-stranger', 6_004), { type: 'lastAudit', appId: 'ks_stranger', audit, at: 6_004 }), true);
      assert.equal(await store.merchants.get('ks_stranger'), undefined);
    });

    test('list: newest first, paged without duplicates or gaps across equal receipt times, filtered by type', async () => {
      const fresh = await target.open(target.fresh().url);
      try {
        const expected: string[] = [];
        for (let i = 0; i < 45; i++) {
          const event = pushEvent(`m-${String(i).padStart(2, '0')}`, 100_000 + Math.floor(i / 4), { eventType: i % 5 === 0 ? 'capability_result' : 'audit_result' });
          await fresh.pushEvents.insert(event);
          expected.push(event.msgId);
        }
        const newestFirst = [...expected].sort((a, b) => (a < b ? 1 : -1)); // same order: time then msgId, both rising with i
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await fresh.pushEvents.list({ limit: 6, ...(cursor !== undefined && { cursor }) });
          seen.push(...page.items.map((e) => e.msgId));
          cursor = page.nextCursor ?? undefined;
        } while (cursor !== undefined);
        assert.deepEqual(seen, newestFirst);

        const capability = await fresh.pushEvents.list({ limit: 100, eventType: 'capability_result' });
        assert.deepEqual(capability.items.map((e) => e.msgId), newestFirst.filter((id) => Number(id.slice(2)) % 5 === 0));
        assert.equal(capability.nextCursor, null);
      } finally {
        await fresh.close();
      }
    });
  });
}
