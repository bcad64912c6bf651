import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { AuditLogEntry } from '../../src/fleet/model.ts';
import type { AuditLogQuery } from '../../src/fleet/ports.ts';
import type { SqlStore } from '../../src/store/index.ts';
import { dialectTargets } from './dialects.ts';

async function listAll(store: SqlStore, query: Omit<AuditLogQuery, 'limit' | 'cursor'>, limit: number): Promise<AuditLogEntry[]> {
  const entries: AuditLogEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.auditLog.list({ ...query, limit, ...(cursor !== undefined && { cursor }) });
    entries.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return entries;
}

for (const target of dialectTargets()) {
  describe(`audit log on ${target.name}`, { skip: target.skip }, () => {
    let store: SqlStore;
    const appended: AuditLogEntry[] = [];
    before(async () => {
      store = await target.open(target.fresh().url);
      // Many entries share a millisecond: their ids must still keep the order they were written in.
      for (let i = 0; i < 50; i++) {
        appended.push(
          await store.auditLog.append({
            at: 1_700_000_000_000 + Math.floor(i / 7),
            actorKeyId: i % 2 === 0 ? 'key_admin' : 'key_operator',
            actorRole: i % 2 === 0 ? 'admin' : 'operator',
            action: i % 3 === 0 ? 'merchant.release' : 'merchant.upload',
            appId: i % 4 === 0 ? 'ks_a' : 'ks_b',
            summary: { step: i, note: '审核' },
            result: i % 5 === 0 ? 'error' : 'ok',
            errorCode: i % 5 === 0 ? 'platform_rejected' : null,
          }),
        );
      }
    });
    after(async () => {
      await store.close();
      await target.cleanup();
    });

    test('append returns the stored entry with a sortable id', () => {
      const ids = appended.map((e) => e.id);
      assert.equal(new Set(ids).size, 50);
      assert.deepEqual(ids, [...ids].sort(), 'ids sort in append order');
      assert.deepEqual(appended[5]?.summary, { step: 5, note: '审核' });
    });

    test('pages newest first with no duplicates or gaps', async () => {
      const all = await listAll(store, {}, 8);
      assert.deepEqual(all, [...appended].reverse());
    });

    test('filters by merchant, actor and action, alone and together, across pages', async () => {
      const expect = (keep: (e: AuditLogEntry) => boolean): AuditLogEntry[] => [...appended].reverse().filter(keep);
      assert.deepEqual(await listAll(store, { appId: 'ks_a' }, 3), expect((e) => e.appId === 'ks_a'));
      assert.deepEqual(await listAll(store, { actor: 'key_operator' }, 4), expect((e) => e.actorKeyId === 'key_operator'));
      assert.deepEqual(await listAll(store, { action: 'merchant.release' }, 5), expect((e) => e.action === 'merchant.release'));
      assert.deepEqual(
        await listAll(store, { appId: 'ks_b', actor: 'key_admin', action: 'merchant.upload' }, 2),
        expect((e) => e.appId === 'ks_b' && e.actorKeyId === 'key_admin' && e.action === 'merchant.upload'),
      );
      assert.deepEqual((await store.auditLog.list({ limit: 10, appId: 'ks_nobody' })).items, []);
    });
  });
}
