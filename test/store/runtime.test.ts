import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { RuntimeError } from '../../src/runtime/errors.ts';
import type { ActiveSession, PhoneNumber, RuntimeUser } from '../../src/runtime/model.ts';
import type { NewSession } from '../../src/runtime/ports.ts';
import { migrateToLatest, migrationNames, SecretBoxError, type SqlStore } from '../../src/store/index.ts';
import * as runtimeMigration from '../../src/store/migrations/2026-12-07-0009-runtime.ts';
import { sortableId } from '../../src/store/sortable-id.ts';
import { dialectTargets } from './dialects.ts';

const T0 = 1_800_000_000_000; // past 2^32: bigint columns on PostgreSQL
const TTL = 604_800_000;

const hashOf = (token: string): string => createHash('sha256').update(token).digest('hex');

interface Made {
  token: string;
  session: NewSession;
}

function newSession(appId: string, openId: string, createdAt: number, sessionKey = `sk-${randomBytes(12).toString('base64')}`): Made {
  const token = `kss_${randomBytes(24).toString('base64url')}`;
  return {
    token,
    session: { id: sortableId(createdAt), tokenHash: hashOf(token), appId, openId, sessionKey, createdAt, expiresAt: createdAt + TTL },
  };
}

const PHONE: PhoneNumber = { phoneNumber: '+8613812348000', purePhoneNumber: '13812348000', countryCode: '86' };

