import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FleetError } from '../../src/fleet/errors.ts';
import type { SqlStore } from '../../src/store/index.ts';
import { encodeCursor } from '../../src/store/paging.ts';
import { dialectTargets } from './dialects.ts';

const T0 = 1_800_000_000_000;
const BIG_TEMPLATE = 4_000_000_001; // past 2^31

for (const dialect of dialectTargets()) {
  describe(`templates and ext on ${dialect.name}`, { skip: dialect.skip }, () => {
    let store: SqlStore;

    before(async () => {
      store = await dialect.open(dialect.fresh().url);
    });

    after(async () => {
      await store?.close();
      await dialect.cleanup();
    });

    test('a sync replaces the stored library: new ones added, changed ones updated, missing ones hidden until they return', async () => {
      const a = { templateId: 1, userVersion: '1.0.0', userDesc: 'a', createdAt: T0 };
      const b = { templateId: BIG_TEMPLATE, userVersion: '2.0.0', userDesc: '团购', createdAt: T0 + 1 };
      assert.deepEqual(await store.templates.replaceAll([b, a], T0 + 10), [
        { ...a, syncedAt: T0 + 10 },
        { ...b, syncedAt: T0 + 10 },
      ]);
      const changed = { ...a, userVersion: '1.0.1' };
      assert.deepEqual(await store.templates.replaceAll([changed], T0 + 20), [{ ...changed, syncedAt: T0 + 20 }]);
      assert.equal(await store.templates.get(BIG_TEMPLATE), undefined, 'gone from the platform: not listed');
      assert.deepEqual(await store.templates.get(1), { ...changed, syncedAt: T0 + 20 });
      assert.deepEqual((await store.templates.replaceAll([changed, b], T0 + 30)).map((t) => t.templateId), [1, BIG_TEMPLATE]);
      assert.deepEqual(await store.templates.replaceAll([], T0 + 40), []);
    });

    test('ext documents: version 0 until written, then a compare-and-set on the version, each version in the history', async () => {
      assert.deepEqual(await store.ext.get(7, null), { document: {}, appConfig: {}, version: 0, updatedAt: null, updatedBy: null });
      const defaults = { theme: { color: 'red' }, list: [1, 2], 名字: '店' };
      const first = await store.ext.save({ templateId: 7, appId: null, document: defaults, baseVersion: 0, actorKeyId: 'k1', at: T0 });
      assert.deepEqual(first, { document: defaults, appConfig: {}, version: 1, updatedAt: T0, updatedBy: 'k1' });
      assert.deepEqual(await store.ext.get(7, null), first);
      assert.equal(await store.ext.save({ templateId: 7, appId: null, document: {}, baseVersion: 0, actorKeyId: 'k2', at: T0 + 1 }), undefined, 'a second first write');
      assert.equal(await store.ext.save({ templateId: 7, appId: null, document: {}, baseVersion: 2, actorKeyId: 'k2', at: T0 + 1 }), undefined, 'a version from the future');
      const second = await store.ext.save({ templateId: 7, appId: null, document: { theme: 'dark' }, baseVersion: 1, actorKeyId: null, at: T0 + 2 });
      assert.equal(second?.version, 2);
      assert.equal(await store.ext.save({ templateId: 7, appId: null, document: {}, baseVersion: 1, actorKeyId: 'k3', at: T0 + 3 }), undefined, 'stale');
      assert.deepEqual((await store.ext.get(7, null)).document, { theme: 'dark' });

      // A merchant's overrides are their own document, versioned separately, per template.
      const overrides = await store.ext.save({ templateId: 7, appId: 'ks1', document: { shopId: 's1' }, baseVersion: 0, actorKeyId: 'k1', at: T0 + 4 });
      assert.equal(overrides?.version, 1);
      assert.deepEqual(await store.ext.get(8, 'ks1'), { document: {}, appConfig: {}, version: 0, updatedAt: null, updatedBy: null });
      assert.deepEqual(await store.ext.get(7, 'ks2'), { document: {}, appConfig: {}, version: 0, updatedAt: null, updatedBy: null });

      const history = await store.ext.history({ templateId: 7, appId: null, limit: 10 });
      assert.deepEqual(history.items.map((h) => [h.version, h.document, h.actorKeyId, h.at, h.appId]), [
        [2, { theme: 'dark' }, null, T0 + 2, null],
        [1, defaults, 'k1', T0, null],
      ]);
      assert.equal(history.nextCursor, null);
      assert.deepEqual((await store.ext.history({ templateId: 7, appId: 'ks1', limit: 10 })).items.map((h) => [h.appId, h.version]), [['ks1', 1]]);
    });

    test('an app config is stored beside its document and in the history; a version without one reads as {}', async () => {
      const appConfig = { pages: ['pages/index/index'], window: { navigationBarTitleText: '店' }, networkTimeout: null };
      const saved = await store.ext.save({ templateId: 12, appId: 'ks12', document: { shopId: 's' }, appConfig, baseVersion: 0, actorKeyId: null, at: T0 });
      assert.deepEqual(saved?.appConfig, appConfig);
      assert.deepEqual((await store.ext.get(12, 'ks12')).appConfig, appConfig);
      // The next version drops it (stored as null, as every row written before app configs existed): read as {}.
      await store.ext.save({ templateId: 12, appId: 'ks12', document: { shopId: 's' }, appConfig: {}, baseVersion: 1, actorKeyId: null, at: T0 + 1 });
      assert.deepEqual((await store.ext.get(12, 'ks12')).appConfig, {});
      assert.deepEqual((await store.ext.get(12, 'ks12')).document, { shopId: 's' });
      assert.deepEqual((await store.ext.history({ templateId: 12, appId: 'ks12', limit: 10 })).items.map((h) => h.appConfig), [{}, appConfig]);
    });

    test('concurrent writes of the same version: exactly one wins', async () => {
      const writes = Array.from({ length: 6 }, (_, i) => store.ext.save({ templateId: 9, appId: 'ks9', document: { writer: i }, baseVersion: 0, actorKeyId: null, at: T0 + i }));
      const results = await Promise.all(writes);
      assert.equal(results.filter(Boolean).length, 1);
      const next = await Promise.all(Array.from({ length: 6 }, (_, i) => store.ext.save({ templateId: 9, appId: 'ks9', document: { next: i }, baseVersion: 1, actorKeyId: null, at: T0 + 10 + i })));
      assert.equal(next.filter(Boolean).length, 1);
      assert.deepEqual((await store.ext.history({ templateId: 9, appId: 'ks9', limit: 10 })).items.map((h) => h.version), [2, 1]);
    });

    test('history pages newest first with a cursor, without gaps or repeats', async () => {
      for (let version = 0; version < 7; version++) {
        assert.ok(await store.ext.save({ templateId: 11, appId: 'ks11', document: { n: version + 1 }, baseVersion: version, actorKeyId: null, at: T0 + version }));
      }
      const seen: number[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 10; page++) {
        const answer = await store.ext.history({ templateId: 11, appId: 'ks11', limit: 3, ...(cursor ? { cursor } : {}) });
        seen.push(...answer.items.map((h) => h.version));
        assert.ok(answer.items.length <= 3);
        if (!answer.nextCursor) break;
        cursor = answer.nextCursor;
      }
      assert.deepEqual(seen, [7, 6, 5, 4, 3, 2, 1]);
      for (const bad of ['zzz', encodeCursor(['x']), encodeCursor([0]), encodeCursor([1, 2])]) {
        await assert.rejects(store.ext.history({ templateId: 11, appId: 'ks11', limit: 3, cursor: bad }), (error: unknown) => error instanceof FleetError && error.code === 'invalid_cursor');
      }
    });
  });
}
