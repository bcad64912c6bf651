import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, describe, test } from 'node:test';
import { MemoryTokenStore } from '../../src/kuaishou/tokens/memory-token-store.ts';
import type { StoredCredential, TokenStore } from '../../src/kuaishou/tokens/token-store.ts';
import { SecretBox, SecretBoxError, SqlTokenStore, type SqlStore } from '../../src/store/index.ts';
import { dialectTargets } from './dialects.ts';

const A: StoredCredential = { value: 'token-A', expiresAt: 1_000, refreshToken: 'refresh-A', refreshExpiresAt: 9_000, meta: { permissions: [1, 2] } };
const B: StoredCredential = { value: 'token-B', expiresAt: 2_000 };
const C: StoredCredential = { value: 'token-C', expiresAt: 0, refreshToken: 'refresh-C' };

/** The same script against any TokenStore; the trace is what must not differ between implementations. */
async function casScript(store: TokenStore, key: string): Promise<unknown[]> {
  return [
    await store.get(key),
    await store.compareAndSet(key, undefined, undefined), // absent, expected absent: true
    await store.compareAndSet(key, undefined, A), // insert if absent
    await store.compareAndSet(key, undefined, B), // present: refused
    await store.compareAndSet(key, undefined, undefined), // present: refused
    await store.get(key),
    await store.compareAndSet(key, 'token-X', B), // wrong expectation
    await store.compareAndSet(key, 'token-A', B), // replace if equal
    await store.compareAndSet(key, 'token-A', C), // stale expectation loses
    await store.get(key),
    await store.compareAndSet(key, 'token-B', C),
    await store.get(key),
    await store.compareAndSet(key, 'token-X', undefined), // delete refused
    await store.compareAndSet(key, 'token-C', undefined), // delete
    await store.get(key),
    await store.compareAndSet(key, 'token-C', A), // nothing stored: refused
    await store.compareAndSet(key, '', A),
  ];
}

async function leaseScript(store: TokenStore, clock: { now: number }, key: string): Promise<boolean[]> {
  clock.now = 10_000;
  const trace = [
    await store.tryAcquireLease(key, 'a', 1_000), // free: a gets it
    await store.tryAcquireLease(key, 'b', 1_000), // held by a
    await store.tryAcquireLease(key, 'a', 1_000), // same owner re-acquires (until 11_000)
  ];
  await store.releaseLease(key, 'b'); // not b's: ignored
  trace.push(await store.tryAcquireLease(key, 'b', 1_000));
  clock.now = 10_999;
  trace.push(await store.tryAcquireLease(key, 'b', 1_000));
  clock.now = 11_000; // expired exactly now
  trace.push(await store.tryAcquireLease(key, 'b', 1_000), await store.tryAcquireLease(key, 'a', 1_000));
  await store.releaseLease(key, 'b');
  trace.push(await store.tryAcquireLease(key, 'a', 1_000));
  return trace;
}