for (const target of dialectTargets()) {
  describe(`runtime repository on ${target.name}`, { skip: target.skip }, () => {
    let store: SqlStore;

    before(async () => {
      store = await target.open(target.fresh().url);
    });
    after(async () => {
      await store?.close();
      await target.cleanup();
    });

    test('a created session is found by its token hash, with its merchant; the user is created then touched', async () => {
      await store.merchants.upsertAuthorized('ks_find', [1], T0 - 1_000);
      await store.merchants.setName('ks_find', '川味 Shop');
      const { token, session } = newSession('ks_find', 'open_1', T0);
      await store.runtime.createSession(session);

      const expected: ActiveSession = {
        id: session.id,
        appId: 'ks_find',
        openId: 'open_1',
        createdAt: T0,
        expiresAt: T0 + TTL,
        merchant: { status: 'authorized', name: '川味 Shop' },
      };
      assert.deepEqual(await store.runtime.findActiveSession(hashOf(token), T0 + 1), expected);
      assert.equal(await store.runtime.findActiveSession(hashOf(`${token}x`), T0 + 1), undefined, 'another hash');
      assert.deepEqual(await store.runtime.user('ks_find', 'open_1'), {
        appId: 'ks_find',
        openId: 'open_1',
        firstSeenAt: T0,
        lastSeenAt: T0,
        phoneMasked: null,
        phoneBoundAt: null,
      } satisfies RuntimeUser);

      // A second login of the same user: first seen stays, last seen moves.
      const again = newSession('ks_find', 'open_1', T0 + 5_000);
      await store.runtime.createSession(again.session);
      assert.deepEqual(await store.runtime.user('ks_find', 'open_1'), {
        appId: 'ks_find',
        openId: 'open_1',
        firstSeenAt: T0,
        lastSeenAt: T0 + 5_000,
        phoneMasked: null,
        phoneBoundAt: null,
      });
      assert.equal((await store.runtime.findActiveSession(hashOf(again.token), T0 + 5_001))?.id, again.session.id);
      assert.equal((await store.runtime.findActiveSession(hashOf(token), T0 + 5_001))?.id, session.id, 'the first session is still active');
      assert.equal(await store.runtime.user('ks_find', 'open_2'), undefined);
      assert.equal(await store.runtime.user('ks_other', 'open_1'), undefined, 'an openId is only looked up under its merchant');
    });

    test('expiry boundary: active while now < expiresAt, not at expiresAt', async () => {
      const { token, session } = newSession('ks_expiry', 'open_e', T0);
      await store.runtime.createSession(session);
      assert.ok(await store.runtime.findActiveSession(hashOf(token), session.expiresAt - 1));
      assert.equal(await store.runtime.findActiveSession(hashOf(token), session.expiresAt), undefined);
      assert.equal(await store.runtime.findActiveSession(hashOf(token), session.expiresAt + 1), undefined);
    });

    test('a duplicate token hash is refused and leaves the user untouched (one unit)', async () => {
      const first = newSession('ks_dup', 'open_d', T0);
      await store.runtime.createSession(first.session);
      const clash = { ...newSession('ks_dup', 'open_d', T0 + 9_000).session, tokenHash: first.session.tokenHash };
      await assert.rejects(store.runtime.createSession(clash));
      assert.equal((await store.runtime.user('ks_dup', 'open_d'))?.lastSeenAt, T0, 'last seen not moved by the failed login');
      const stranger = { ...newSession('ks_dup', 'open_new', T0 + 9_000).session, tokenHash: first.session.tokenHash };
      await assert.rejects(store.runtime.createSession(stranger));
      assert.equal(await store.runtime.user('ks_dup', 'open_new'), undefined, 'no user created by the failed login');
      assert.equal(await store.runtime.sessionKey(clash.id), undefined);
    });

    test('in a store transaction that throws, the session and user roll back', async () => {
      const { token, session } = newSession('ks_tx', 'open_tx', T0);
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.runtime.createSession(session);
          assert.ok(await tx.runtime.findActiveSession(hashOf(token), T0 + 1), 'visible inside the transaction');
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.equal(await store.runtime.findActiveSession(hashOf(token), T0 + 1), undefined);
      assert.equal(await store.runtime.user('ks_tx', 'open_tx'), undefined);
    });

    test('ending a session: once, then it is not found; unknown ids end nothing', async () => {
      const { token, session } = newSession('ks_end', 'open_x', T0);
      await store.runtime.createSession(session);
      assert.equal(await store.runtime.endSession(session.id, T0 + 10, 'logout'), true);
      assert.equal(await store.runtime.endSession(session.id, T0 + 20, 'revoked'), false, 'already ended');
      assert.equal(await store.runtime.endSession('nope', T0 + 20, 'logout'), false);
      assert.equal(await store.runtime.findActiveSession(hashOf(token), T0 + 30), undefined);
      const row = await store.database.db.selectFrom('runtime_sessions').select(['ended_at', 'ended_reason']).where('id', '=', session.id).executeTakeFirstOrThrow();
      assert.deepEqual(row, { ended_at: T0 + 10, ended_reason: 'logout' }, 'the first end stays');
    });

    test("ending a merchant's sessions ends only its open ones and counts them", async () => {
      const made = [newSession('ks_rev', 'u1', T0), newSession('ks_rev', 'u2', T0 + 1), newSession('ks_rev', 'u1', T0 + 2)];
      const other = newSession('ks_rev_other', 'u1', T0);
      for (const { session } of [...made, other]) await store.runtime.createSession(session);
      assert.equal(await store.runtime.endSession(made[2]!.session.id, T0 + 3, 'logout'), true);

      assert.equal(await store.runtime.endMerchantSessions('ks_rev', T0 + 100, 'revoked'), 2);
      assert.equal(await store.runtime.endMerchantSessions('ks_rev', T0 + 200, 'revoked'), 0, 'none left open');
      assert.equal(await store.runtime.endMerchantSessions('ks_nobody', T0 + 200, 'revoked'), 0);
      for (const { token } of made) assert.equal(await store.runtime.findActiveSession(hashOf(token), T0 + 101), undefined);
      assert.ok(await store.runtime.findActiveSession(hashOf(other.token), T0 + 101), "another merchant's session stays");
      const rows = await store.database.db
        .selectFrom('runtime_sessions')
        .select(['id', 'ended_at', 'ended_reason'])
        .where('app_id', '=', 'ks_rev')
        .orderBy('id')
        .execute();
      assert.deepEqual(
        rows.map((r) => [r.ended_at, r.ended_reason]),
        [
          [T0 + 100, 'revoked'],
          [T0 + 100, 'revoked'],
          [T0 + 3, 'logout'],
        ],
      );
    });

    test('the join shows a revoked merchant, and a missing merchant as unknown', async () => {
      await store.merchants.upsertAuthorized('ks_gone', [1], T0 - 1_000);
      await store.merchants.markRevoked('ks_gone', T0 - 500);
      const revoked = newSession('ks_gone', 'u', T0);
      const unknown = newSession('ks_never', 'u', T0);
      await store.runtime.createSession(revoked.session);
      await store.runtime.createSession(unknown.session);
      assert.deepEqual((await store.runtime.findActiveSession(hashOf(revoked.token), T0 + 1))?.merchant, { status: 'revoked', name: null });
      assert.deepEqual((await store.runtime.findActiveSession(hashOf(unknown.token), T0 + 1))?.merchant, { status: 'unknown', name: null });
      // Re-authorized: the same session reads the new status on its next use.
      await store.merchants.upsertAuthorized('ks_gone', [1], T0 + 2);
      assert.equal((await store.runtime.findActiveSession(hashOf(revoked.token), T0 + 3))?.merchant.status, 'authorized');
    });

    test('the session key is sealed at rest, opens by the session id, and does not open in another row', async () => {
      const plainKey = `plain-session-key-${randomBytes(8).toString('hex')}`;
      const a = newSession('ks_seal', 'u_a', T0, plainKey);
      const b = newSession('ks_seal', 'u_b', T0, 'the-other-key');
      await store.runtime.createSession(a.session);
      await store.runtime.createSession(b.session);

      const rows = await store.database.db.selectFrom('runtime_sessions').selectAll().where('app_id', '=', 'ks_seal').execute();
      assert.equal(rows.length, 2);
      const text = JSON.stringify(rows);
      assert.ok(!text.includes(plainKey), 'no plaintext session key in the raw rows');
      assert.ok(!text.includes(a.token), 'no token in the raw rows');
      assert.ok(text.includes(a.session.tokenHash));
      assert.equal(await store.runtime.sessionKey(a.session.id), plainKey);
      assert.equal(await store.runtime.sessionKey(b.session.id), 'the-other-key');
      assert.equal(await store.runtime.sessionKey('nope'), undefined);

      // A's sealed key copied into B's row: authenticated against B's id, it refuses to open.
      const sealedA = await store.database.db.selectFrom('runtime_sessions').select('session_key').where('id', '=', a.session.id).executeTakeFirstOrThrow();
      await store.database.db.updateTable('runtime_sessions').set({ session_key: sealedA.session_key }).where('id', '=', b.session.id).execute();
      await assert.rejects(store.runtime.sessionKey(b.session.id), SecretBoxError);
      assert.equal(await store.runtime.sessionKey(a.session.id), plainKey);
    });

    test('a bound phone is sealed at rest with its masked form beside it, opens for its user only', async () => {
      await store.runtime.createSession(newSession('ks_phone', 'u_p', T0).session);
      await store.runtime.createSession(newSession('ks_phone', 'u_q', T0 + 1).session);
      await store.runtime.bindPhone('ks_phone', 'u_p', PHONE, '138****8000', T0 + 10);

      assert.deepEqual(await store.runtime.user('ks_phone', 'u_p'), {
        appId: 'ks_phone',
        openId: 'u_p',
        firstSeenAt: T0,
        lastSeenAt: T0,
        phoneMasked: '138****8000',
        phoneBoundAt: T0 + 10,
      });
      const rows = await store.database.db.selectFrom('runtime_users').selectAll().where('app_id', '=', 'ks_phone').execute();
      const text = JSON.stringify(rows);
      assert.ok(!text.includes('13812348000') && !text.includes('12348'), 'no plaintext number in the raw rows');
      assert.ok(text.includes('138****8000'));
      assert.deepEqual(await store.runtime.phone('ks_phone', 'u_p'), PHONE);
      assert.equal(await store.runtime.phone('ks_phone', 'u_q'), undefined, 'none bound');
      assert.equal(await store.runtime.phone('ks_phone', 'u_none'), undefined, 'no such user');

      // Replaced by a later bind.
      const next: PhoneNumber = { phoneNumber: '+8613900009999', purePhoneNumber: '13900009999', countryCode: '86' };
      await store.runtime.bindPhone('ks_phone', 'u_p', next, '139****9999', T0 + 20);
      assert.deepEqual(await store.runtime.phone('ks_phone', 'u_p'), next);
      assert.equal((await store.runtime.user('ks_phone', 'u_p'))?.phoneBoundAt, T0 + 20);

      // u_p's sealed number copied to u_q: it is bound to (appId, openId) and refuses to open there.
      const sealed = await store.database.db
        .selectFrom('runtime_users')
        .select('phone')
        .where('app_id', '=', 'ks_phone')
        .where('open_id', '=', 'u_p')
        .executeTakeFirstOrThrow();
      await store.database.db.updateTable('runtime_users').set({ phone: sealed.phone }).where('app_id', '=', 'ks_phone').where('open_id', '=', 'u_q').execute();
      await assert.rejects(store.runtime.phone('ks_phone', 'u_q'), SecretBoxError);
    });

    test('binding a phone for a user with no row creates it', async () => {
      await store.runtime.bindPhone('ks_phone', 'u_orphan', PHONE, '138****8000', T0 + 30);
      assert.deepEqual(await store.runtime.user('ks_phone', 'u_orphan'), {
        appId: 'ks_phone',
        openId: 'u_orphan',
        firstSeenAt: T0 + 30,
        lastSeenAt: T0 + 30,
        phoneMasked: '138****8000',
        phoneBoundAt: T0 + 30,
      });
    });

    test('users paged by openId ascending (bytewise): several pages, no duplicates or gaps, stable while users arrive', async () => {
      const openIds = Array.from({ length: 23 }, (_, i) => `${i % 2 === 0 ? 'O' : 'o'}${randomBytes(6).toString('base64url')}_${i}`);
      for (const [i, openId] of openIds.entries()) await store.runtime.createSession(newSession('ks_page', openId, T0 + i).session);
      await store.runtime.createSession(newSession('ks_page_other', 'o_other', T0).session);
      const sorted = [...openIds].sort(); // code-unit order = bytewise for ASCII

      const seen: string[] = [];
      const pages: number[] = [];
      let cursor: string | undefined;
      let inserted = false;
      do {
        const page = await store.runtime.listUsers('ks_page', { limit: 10, ...(cursor !== undefined && { cursor }) });
        pages.push(page.items.length);
        seen.push(...page.items.map((u) => u.openId));
        assert.ok(page.items.every((u) => u.appId === 'ks_page'));
        cursor = page.nextCursor ?? undefined;
        if (!inserted) {
          // A user arriving before the cursor's position does not shift the next page.
          inserted = true;
          await store.runtime.createSession(newSession('ks_page', '0_early', T0 + 100).session);
        }
      } while (cursor !== undefined);
      assert.deepEqual(pages, [10, 10, 3]);
      assert.deepEqual(seen, sorted);

      // The same listing again (the early user now first) reads the same order.
      const again = await store.runtime.listUsers('ks_page', { limit: 200 });
      assert.deepEqual(again.items.map((u) => u.openId), ['0_early', ...sorted]);
      assert.equal(again.nextCursor, null);
      assert.deepEqual(await store.runtime.listUsers('ks_nobody', { limit: 10 }), { items: [], nextCursor: null });
    });

    test('a users page is capped at 200; a bad cursor is a runtime invalid_cursor', async () => {
      const values = Array.from({ length: 205 }, (_, i) => ({ app_id: 'ks_many', open_id: `u${String(i).padStart(4, '0')}`, first_seen_at: T0, last_seen_at: T0 }));
      await store.database.db.insertInto('runtime_users').values(values).execute();
      const page = await store.runtime.listUsers('ks_many', { limit: 1_000 });
      assert.equal(page.items.length, 200);
      assert.ok(page.nextCursor);
      const rest = await store.runtime.listUsers('ks_many', { limit: 1_000, cursor: page.nextCursor });
      assert.deepEqual(rest.items.map((u) => u.openId), ['u0200', 'u0201', 'u0202', 'u0203', 'u0204']);
      assert.equal(rest.nextCursor, null);
      assert.equal((await store.runtime.listUsers('ks_many', { limit: 0 })).items.length, 1, 'at least one');
      for (const cursor of ['u0100', 'not-a-cursor!', Buffer.from('{"a":1}').toString('base64url')]) {
        await assert.rejects(store.runtime.listUsers('ks_many', { limit: 5, cursor }), (error: unknown) => {
          assert.ok(error instanceof RuntimeError);
          assert.equal(error.type, 'invalid_data');
          assert.equal(error.code, 'invalid_cursor');
          return true;
        });
      }
    });

    test("stats: users, with phone, active sessions (neither ended nor expired), last login", async () => {
      assert.deepEqual(await store.runtime.userStats('ks_stats', T0), { users: 0, withPhone: 0, activeSessions: 0, lastLoginAt: null });
      const s1 = newSession('ks_stats', 'a', T0);
      const s2 = newSession('ks_stats', 'b', T0 + 1_000);
      const s3 = newSession('ks_stats', 'c', T0 + 2_000);
      const short = { ...newSession('ks_stats', 'a', T0 + 3_000).session, expiresAt: T0 + 4_000 };
      for (const session of [s1.session, s2.session, s3.session, short]) await store.runtime.createSession(session);
      await store.runtime.createSession(newSession('ks_stats_other', 'z', T0 + 9_000).session);
      await store.runtime.endSession(s2.session.id, T0 + 1_500, 'logout');
      await store.runtime.bindPhone('ks_stats', 'a', PHONE, '138****8000', T0 + 100);

      assert.deepEqual(await store.runtime.userStats('ks_stats', T0 + 3_500), { users: 3, withPhone: 1, activeSessions: 3, lastLoginAt: T0 + 3_000 });
      assert.deepEqual(await store.runtime.userStats('ks_stats', T0 + 4_000), { users: 3, withPhone: 1, activeSessions: 2, lastLoginAt: T0 + 3_000 }, 'the short one expired');
      assert.equal((await store.runtime.userStats('ks_stats', T0 + TTL + 10_000)).activeSessions, 0);
    });

    test('messages are recorded, without data', async () => {
      const id = sortableId(T0);
      await store.runtime.recordMessage({ id, appId: 'ks_msg', openId: 'u', templateId: 'tpl_1', page: 'pages/order/index?id=1', sentAt: T0, result: 'sent', errorCode: null });
      await store.runtime.recordMessage({ id: sortableId(T0 + 1), appId: 'ks_msg', openId: 'u', templateId: 'tpl_1', page: null, sentAt: T0 + 1, result: 'failed', errorCode: 'template_invalid' });
      const rows = await store.database.db.selectFrom('runtime_messages').selectAll().where('app_id', '=', 'ks_msg').orderBy('sent_at').execute();
      assert.deepEqual(rows, [
        { id, app_id: 'ks_msg', open_id: 'u', template_id: 'tpl_1', page: 'pages/order/index?id=1', sent_at: T0, result: 'sent', error_code: null },
        { id: rows[1]!.id, app_id: 'ks_msg', open_id: 'u', template_id: 'tpl_1', page: null, sent_at: T0 + 1, result: 'failed', error_code: 'template_invalid' },
      ]);
      await assert.rejects(
        store.runtime.recordMessage({ id, appId: 'ks_msg', openId: 'u', templateId: 'tpl_1', page: null, sentAt: T0, result: 'sent', errorCode: null }),
        'the id is the key',
      );
    });

    test('prune deletes sessions ended or expired before the cut, and nothing else', async () => {
      const P = T0 + 50_000_000_000; // beyond every other test's sessions
      await store.runtime.pruneSessions(P); // clears the other tests' sessions: the counts below are this test's
      const endedEarly = newSession('ks_prune', 'u', P + 1_000);
      const endedLate = newSession('ks_prune', 'u', P + 1_000);
      const expired = { ...newSession('ks_prune', 'u', P).session, expiresAt: P + 1_500 };
      const expiresAtCut = { ...newSession('ks_prune', 'u', P).session, expiresAt: P + 2_000 };
      const open = newSession('ks_prune', 'u', P + 1_000);
      for (const session of [endedEarly.session, endedLate.session, expired, expiresAtCut, open.session]) await store.runtime.createSession(session);
      await store.runtime.endSession(endedEarly.session.id, P + 1_200, 'logout');
      await store.runtime.endSession(endedLate.session.id, P + 2_000, 'revoked');

      assert.equal(await store.runtime.pruneSessions(P + 2_000), 2, 'ended before, expired before');
      const left = await store.database.db.selectFrom('runtime_sessions').select('id').where('app_id', '=', 'ks_prune').orderBy('id').execute();
      assert.deepEqual(left.map((r) => r.id).sort(), [endedLate.session.id, expiresAtCut.id, open.session.id].sort());
      assert.equal(await store.runtime.pruneSessions(P + 2_000), 0);
      assert.ok(await store.runtime.findActiveSession(hashOf(open.token), P + 2_001));
      assert.ok(await store.runtime.user('ks_prune', 'u'), 'users stay');
    });
  });

  describe(`migration 0009 on ${target.name}`, { skip: target.skip }, () => {
    const stores: SqlStore[] = [];
    after(async () => {
      await Promise.all(stores.map((s) => s.close()));
      await target.cleanup();
    });

    test('applied to a database at 0008, it keeps the existing rows and adds working runtime tables', async () => {
      const store = await target.open(target.fresh().url);
      stores.push(store);
      const db = store.database.db as unknown as Kysely<unknown>;
      // Back to the schema as it was at 0008 (and the migrator's record of it), with rows written then.
      await runtimeMigration.down(db);
      await sql`delete from kysely_migration where name = ${'2026-12-07-0009-runtime'}`.execute(db);
      await store.merchants.upsertAuthorized('ks_old', [1, 2], T0);
      await store.merchants.setName('ks_old', '老店');
      await store.apiKeys.insert({ id: 'k_old', name: 'old key', role: 'admin', hash: 'h', createdAt: T0, lastUsedAt: null, revokedAt: null });
      await store.ext.save({ templateId: 1, appId: null, document: { theme: 'red' }, baseVersion: 0, actorKeyId: null, at: T0 });
      const before = {
        merchant: await store.merchants.get('ks_old'),
        key: await store.apiKeys.get('k_old'),
        ext: await store.ext.get(1, null),
      };
      // (Not the introspection: on PostgreSQL it lists every schema's tables, other runs' included.)
      await assert.rejects(sql`select 1 from runtime_sessions`.execute(db), 'no runtime tables at 0008');

      assert.deepEqual(await migrateToLatest(store.database), ['2026-12-07-0009-runtime']);
      assert.deepEqual(await migrateToLatest(store.database), []);
      assert.equal(migrationNames.at(-1), '2026-12-07-0009-runtime');
      assert.deepEqual(
        { merchant: await store.merchants.get('ks_old'), key: await store.apiKeys.get('k_old'), ext: await store.ext.get(1, null) },
        before,
      );

      const { token, session } = newSession('ks_old', 'u1', T0 + 1);
      await store.runtime.createSession(session);
      assert.deepEqual((await store.runtime.findActiveSession(hashOf(token), T0 + 2))?.merchant, { status: 'authorized', name: '老店' });
      const tables = (await store.database.db.introspection.getTables())
        .filter((t) => store.dialect === 'sqlite' || t.schema === store.database.schema)
        .map((t) => t.name)
        .filter((name) => name.startsWith('runtime_'))
        .sort();
      assert.deepEqual(tables, ['runtime_messages', 'runtime_sessions', 'runtime_users']);
    });
  });
}
