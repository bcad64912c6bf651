import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FleetError } from '../../src/fleet/errors.ts';
import type { Merchant } from '../../src/fleet/model.ts';
import type { MerchantListQuery } from '../../src/fleet/ports.ts';
import type { SqlStore } from '../../src/store/index.ts';
import { dialectTargets } from './dialects.ts';

async function listAll(store: SqlStore, query: Omit<MerchantListQuery, 'limit' | 'cursor'>, limit: number): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await store.merchants.list({ ...query, limit, ...(cursor !== undefined && { cursor }) });
    pages += 1;
    assert.ok(page.items.length <= limit);
    ids.push(...page.items.map((m) => m.appId));
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return { ids, pages };
}

for (const target of dialectTargets()) {
  describe(`merchants and capabilities on ${target.name}`, { skip: target.skip }, () => {
    let store: SqlStore;
    let clock = 5_000;
    before(async () => {
      store = await target.open(target.fresh().url, () => clock);
    });
    after(async () => {
      await store.close();
      await target.cleanup();
    });

    test('upsert, revoke, re-authorize, name and last audit', async () => {
      const created = await store.merchants.upsertAuthorized('ks_life', [1, 2], 1_000);
      const expected: Merchant = {
        appId: 'ks_life',
        name: null,
        status: 'authorized',
        permissions: [1, 2],
        authorizedAt: 1_000,
        revokedAt: null,
        createdAt: 1_000,
        updatedAt: 1_000,
        lastAudit: null,
      };
      assert.deepEqual(created, expected);
      assert.deepEqual(await store.merchants.get('ks_life'), expected);

      const revoked = await store.merchants.markRevoked('ks_life', 2_000);
      assert.deepEqual(revoked, { ...expected, status: 'revoked', revokedAt: 2_000, updatedAt: 2_000 });
      assert.equal((await store.merchants.markRevoked('ks_life', 2_500))?.revokedAt, 2_000, 'the first revocation time stays');
      assert.equal(await store.merchants.markRevoked('ks_nobody', 2_000), undefined);

      clock = 2_800;
      await store.merchants.setName('ks_life', '生活 Shop');
      await store.merchants.setLastAudit('ks_life', { userVersion: '1.0.1', state: 'rejected', reason: 'blurry icon', at: 2_700 });
      const again = await store.merchants.upsertAuthorized('ks_life', [1, 2, 3, 4], 3_000);
      assert.deepEqual(again, {
        ...expected,
        name: '生活 Shop',
        permissions: [1, 2, 3, 4],
        authorizedAt: 3_000,
        updatedAt: 3_000,
        lastAudit: { userVersion: '1.0.1', state: 'rejected', reason: 'blurry icon', at: 2_700 },
      });
      await store.merchants.setName('ks_life', null);
      assert.equal((await store.merchants.get('ks_life'))?.name, null);
      assert.equal(await store.merchants.get('ks_nobody'), undefined);
    });

    test('120 merchants paged by app id: no duplicates, no gaps, filters by status and q', async () => {
      const all: string[] = [];
      for (let i = 0; i < 120; i++) {
        const appId = `ks_page_${String(i).padStart(3, '0')}`;
        all.push(appId);
        await store.merchants.upsertAuthorized(appId, [1], 10_000 + i);
        if (i % 3 === 0) await store.merchants.markRevoked(appId, 20_000 + i);
        if (i % 10 === 0) await store.merchants.setName(appId, `Noodle House ${i}`);
      }
      const within = (ids: string[]): string[] => ids.filter((id) => id.startsWith('ks_page_'));

      const everything = await listAll(store, {}, 7);
      assert.deepEqual(within(everything.ids), all);
      assert.equal(new Set(everything.ids).size, everything.ids.length);
      assert.deepEqual(everything.ids, [...everything.ids].sort(), 'ordered by app id');

      const authorized = await listAll(store, { status: 'authorized' }, 9);
      assert.deepEqual(within(authorized.ids), all.filter((_, i) => i % 3 !== 0));
      const revoked = await listAll(store, { status: 'revoked', q: 'KS_PAGE' }, 50);
      assert.deepEqual(revoked.ids, all.filter((_, i) => i % 3 === 0));
      assert.equal(revoked.pages, 1);

      const noodles = await listAll(store, { q: 'noodle house' }, 5);
      assert.deepEqual(noodles.ids, all.filter((_, i) => i % 10 === 0));
      assert.deepEqual((await listAll(store, { q: 'PAGE_11' }, 4)).ids, all.slice(110, 120));

      const page = await store.merchants.list({ limit: 120, q: 'ks_page_' });
      assert.equal(page.items.length, 120);
      assert.equal(page.nextCursor, null, 'an exact last page has no next cursor');
      assert.deepEqual(await store.merchants.authorizedAppIds().then(within), all.filter((_, i) => i % 3 !== 0));
    });

    test('q takes LIKE wildcards literally', async () => {
      await store.merchants.upsertAuthorized('ks_wild_1', [1], 1);
      await store.merchants.setName('ks_wild_1', '100% Beef_Shop');
      await store.merchants.upsertAuthorized('ks_wild_2', [1], 1);
      await store.merchants.setName('ks_wild_2', '1000 BeefXShop');
      await store.merchants.upsertAuthorized('ks_wild_3', [1], 1);
      await store.merchants.setName('ks_wild_3', 'back\\slash');
      const ids = async (q: string): Promise<string[]> => (await store.merchants.list({ q, limit: 200 })).items.map((m) => m.appId);
      assert.deepEqual(await ids('0%'), ['ks_wild_1']);
      assert.deepEqual(await ids('f_s'), ['ks_wild_1']);
      assert.deepEqual(await ids('k\\s'), ['ks_wild_3']);
      assert.deepEqual(await ids('BEEF'), ['ks_wild_1', 'ks_wild_2']);
      assert.deepEqual(await ids('%'), ['ks_wild_1']);
    });

    test('a cursor that no page returned is invalid_data', async () => {
      for (const cursor of ['garbage', Buffer.from('{"a":1}').toString('base64url'), Buffer.from('[1]').toString('base64url')]) {
        await assert.rejects(store.merchants.list({ limit: 5, cursor }), (error: unknown) => error instanceof FleetError && error.type === 'invalid_data');
      }
    });

    test('capabilities: upsert, update, list and get', async () => {
      await store.merchants.upsertAuthorized('ks_cap', [1, 4], 1);
      await store.capabilities.upsert({ appId: 'ks_cap', capability: 'phone-number', status: 'applying', reason: null, updatedAt: 1 });
      await store.capabilities.upsert({ appId: 'ks_cap', capability: 'live-mount', status: 'approved', reason: null, updatedAt: 2 });
      await store.capabilities.upsert({ appId: 'ks_cap', capability: 'phone-number', status: 'rejected', reason: 'no privacy policy', updatedAt: 3 });
      await store.capabilities.upsert({ appId: 'ks_other', capability: 'live-mount', status: 'applying', reason: null, updatedAt: 4 });

      assert.deepEqual(await store.capabilities.list('ks_cap'), [
        { appId: 'ks_cap', capability: 'live-mount', status: 'approved', reason: null, updatedAt: 2 },
        { appId: 'ks_cap', capability: 'phone-number', status: 'rejected', reason: 'no privacy policy', updatedAt: 3 },
      ]);
      assert.deepEqual(await store.capabilities.get('ks_cap', 'phone-number'), {
        appId: 'ks_cap',
        capability: 'phone-number',
        status: 'rejected',
        reason: 'no privacy policy',
        updatedAt: 3,
      });
      assert.equal(await store.capabilities.get('ks_cap', 'publish-kuaishou'), undefined);
      assert.deepEqual(await store.capabilities.list('ks_nobody'), []);
    });
  });
}