for (const target of dialectTargets()) {
  describe(`SqlTokenStore on ${target.name}`, { skip: target.skip }, () => {
    const clock = { now: 0 };
    const fresh = target.fresh();
    let stores: SqlStore[] = [];
    const open = async (now?: () => number): Promise<SqlStore> => {
      const store = await target.open(fresh.url, now);
      stores.push(store);
      return store;
    };
    after(async () => {
      await Promise.all(stores.map((s) => s.close()));
      stores = [];
      await target.cleanup();
    });

    test('compare-and-set behaves exactly like MemoryTokenStore', async () => {
      const store = await open();
      const expected = await casScript(new MemoryTokenStore(), 'cas');
      assert.deepEqual(await casScript(store.tokenStore, 'cas'), expected);
      assert.deepEqual(expected.slice(1, 5), [true, true, false, false], 'sanity: the script means what it says');
    });

    test('leases behave exactly like MemoryTokenStore', async () => {
      const store = await open(() => clock.now);
      const expected = await leaseScript(new MemoryTokenStore(() => clock.now), clock, 'lease');
      assert.deepEqual(await leaseScript(store.tokenStore, clock, 'lease'), expected);
      assert.deepEqual(expected, [true, false, true, false, false, true, false, true]);
    });

    test('two stores on one database racing 200 calls: exactly one winner each time', async () => {
      const [first, second] = [await open(), await open()];
      const pick = (i: number): SqlTokenStore => (i % 2 === 0 ? first : second).tokenStore;
      const inserts = await Promise.all(Array.from({ length: 200 }, (_, i) => pick(i).compareAndSet('race:insert', undefined, { value: `v${i}`, expiresAt: i })));
      assert.equal(inserts.filter(Boolean).length, 1);
      const winner = inserts.indexOf(true);
      assert.equal((await second.tokenStore.get('race:insert'))?.value, `v${winner}`);

      const replaces = await Promise.all(Array.from({ length: 200 }, (_, i) => pick(i).compareAndSet('race:insert', `v${winner}`, { value: `w${i}`, expiresAt: i })));
      assert.equal(replaces.filter(Boolean).length, 1);
      assert.equal((await first.tokenStore.get('race:insert'))?.value, `w${replaces.indexOf(true)}`);

      const leases = await Promise.all(Array.from({ length: 200 }, (_, i) => pick(i).tryAcquireLease('race:lease', `owner-${i}`, 60_000)));
      assert.equal(leases.filter(Boolean).length, 1);
    });

    test('tokens are encrypted at rest: neither the access nor the refresh token is in the database', async () => {
      const store = await open();
      const access = `access-${Date.now()}-plaintext-marker`;
      const refresh = `refresh-${Date.now()}-plaintext-marker`;
      assert.ok(await store.tokenStore.compareAndSet('at-rest', undefined, { value: access, expiresAt: 1, refreshToken: refresh, refreshExpiresAt: 2 }));
      assert.equal((await store.tokenStore.get('at-rest'))?.refreshToken, refresh);

      const rows = await rawCredentialRows(store, 'at-rest');
      assert.equal(rows.length, 1);
      const raw = JSON.stringify(rows);
      assert.ok(!raw.includes(access) && !raw.includes(refresh), 'the row holds no plaintext token');
      assert.match(String(rows[0]?.value_enc), /^v1:[\w-]+:[\w-]+:[\w-]+$/);

      if (fresh.sqliteFile) {
        const dir = dirname(fresh.sqliteFile);
        const files = readdirSync(dir).map((name) => readFileSync(join(dir, name)));
        assert.ok(files.length >= 2, 'the database file and its WAL');
        for (const bytes of files) {
          assert.equal(bytes.indexOf(access), -1);
          assert.equal(bytes.indexOf(refresh), -1);
        }
      } else {
        const pgRows = await target.pgQuery(`select * from "${fresh.schema}".credentials where key = $1`, ['at-rest']);
        const pgRaw = JSON.stringify(pgRows);
        assert.ok(pgRaw.includes('v1:') && !pgRaw.includes(access) && !pgRaw.includes(refresh));
      }
    });

    test('a tampered ciphertext, a row copied under another key, or the wrong key: an error that names no secret', async () => {
      const store = await open();
      await store.tokenStore.compareAndSet('tamper', undefined, { value: 'secret-value-1', expiresAt: 1 });
      await store.tokenStore.compareAndSet('copied', undefined, { value: 'secret-value-2', expiresAt: 1 });
      const sealed = String((await rawCredentialRows(store, 'tamper'))[0]?.value_enc);

      const otherKey = new SqlTokenStore(store.database.db, new SecretBox(Buffer.alloc(32, 9)));
      await assert.rejects(otherKey.get('tamper'), (error: unknown) => error instanceof SecretBoxError && !error.message.includes('secret-value'));

      await store.database.db.updateTable('credentials').set({ value_enc: sealed }).where('key', '=', 'copied').execute();
      await assert.rejects(store.tokenStore.get('copied'), SecretBoxError);

      const [version, iv, tag, ciphertext] = sealed.split(':');
      const flipped = Buffer.from(ciphertext ?? '', 'base64url');
      flipped[0] = (flipped[0] ?? 0) ^ 1;
      const tampered = [version, iv, tag, flipped.toString('base64url')].join(':');
      await store.database.db.updateTable('credentials').set({ value_enc: tampered }).where('key', '=', 'tamper').execute();
      await assert.rejects(store.tokenStore.get('tamper'), (error: unknown) => {
        assert.ok(error instanceof SecretBoxError);
        assert.ok(!error.message.includes('secret-value'));
        return true;
      });
    });
  });
}

function rawCredentialRows(store: SqlStore, key: string): Promise<Record<string, unknown>[]> {
  return store.database.db.selectFrom('credentials').selectAll().where('key', '=', key).execute();
}
