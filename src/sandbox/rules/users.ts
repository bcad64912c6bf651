/**
 * The mini-program side of the platform: Kuaishou users, `ks.login` codes, R1 (code2session) and the
 * `getPhoneNumber` button. An openId is stable per (app, user) and differs between apps, as on the real
 * platform; each successful exchange gives the pair a new session_key, which replaces the previous one.
 */
import { createHmac, randomBytes, randomInt } from 'node:crypto';
import { sealPhoneNumber } from '../../kuaishou/phone-number.ts';
import type { EncryptedUserData } from '../../kuaishou/types.ts';
import type { WireCode2SessionAnswer } from '../../kuaishou/wire.ts';
import type { MiniAppRecord, UserRecord, UserSession } from '../model.ts';
import { SandboxError } from '../sandbox-error.ts';
import { own, type SandboxState } from '../state.ts';

export const JS_CODE_TTL_MS = 300_000;
export const MAX_NICKNAME_LENGTH = 32;
const PHONE = /^1\d{10}$/;

/** A refusal of the mini-program side, answered by the control API with the ks API's `errMsg`. */
export class MiniProgramError extends Error {
  override name = 'MiniProgramError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly errMsg: string,
  ) {
    super(message);
  }
}

export function createUser(state: SandboxState, input: { nickname?: unknown; phoneNumber?: unknown }): UserRecord {
  const nickname = typeof input.nickname === 'string' ? input.nickname.trim() : '';
  const length = [...nickname].length;
  if (length < 1 || length > MAX_NICKNAME_LENGTH) throw new SandboxError('INVALID_PARAMS', `nickname must be 1–${MAX_NICKNAME_LENGTH} characters`, 400);
  if (input.phoneNumber !== undefined && (typeof input.phoneNumber !== 'string' || !PHONE.test(input.phoneNumber))) {
    throw new SandboxError('INVALID_PARAMS', 'phoneNumber must be 11 digits starting with 1', 400);
  }
  const data = state.data.users;
  const userId = `u${String(++data.serial).padStart(6, '0')}`;
  const phoneNumber = typeof input.phoneNumber === 'string' ? input.phoneNumber : `138${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;
  const user: UserRecord = { userId, nickname, phoneNumber, createdAt: Date.now() };
  data.users[userId] = user;
  state.changed();
  return user;
}

export function requireUser(state: SandboxState, userId: unknown): UserRecord {
  if (typeof userId !== 'string' || userId === '') throw new SandboxError('INVALID_PARAMS', 'userId (string) is required', 400);
  const user = own(state.data.users.users, userId);
  if (!user) throw new SandboxError('INVALID_PARAMS', `unknown user ${userId}`, 404);
  return user;
}

/** The user's openId in this app: a keyed hash, so the same user has another openId in every app. */
export function openIdFor(state: SandboxState, appId: string, userId: string): string {
  return createHmac('sha256', state.data.users.openIdKey).update(`${appId}\n${userId}`).digest('hex').slice(0, 32);
}

/** `ks.login`: a code for this app and this user, valid `ttlMs`, single use. */
export function issueJsCode(state: SandboxState, app: MiniAppRecord, user: UserRecord, ttlMs = JS_CODE_TTL_MS): { code: string; expiresInS: number } {
  const code = randomBytes(16).toString('hex');
  state.data.users.jsCodes[code] = { appId: app.appId, userId: user.userId, expiresAt: Date.now() + ttlMs };
  state.changed();
  return { code, expiresInS: Math.ceil(ttlMs / 1000) };
}

/**
 * R1 for `app` (the token's): an unknown, expired or used code, or one of another app, is refused and
 * changes nothing (a code of another app stays valid for its own). Success spends the code and replaces the
 * pair's session_key.
 */
export function exchangeJsCode(state: SandboxState, app: MiniAppRecord, code: string | undefined): WireCode2SessionAnswer {
  if (!code) throw new SandboxError('INVALID_PARAMS', 'js_code is required');
  const { jsCodes, users, sessions } = state.data.users;
  const grant = own(jsCodes, code);
  if (!grant || grant.expiresAt <= Date.now() || grant.appId !== app.appId) throw new SandboxError('JS_CODE_INVALID');
  delete jsCodes[code];
  const user = own(users, grant.userId);
  if (!user) throw new SandboxError('JS_CODE_INVALID');
  const openId = openIdFor(state, app.appId, user.userId);
  const session: UserSession = { userId: user.userId, sessionKey: randomBytes(16).toString('base64'), issuedAt: Date.now() };
  (sessions[app.appId] ??= {})[openId] = session;
  state.changed();
  return { open_id: openId, session_key: session.sessionKey };
}

/** The session of `userId` on `appId`, if they ever exchanged a code there. */
export function currentSession(state: SandboxState, appId: string, userId: string): (UserSession & { openId: string }) | undefined {
  const openId = openIdFor(state, appId, userId);
  const byOpenId = own(state.data.users.sessions, appId);
  const session = byOpenId && own(byOpenId, openId);
  return session && { ...session, openId };
}

/** The user behind an openId of `appId`: only users who exchanged a code on this very app. */
export function userByOpenId(state: SandboxState, appId: string, openId: string): UserRecord | undefined {
  const byOpenId = own(state.data.users.sessions, appId);
  const session = byOpenId && own(byOpenId, openId);
  return session && own(state.data.users.users, session.userId);
}

/** The `getPhoneNumber` button: the number sealed with the user's current session_key for this app. */
export function phoneNumberButton(state: SandboxState, app: MiniAppRecord, user: UserRecord): EncryptedUserData {
  if (app.capabilities.PHONE_NUMBER?.status !== 'APPROVED') {
    throw new MiniProgramError(403, 'no_permission', `${app.appId} has no approved PHONE_NUMBER capability`, 'getPhoneNumber:fail no permission');
  }
  const session = currentSession(state, app.appId, user.userId);
  if (!session) {
    throw new MiniProgramError(409, 'session_not_found', `${user.userId} has no session on ${app.appId}: exchange a login code first`, 'getPhoneNumber:fail session not found, login first');
  }
  const phone = { phoneNumber: user.phoneNumber, purePhoneNumber: user.phoneNumber, countryCode: '86' };
  return sealPhoneNumber({ appId: app.appId, sessionKey: session.sessionKey, phone });
}

/** Drops expired login codes (the prune timer's share for the mini-program side). */
export function pruneJsCodes(state: SandboxState, now = Date.now()): number {
  let pruned = 0;
  const { jsCodes } = state.data.users;
  for (const [code, grant] of Object.entries(jsCodes)) {
    if (grant.expiresAt <= now) {
      delete jsCodes[code];
      pruned++;
    }
  }
  if (pruned > 0) state.changed();
  return pruned;
}
