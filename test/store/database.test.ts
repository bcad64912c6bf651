import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import * as initial from '../../src/store/migrations/2026-11-25-0001-initial.ts';
import * as rollouts from '../../src/store/migrations/2026-11-25-0002-rollouts.ts';
import * as templatesExt from '../../src/store/migrations/2026-11-25-0003-templates-ext.ts';
import * as channelsOnboarding from '../../src/store/migrations/2026-11-25-0006-channels-onboarding.ts';
import * as appConfig from '../../src/store/migrations/2026-12-07-0008-app-config.ts';
import * as runtime from '../../src/store/migrations/2026-12-07-0009-runtime.ts';
import { migrateToLatest, migrationNames, openDatabase, openStore, parseDatabaseUrl, type SqlStore } from '../../src/store/index.ts';
import { dialectTargets, TEST_SECRET_KEY } from './dialects.ts';

const TABLES = [
  'api_keys', 'audit_log', 'channel_promotions', 'channels', 'credentials', 'ext_history', 'leases', 'merchant_capabilities', 'merchant_ext', 'merchants',
  'onboarding_policy', 'onboardings', 'push_events', 'rollout_targets', 'rollouts', 'runtime_messages', 'runtime_sessions', 'runtime_users', 'template_ext',
  'templates', 'versions_cache',
];
const ROLLOUT_TABLES = ['rollout_targets', 'rollouts'];
const TEMPLATE_EXT_TABLES = ['ext_history', 'merchant_ext', 'template_ext', 'templates'];
const ONBOARDING_TABLES = ['channel_promotions', 'channels', 'onboarding_policy', 'onboardings'];
const RUNTIME_TABLES = ['runtime_messages', 'runtime_sessions', 'runtime_users'];

describe('DATABASE_URL', () => {
  test('sqlite paths, memory and postgres URLs with a schema', () => {
    assert.deepEqual(parseDatabaseUrl('sqlite:./data/ks-isv.db'), { dialect: 'sqlite', path: './data/ks-isv.db' });
    assert.deepEqual(parseDatabaseUrl('sqlite:///var/lib/ks.db'), { dialect: 'sqlite', path: '/var/lib/ks.db' });
    assert.deepEqual(parseDatabaseUrl('sqlite::memory:'), { dialect: 'sqlite', path: ':memory:' });
    assert.deepEqual(parseDatabaseUrl('postgresql://u:p@db:5432/ks?schema=tenant_1&sslmode=disable'), {
      dialect: 'postgres',
      connectionString: 'postgresql://u:p@db:5432/ks?sslmode=disable',
      schema: 'tenant_1',
    });
    assert.deepEqual(parseDatabaseUrl('postgres://db/ks'), { dialect: 'postgres', connectionString: 'postgres://db/ks' });
  });

  test('a bad URL is an error naming DATABASE_URL, never echoing credentials', async () => {
    for (const url of ['mysql://root:hunter2@db/ks', 'hunter2', 'sqlite:', 'postgres://u:hunter2@db/ks?schema=x;drop']) {
      assert.throws(() => parseDatabaseUrl(url), (error: unknown) => {
        assert.ok(error instanceof Error);
        assert.match(error.message, /DATABASE_URL/);
        assert.doesNotMatch(error.message, /hunter2/);
        return true;
      });
    }
    await assert.rejects(openDatabase('mongodb://x'), /DATABASE_URL/);
  });
});

describe('SQLite specifics', () => {
  const [sqlite] = dialectTargets();
  after(() => sqlite?.cleanup());

  test('creates the parent directory and sets WAL, busy_timeout, foreign_keys, synchronous', async () => {
    assert.ok(sqlite);
    const { url, sqliteFile } = sqlite.fresh();
    const database = await openDatabase(url);
    try {
      assert.ok(sqliteFile && existsSync(sqliteFile));
      const pragma = async (name: string): Promise<unknown> => {
        const { rows } = await sql<Record<string, unknown>>`${sql.raw(`pragma ${name}`)}`.execute(database.db);
        return Object.values(rows[0] ?? {})[0];
      };
      assert.equal(await pragma('journal_mode'), 'wal');
      assert.equal(await pragma('busy_timeout'), 5000);
      assert.equal(await pragma('foreign_keys'), 1);
      assert.equal(await pragma('synchronous'), 1, 'NORMAL');
    } finally {
      await database.close();
    }
  });

  test('sqlite::memory: opens a private, migrated database', async () => {
    const store = await openStore({ url: 'sqlite::memory:', secretKey: TEST_SECRET_KEY });
    await store.ping();
    assert.equal(await store.apiKeys.count(), 0);
    await store.close();
    await store.close(); // idempotent
  });
});

