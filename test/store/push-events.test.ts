import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { PushEventRecord } from '../../src/fleet/model.ts';
import type { PushEffect } from '../../src/fleet/ports.ts';
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

    /** One push through recordMany: whether it was stored. */
    const recordOne = async (event: PushEventRecord, effect?: PushEffect): Promise<boolean> => (await store.pushEvents.recordMany([{ event, ...(effect && { effect }) }]))[0] === true;

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

    test('recordMany of one push: the event and its effect in one unit; 20 concurrent deliveries apply the effect once; a resend changes nothing', async () => {
      await store.merchants.upsertAuthorized('ks_recorded', [1], 5_000);
      const audit = { userVersion: '2.0.0', state: 'rejected' as const, reason: 'blurry', at: 5_001 };
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          recordOne(pushEvent('msg-record-audit', 5_001 + i, { appId: 'ks_recorded' }), { type: 'lastAudit', appId: 'ks_recorded', audit: { ...audit, at: 5_001 + i }, at: 5_001 + i }),
        ),
      );
      assert.equal(answers.filter(Boolean).length, 1);
      const merchant = await store.merchants.get('ks_recorded');
      const winner = answers.indexOf(true);
      assert.deepEqual(merchant?.lastAudit, { ...audit, at: 5_001 + winner }, 'the effect of the delivery that stored the event, once');
      assert.equal(merchant?.updatedAt, 5_001 + winner);

      const capability = { appId: 'ks_recorded', capability: 'live-mount' as const, status: 'approved' as const, reason: null, updatedAt: 6_000 };
      assert.equal(await recordOne(pushEvent('msg-record-cap', 6_000), { type: 'capability', record: capability }), true);
      assert.equal(await recordOne(pushEvent('msg-record-cap', 6_001), { type: 'capability', record: { ...capability, status: 'rejected', updatedAt: 6_001 } }), false);
      assert.deepEqual(await store.capabilities.get('ks_recorded', 'live-mount'), capability);
      assert.equal(await recordOne(pushEvent('msg-record-none', 6_002)), true);
      assert.equal(await recordOne(pushEvent('msg-record-none', 6_003)), false);
      // A last audit for a merchant never stored: the event is kept, no merchant appears.
      assert.equal(await recordOne(pushEvent('msg-record-stranger', 6_004), { type: 'lastAudit', appId: 'ks_stranger', audit, at: 6_004 }), true);
      assert.equal(await store.merchants.get('ks_stranger'), undefined);
    });

    test('recordMany: one batch stores every new push with its effect, in order; resends and repeats inside the batch answer false', async () => {
      await store.merchants.upsertAuthorized('ks_batch_a', [1], 7_000);
      await store.merchants.upsertAuthorized('ks_batch_b', [1], 7_000);
      assert.equal(await store.pushEvents.insert(pushEvent('msg-batch-old', 7_000)), true);
      const audit = (userVersion: string, at: number) => ({ type: 'lastAudit' as const, appId: 'ks_batch_a', audit: { userVersion, state: 'passed' as const, at }, at });
      const capability = (status: 'approved' | 'rejected', at: number) => ({
        type: 'capability' as const,
        record: { appId: 'ks_batch_b', capability: 'phone-number' as const, status, reason: status === 'rejected' ? 'no' : null, updatedAt: at },
      });
      const answers = await store.pushEvents.recordMany([
        { event: pushEvent('msg-batch-1', 7_001), effect: audit('3.0.0', 7_001) },
        { event: pushEvent('msg-batch-2', 7_002), effect: capability('rejected', 7_002) },
        { event: pushEvent('msg-batch-old', 7_003), effect: audit('9.9.9', 7_003) }, // a resend: no effect
        { event: pushEvent('msg-batch-3', 7_004), effect: audit('3.0.1', 7_004) },
        { event: pushEvent('msg-batch-1', 7_005), effect: audit('8.8.8', 7_005) }, // repeated in the batch
        { event: pushEvent('msg-batch-4', 7_006), effect: capability('approved', 7_006) },
        { event: pushEvent('msg-batch-5', 7_007) },
        { event: pushEvent('msg-batch-6', 7_008), effect: { type: 'lastAudit', appId: 'ks_batch_nobody', audit: { userVersion: '1.0.0', state: 'passed', at: 7_008 }, at: 7_008 } },
      ]);
      assert.deepEqual(answers, [true, true, false, true, false, true, true, true]);
      const a = await store.merchants.get('ks_batch_a');
      assert.deepEqual(a?.lastAudit, { userVersion: '3.0.1', state: 'passed', at: 7_004 }, 'the later of two audit results');
      assert.equal(a?.updatedAt, 7_004);
      assert.deepEqual(await store.capabilities.get('ks_batch_b', 'phone-number'), capability('approved', 7_006).record, 'the later of two capability results');
      assert.equal(await store.merchants.get('ks_batch_nobody'), undefined);
      const { items } = await store.pushEvents.list({ limit: 100 });
      const stored = new Map(items.map((e) => [e.msgId, e]));
      for (const id of ['msg-batch-1', 'msg-batch-2', 'msg-batch-3', 'msg-batch-4', 'msg-batch-5', 'msg-batch-6']) assert.ok(stored.has(id), id);
      assert.equal(stored.get('msg-batch-1')?.receivedAt, 7_001, 'the first of a repeated msgId is the one kept');
      assert.equal(stored.get('msg-batch-old')?.receivedAt, 7_000);
      assert.deepEqual(await store.pushEvents.recordMany([]), []);
    });

    test('recordMany is all or nothing: one push the database refuses stores none of the batch', async () => {
      await store.merchants.upsertAuthorized('ks_batch_atomic', [1], 8_000);
      const refused = { ...pushEvent('msg-atomic-bad', 8_002), outcome: null } as unknown as PushEventRecord; // NOT NULL column
      await assert.rejects(
        store.pushEvents.recordMany([
          { event: pushEvent('msg-atomic-ok', 8_001), effect: { type: 'lastAudit', appId: 'ks_batch_atomic', audit: { userVersion: '4.0.0', state: 'passed', at: 8_001 }, at: 8_001 } },
          { event: refused },
        ]),
      );
      assert.equal(await store.pushEvents.exists('msg-atomic-ok'), false);
      assert.equal(await store.pushEvents.exists('msg-atomic-bad'), false);
      assert.equal((await store.merchants.get('ks_batch_atomic'))?.lastAudit ?? null, null);
      assert.deepEqual(await store.pushEvents.recordMany([{ event: pushEvent('msg-atomic-ok', 8_003) }]), [true], 'a redelivery is then stored');
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
