import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ApiKeyRecord } from '../../src/fleet/model.ts';
import type { SqlStore } from '../../src/store/index.ts';
import { dialectTargets } from './dialects.ts';

const ADMIN: ApiKeyRecord = { id: 'key_admin', name: 'bootstrap', role: 'admin', hash: 'a'.repeat(64), createdAt: 1_000, lastUsedAt: null, revokedAt: null };
const VIEWER: ApiKeyRecord = { id: 'key_viewer', name: 'dashboard', role: 'viewer', hash: 'b'.repeat(64), createdAt: 2_000, lastUsedAt: null, revokedAt: null };

for (const target of dialectTargets()) {
  describe(`api keys on ${target.name}`, { skip: target.skip }, () => {
    let store: SqlStore;
    before(async () => {
      store = await target.open(target.fresh().url);
    });
    after(async () => {
      await store.close();
      await target.cleanup();
    });

    test('insert, get, list, touch, revoke, count', async () => {
      assert.equal(await store.apiKeys.count(), 0);
      await store.apiKeys.insert(VIEWER);
      await store.apiKeys.insert(ADMIN);
      await assert.rejects(store.apiKeys.insert(ADMIN), 'ids are unique');
      assert.deepEqual(await store.apiKeys.get('key_admin'), ADMIN);
      assert.equal(await store.apiKeys.get('key_nobody'), undefined);
      assert.deepEqual(await store.apiKeys.list(), [ADMIN, VIEWER]);

      await store.apiKeys.touch('key_viewer', 3_000);
      assert.equal((await store.apiKeys.get('key_viewer'))?.lastUsedAt, 3_000);

      assert.equal(await store.apiKeys.revoke('key_viewer', 4_000), true);
      assert.equal(await store.apiKeys.revoke('key_viewer', 5_000), false, 'already revoked');
      assert.equal(await store.apiKeys.revoke('key_nobody', 5_000), false);
      assert.equal((await store.apiKeys.get('key_viewer'))?.revokedAt, 4_000);
      assert.equal(await store.apiKeys.count(), 2, 'revoked keys still count');
    });
  });
}