for (const target of dialectTargets()) {
  describe(`migrations on ${target.name}`, { skip: target.skip }, () => {
    const stores: SqlStore[] = [];
    after(async () => {
      await Promise.all(stores.map((s) => s.close()));
      await target.cleanup();
    });

    test('are idempotent: opening twice applies nothing the second time', async () => {
      const { url } = target.fresh();
      const first = await target.open(url);
      stores.push(first);
      assert.deepEqual(await tableNames(first), TABLES);
      assert.deepEqual(await migrateToLatest(first.database), []);
      const second = await target.open(url);
      stores.push(second);
      assert.deepEqual(await migrateToLatest(second.database), []);
      await second.ping();
      assert.equal(second.dialect, target.name);
    });

    test('two instances starting at once on a fresh database both come up', async () => {
      const { url } = target.fresh();
      const opened = await Promise.all([target.open(url), target.open(url), ...(target.name === 'postgres' ? [target.open(url)] : [])]);
      stores.push(...opened);
      for (const store of opened) assert.deepEqual(await tableNames(store), TABLES);
      const applied = await opened[0].database.db.selectFrom(sql.raw<{ name: string }>('kysely_migration').as('m')).select('name').execute();
      assert.deepEqual(applied.map((r) => r.name), [...migrationNames]);
    });

    test('timestamps come back as JS numbers, including ones past 2^32', async () => {
      const { url } = target.fresh();
      const store = await target.open(url);
      stores.push(store);
      const at = 4_102_444_800_000; // 2100-01-01
      await store.apiKeys.insert({ id: 'k1', name: 'n', role: 'admin', hash: 'h', createdAt: at, lastUsedAt: null, revokedAt: null });
      const key = await store.apiKeys.get('k1');
      assert.equal(key?.createdAt, at);
      assert.equal(typeof (await store.apiKeys.count()), 'number');
    });

    test('the frozen migrations go down and up again', async () => {
      const { url } = target.fresh();
      const store = await target.open(url);
      stores.push(store);
      const db = store.database.db as unknown as Kysely<unknown>;
      const without = (...groups: string[][]): string[] => TABLES.filter((t) => !groups.some((group) => group.includes(t)));
      await runtime.down(db);
      assert.deepEqual(await tableNames(store), without(RUNTIME_TABLES));
      await channelsOnboarding.down(db);
      assert.deepEqual(await tableNames(store), without(RUNTIME_TABLES, ONBOARDING_TABLES));
      await templatesExt.down(db);
      assert.deepEqual(await tableNames(store), without(RUNTIME_TABLES, ONBOARDING_TABLES, TEMPLATE_EXT_TABLES));
      await rollouts.down(db);
      assert.deepEqual(await tableNames(store), without(RUNTIME_TABLES, ONBOARDING_TABLES, TEMPLATE_EXT_TABLES, ROLLOUT_TABLES));
      await initial.down(db);
      assert.deepEqual(await tableNames(store), []);
      await initial.up(db);
      await rollouts.up(db);
      await templatesExt.up(db);
      await channelsOnboarding.up(db);
      await runtime.up(db);
      assert.deepEqual(await tableNames(store), TABLES);
    });

    test('ext documents written before the app config migration read as before, with no app config', async () => {
      const { url } = target.fresh();
      const store = await target.open(url);
      stores.push(store);
      const db = store.database.db as unknown as Kysely<unknown>;
      // The schema as it was before 0008, and rows as that version wrote them.
      await appConfig.down(db);
      await sql`insert into template_ext (template_id, ext_json, version, updated_at, updated_by) values (1, ${'{"theme":"red"}'}, 3, 10, 'k1')`.execute(db);
      await sql`insert into merchant_ext (app_id, template_id, overrides_json, version, updated_at, updated_by) values ('ks1', 1, ${'{"shopName":"川味"}'}, 2, 11, null)`.execute(db);
      await sql`insert into ext_history (template_id, app_id, version, document_json, actor_key_id, at) values (1, 'ks1', 2, ${'{"shopName":"川味"}'}, null, 11)`.execute(db);
      await appConfig.up(db);
      assert.deepEqual(await store.ext.get(1, null), { document: { theme: 'red' }, appConfig: {}, version: 3, updatedAt: 10, updatedBy: 'k1' });
      assert.deepEqual(await store.ext.get(1, 'ks1'), { document: { shopName: '川味' }, appConfig: {}, version: 2, updatedAt: 11, updatedBy: null });
      assert.deepEqual((await store.ext.history({ templateId: 1, appId: 'ks1', limit: 5 })).items.map((h) => [h.version, h.document, h.appConfig]), [[2, { shopName: '川味' }, {}]]);
      // And the next write goes on from the stored version.
      assert.equal((await store.ext.save({ templateId: 1, appId: 'ks1', document: { shopName: '川味' }, appConfig: { pages: ['pages/index/index'] }, baseVersion: 2, actorKeyId: null, at: 12 }))?.version, 3);
    });

    if (target.name === 'postgres') {
      test('?schema= keeps every table in that schema', async () => {
        const { url, schema } = target.fresh();
        const store = await target.open(url);
        stores.push(store);
        assert.equal(store.database.schema, schema);
        const rows = await target.pgQuery<{ table_name: string }>(
          `select table_name from information_schema.tables where table_schema = $1 and table_name not like 'kysely%' order by 1`,
          [schema],
        );
        assert.deepEqual(rows.map((r) => r.table_name), TABLES);
      });
    }
  });
}

async function tableNames(store: SqlStore): Promise<string[]> {
  const tables = await store.database.db.introspection.getTables();
  return tables
    .filter((t) => store.dialect === 'sqlite' || t.schema === store.database.schema)
    .map((t) => t.name)
    .filter((name) => !name.startsWith('kysely_'))
    .sort();
}
