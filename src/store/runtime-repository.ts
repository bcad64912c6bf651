/**
 * The runtime's records (docs/runtime.md, migration 0009): sessions, users, subscription message sends.
 * Secrets are sealed with the store's SecretBox, each under a context naming its row, so a sealed value
 * copied into another row does not open: a session's key under `runtime-session:<id>`, a user's phone number
 * (JSON of the `PhoneNumber`) under `runtime-phone:<appId>:<openId>`.
 */
import { sql, type Kysely } from 'kysely';
import { FleetError } from '../fleet/errors.ts';
import { RuntimeError } from '../runtime/errors.ts';
import type { ActiveSession, PhoneNumber, RuntimeMessageRecord, RuntimePage, RuntimeUser, RuntimeUserStats, SessionEndReason } from '../runtime/model.ts';
import type { NewSession, RuntimeRepository } from '../runtime/ports.ts';
import type { DialectName } from './database.ts';
import { decodeKeyCursor, toPage } from './paging.ts';
import type { RuntimeUsersTable, Schema } from './schema.ts';
import type { SecretBox } from './secret-box.ts';
import type { Transact } from './transact.ts';

/** The largest page `listUsers` returns, whatever the caller asks for. */
export const MAX_USERS_PAGE = 200;

const USER_COLUMNS = ['app_id', 'open_id', 'first_seen_at', 'last_seen_at', 'phone_masked', 'phone_bound_at'] as const;

type UserRow = Pick<RuntimeUsersTable, (typeof USER_COLUMNS)[number]>;

const sessionKeyContext = (sessionId: string): string => `runtime-session:${sessionId}`;
const phoneContext = (appId: string, openId: string): string => `runtime-phone:${appId}:${openId}`;

export class SqlRuntimeRepository implements RuntimeRepository {
  constructor(
    private readonly db: Kysely<Schema>,
    private readonly dialect: DialectName,
    private readonly box: SecretBox,
    private readonly transact: Transact,
  ) {}

  /**
   * PostgreSQL: ONE statement (the session insert a data-modifying CTE, the user upsert fed from what it
   * returned). SQLite: both statements in one transaction. Either way a failed session insert (e.g. a token
   * hash already stored) leaves the user untouched.
   */
  async createSession(session: NewSession): Promise<void> {
    const row = {
      id: session.id,
      token_hash: session.tokenHash,
      app_id: session.appId,
      open_id: session.openId,
      session_key: this.box.seal(session.sessionKey, sessionKeyContext(session.id)),
      created_at: session.createdAt,
      expires_at: session.expiresAt,
      ended_at: null,
      ended_reason: null,
    };
    if (this.dialect === 'postgres') {
      await this.db
        .with('inserted', (db) => db.insertInto('runtime_sessions').values(row).returning(['app_id', 'open_id', 'created_at']))
        .insertInto('runtime_users')
        .columns(['app_id', 'open_id', 'first_seen_at', 'last_seen_at'])
        .expression((eb) => eb.selectFrom('inserted').select(['app_id', 'open_id', 'created_at as first_seen_at', 'created_at as last_seen_at']))
        .onConflict((oc) => oc.columns(['app_id', 'open_id']).doUpdateSet({ last_seen_at: (eb) => eb.ref('excluded.last_seen_at') }))
        .execute();
      return;
    }
    await this.transact(async (db) => {
      await db.insertInto('runtime_sessions').values(row).execute();
      await db
        .insertInto('runtime_users')
        .values({ app_id: session.appId, open_id: session.openId, first_seen_at: session.createdAt, last_seen_at: session.createdAt })
        .onConflict((oc) => oc.columns(['app_id', 'open_id']).doUpdateSet({ last_seen_at: (eb) => eb.ref('excluded.last_seen_at') }))
        .execute();
    });
  }

  /** The hot path (every session use, introspection): one indexed select, nothing opened. */
  async findActiveSession(tokenHash: string, now: number): Promise<ActiveSession | undefined> {
    const row = await this.db
      .selectFrom('runtime_sessions as s')
      .leftJoin('merchants as m', 'm.app_id', 's.app_id')
      .select(['s.id', 's.app_id', 's.open_id', 's.created_at', 's.expires_at', 'm.status', 'm.name'])
      .where('s.token_hash', '=', tokenHash)
      .where('s.ended_at', 'is', null)
      .where('s.expires_at', '>', now)
      .executeTakeFirst();
    if (!row) return undefined;
    const status = row.status === 'authorized' || row.status === 'revoked' ? row.status : 'unknown';
    return {
      id: row.id,
      appId: row.app_id,
      openId: row.open_id,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      merchant: { status, name: row.name ?? null },
    };
  }

  async endedSession(tokenHash: string): Promise<{ appId: string; reason: SessionEndReason } | undefined> {
    const row = await this.db.selectFrom('runtime_sessions').select(['app_id', 'ended_reason']).where('token_hash', '=', tokenHash).executeTakeFirst();
    return row && (row.ended_reason === 'logout' || row.ended_reason === 'revoked') ? { appId: row.app_id, reason: row.ended_reason } : undefined;
  }

  async sessionKey(sessionId: string): Promise<string | undefined> {
    const row = await this.db.selectFrom('runtime_sessions').select('session_key').where('id', '=', sessionId).executeTakeFirst();
    return row && this.box.open(row.session_key, sessionKeyContext(sessionId));
  }

