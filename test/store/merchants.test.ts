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

    test('sorted by name, authorization or update time, either way: keyset pages with ties broken by app id', async () => {
      const names = ['delta', null, 'alpha', 'charlie', 'alpha', null, 'bravo', 'echo'];
      const audits = ['passed', 'rejected', undefined, 'passed', 'auditing', undefined, 'withdrawn', 'passed'] as const;
      for (let i = 0; i < 24; i++) {
        const appId = `ks_sort_${String(i).padStart(2, '0')}`;
        clock = 10_000 + (i % 5); // ties on updatedAt
        await store.merchants.upsertAuthorized(appId, [1], 1_000 + (i % 3) * 10); // ties on authorizedAt
        await store.merchants.setName(appId, names[i % names.length] ?? null);
        const state = audits[i % audits.length];
        if (state) await store.merchants.setLastAudit(appId, { userVersion: i % 2 ? '2.0.0' : '1.0.0', state, at: i });
      }
      const all = (await store.merchants.list({ q: 'ks_sort_', limit: 200 })).items;
      assert.equal(all.length, 24);
      const keyOf: Record<string, (m: Merchant) => string | number> = {
        name: (m) => m.name ?? '',
        authorizedAt: (m) => m.authorizedAt,
        updatedAt: (m) => m.updatedAt,
        appId: (m) => m.appId,
      };
      for (const sort of ['appId', 'name', 'authorizedAt', 'updatedAt'] as const) {
        for (const order of ['asc', 'desc'] as const) {
          const key = keyOf[sort]!;
          const expected = [...all]
            .sort((a, b) => {
              const [x, y] = [key(a), key(b)];
              const byKey = x < y ? -1 : x > y ? 1 : a.appId < b.appId ? -1 : a.appId > b.appId ? 1 : 0;
              return order === 'asc' ? byKey : -byKey;
            })
            .map((m) => m.appId);
          const { ids, pages } = await listAll(store, { q: 'ks_sort_', sort, order }, 5);
          assert.deepEqual(ids, expected, `${sort} ${order}`);
          assert.equal(pages, 5, `${sort} ${order}: 24 merchants in pages of 5`);
        }
      }
    });

    test('filtered by the last audit state (or none) and version', async () => {
      const ids = async (query: Omit<MerchantListQuery, 'limit' | 'cursor'>) => (await listAll(store, { q: 'ks_sort_', ...query }, 4)).ids;
      const passed = await ids({ auditState: 'passed' });
      assert.deepEqual(passed, ['ks_sort_00', 'ks_sort_03', 'ks_sort_07', 'ks_sort_08', 'ks_sort_11', 'ks_sort_15', 'ks_sort_16', 'ks_sort_19', 'ks_sort_23']);
      assert.deepEqual(await ids({ auditState: 'none' }), ['ks_sort_02', 'ks_sort_05', 'ks_sort_10', 'ks_sort_13', 'ks_sort_18', 'ks_sort_21']);
      assert.deepEqual(await ids({ auditState: 'passed', auditVersion: '2.0.0' }), ['ks_sort_03', 'ks_sort_07', 'ks_sort_11', 'ks_sort_15', 'ks_sort_19', 'ks_sort_23']);
      assert.deepEqual(await ids({ auditState: 'passed', auditVersion: '2.0.0', sort: 'name', order: 'desc' }), ['ks_sort_23', 'ks_sort_15', 'ks_sort_07', 'ks_sort_19', 'ks_sort_11', 'ks_sort_03']);
      assert.deepEqual(await ids({ auditVersion: '9.9.9' }), []);
      assert.equal(await store.merchants.count({ q: 'ks_sort_', auditState: 'passed' }), 9);
      assert.equal(await store.merchants.count({ q: 'ks_sort_', auditState: 'none' }), 6);
      assert.equal(await store.merchants.count({ q: 'ks_sort_', auditState: 'passed', auditVersion: '2.0.0' }), 6);
      assert.equal(await store.merchants.count({ q: 'ks_sort_' }), 24);
    });

    test('a cursor of another sort is invalid_data', async () => {
      const byName = await store.merchants.list({ q: 'ks_sort_', sort: 'name', limit: 2 });
      assert.ok(byName.nextCursor);
      await assert.rejects(store.merchants.list({ limit: 2, cursor: byName.nextCursor }), (error: unknown) => error instanceof FleetError && error.type === 'invalid_data');
      await assert.rejects(store.merchants.list({ limit: 2, sort: 'updatedAt', cursor: byName.nextCursor }), (error: unknown) => error instanceof FleetError && error.type === 'invalid_data');
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