  async endSession(sessionId: string, at: number, reason: SessionEndReason): Promise<boolean> {
    const result = await this.db
      .updateTable('runtime_sessions')
      .set({ ended_at: at, ended_reason: reason })
      .where('id', '=', sessionId)
      .where('ended_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Over the (app_id, ended_at) index. */
  async endMerchantSessions(appId: string, at: number, reason: SessionEndReason): Promise<number> {
    const result = await this.db
      .updateTable('runtime_sessions')
      .set({ ended_at: at, ended_reason: reason })
      .where('app_id', '=', appId)
      .where('ended_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** One upsert: a user row missing (it should not be) is created, first and last seen at `at`. */
  async bindPhone(appId: string, openId: string, phone: PhoneNumber, masked: string, at: number): Promise<void> {
    const sealed = this.box.seal(JSON.stringify({ phoneNumber: phone.phoneNumber, purePhoneNumber: phone.purePhoneNumber, countryCode: phone.countryCode }), phoneContext(appId, openId));
    await this.db
      .insertInto('runtime_users')
      .values({ app_id: appId, open_id: openId, first_seen_at: at, last_seen_at: at, phone: sealed, phone_masked: masked, phone_bound_at: at })
      .onConflict((oc) =>
        oc.columns(['app_id', 'open_id']).doUpdateSet({
          phone: (eb) => eb.ref('excluded.phone'),
          phone_masked: (eb) => eb.ref('excluded.phone_masked'),
          phone_bound_at: (eb) => eb.ref('excluded.phone_bound_at'),
        }),
      )
      .execute();
  }

  /**
   * The user's bound phone number, opened; undefined when the user is unknown or has none. Not in the
   * runtime's port (no route reads the number back after binding it); for tests and operators' tools.
   */
  async phone(appId: string, openId: string): Promise<PhoneNumber | undefined> {
    const row = await this.db.selectFrom('runtime_users').select('phone').where('app_id', '=', appId).where('open_id', '=', openId).executeTakeFirst();
    if (!row || row.phone === null) return undefined;
    return JSON.parse(this.box.open(row.phone, phoneContext(appId, openId))) as PhoneNumber;
  }

  async user(appId: string, openId: string): Promise<RuntimeUser | undefined> {
    const row = await this.db.selectFrom('runtime_users').select(USER_COLUMNS).where('app_id', '=', appId).where('open_id', '=', openId).executeTakeFirst();
    return row && toUser(row);
  }

  /**
   * Keyset pages over the primary key (app_id, open_id), openId ascending (bytewise on both dialects).
   * `limit` is clamped to 1..200. The cursor follows the store's house style (`paging.ts`): opaque,
   * base64url JSON of `[lastOpenId]`; a cursor that is not one is a RuntimeError `invalid_cursor`.
   */
  async listUsers(appId: string, query: { limit: number; cursor?: string }): Promise<RuntimePage<RuntimeUser>> {
    const limit = Math.min(MAX_USERS_PAGE, Math.max(1, Math.floor(Number.isFinite(query.limit) ? query.limit : MAX_USERS_PAGE)));
    let select = this.db.selectFrom('runtime_users').select(USER_COLUMNS).where('app_id', '=', appId).orderBy('open_id').limit(limit + 1);
    if (query.cursor !== undefined) select = select.where('open_id', '>', decodeUserCursor(query.cursor));
    return toPage(await select.execute(), limit, toUser, (row) => [row.open_id]);
  }

  /** Two aggregate reads: the merchant's users (by the primary key), its sessions (by the app_id index). */
  async userStats(appId: string, now: number): Promise<RuntimeUserStats> {
    const users = await this.db
      .selectFrom('runtime_users')
      .select((eb) => [eb.fn.countAll<number | string>().as('users'), eb.fn.count<number | string>('phone').as('with_phone')])
      .where('app_id', '=', appId)
      .executeTakeFirstOrThrow();
    const sessions = await this.db
      .selectFrom('runtime_sessions')
      .select((eb) => [
        sql<number | string | null>`sum(case when ended_at is null and expires_at > ${now} then 1 else 0 end)`.as('active'),
        eb.fn.max('created_at').as('last_login_at'),
      ])
      .where('app_id', '=', appId)
      .executeTakeFirstOrThrow();
    return {
      users: Number(users.users),
      withPhone: Number(users.with_phone),
      activeSessions: Number(sessions.active ?? 0),
      lastLoginAt: sessions.last_login_at === null ? null : Number(sessions.last_login_at),
    };
  }

  async recordMessage(message: RuntimeMessageRecord): Promise<void> {
    await this.db
      .insertInto('runtime_messages')
      .values({
        id: message.id,
        app_id: message.appId,
        open_id: message.openId,
        template_id: message.templateId,
        page: message.page,
        sent_at: message.sentAt,
        result: message.result,
        error_code: message.errorCode,
      })
      .execute();
  }

  async pruneSessions(before: number): Promise<number> {
    const result = await this.db
      .deleteFrom('runtime_sessions')
      .where((eb) => eb.or([eb('ended_at', '<', before), eb('expires_at', '<', before)]))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}

function toUser(row: UserRow): RuntimeUser {
  return {
    appId: row.app_id,
    openId: row.open_id,
    firstSeenAt: row.first_seen_at,
    lastSeenAt: row.last_seen_at,
    phoneMasked: row.phone_masked,
    phoneBoundAt: row.phone_bound_at,
  };
}

/** The runtime's callers get the runtime's error for a bad cursor (400 `invalid_cursor`), not fleet's. */
function decodeUserCursor(cursor: string): string {
  try {
    return decodeKeyCursor(cursor);
  } catch (error) {
    if (error instanceof FleetError) throw new RuntimeError('invalid_data', 'invalid_cursor', 'the cursor is not one a previous page returned');
    throw error;
  }
}
