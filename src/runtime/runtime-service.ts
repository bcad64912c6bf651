/**
 * The one back end of every merchant's mini-program (docs/runtime.md): sessions from `ks.login` codes on
 * the merchant's behalf, the session's user, phone numbers, subscription messages, and what the provider's
 * business back end asks (introspection, users). No HTTP here: the routes call these methods.
 */
import { PhoneDataError } from '../kuaishou/index.ts';
import { merchantNotAuthorized, RuntimeError, sessionInvalid } from './errors.ts';
import type { ActiveSession, PhoneNumber, RuntimePage, RuntimeUser, RuntimeUserStats } from './model.ts';
import { maskPhone } from './phone-mask.ts';
import { translatePlatformError } from './platform-errors.ts';
import type { MerchantFacts, RuntimePlatform, RuntimeRepository } from './ports.ts';
import { hashSessionToken, isSessionToken, newRuntimeId, newSessionToken } from './session-token.ts';

export const DEFAULT_SESSION_TTL_S = 7 * 24 * 3600;

export interface RuntimeServiceOptions {
  repository: RuntimeRepository;
  platform: RuntimePlatform;
  facts: MerchantFacts;
  /** KS_RUNTIME_SESSION_TTL_S (default 7 days). */
  sessionTtlS?: number;
  now?: () => number;
}

export interface CreatedSession {
  /** Shown once, to the page that logged in. */
  sessionToken: string;
  openId: string;
  expiresAt: number;
}

export interface Me {
  appId: string;
  openId: string;
  merchant: { name: string | null };
  ext: Record<string, unknown>;
  /** Masked (`138****8000`), or null when none is bound. */
  phone: string | null;
}

export type Introspection = { active: false } | { active: true; appId: string; openId: string; expiresAt: number };

export interface MessageInput {
  openId: string;
  templateId: string;
  page?: string;
  data: Record<string, unknown>;
}

export interface UserListItem {
  openId: string;
  firstSeenAt: number;
  lastSeenAt: number;
  hasPhone: boolean;
  phoneBoundAt: number | null;
}

export class RuntimeService {
  readonly sessionTtlS: number;
  private readonly now: () => number;

  constructor(private readonly options: RuntimeServiceOptions) {
    this.sessionTtlS = options.sessionTtlS ?? DEFAULT_SESSION_TTL_S;
    this.now = options.now ?? Date.now;
  }

  // ---- The mini-program's calls -----------------------------------------------------------------------

  /** Exchanges a `ks.login` code of merchant `appId`'s mini-program with THAT merchant's token. */
  async createSession(appId: string, code: string): Promise<CreatedSession> {
    await this.requireAuthorized(appId);
    let exchanged: { openId: string; sessionKey: string };
    try {
      exchanged = await this.options.platform.code2Session(appId, code);
    } catch (error) {
      const translated = translatePlatformError(error, appId);
      if (translated instanceof RuntimeError && translated.details.platformCodeName === 'JS_CODE_INVALID') {
        throw new RuntimeError('unauthenticated', 'code_invalid', 'the login code is not valid for this mini-program (expired, used, or from another one): call ks.login again');
      }
      throw translated;
    }
    const now = this.now();
    const sessionToken = newSessionToken();
    const expiresAt = now + this.sessionTtlS * 1000;
    await this.options.repository.createSession({
      id: newRuntimeId(now),
      tokenHash: hashSessionToken(sessionToken),
      appId,
      openId: exchanged.openId,
      sessionKey: exchanged.sessionKey,
      createdAt: now,
      expiresAt,
    });
    return { sessionToken, openId: exchanged.openId, expiresAt };
  }

  /** The session a presented token opens, with its merchant still authorized; else 401/403. */
  async authenticate(token: string): Promise<ActiveSession> {
    if (!isSessionToken(token)) throw sessionInvalid();
    const tokenHash = hashSessionToken(token);
    const session = await this.options.repository.findActiveSession(tokenHash, this.now());
    if (!session) {
      // Ended by a revocation while the merchant is still revoked: say why, as for its live sessions.
      const ended = await this.options.repository.endedSession(tokenHash);
      if (ended?.reason === 'revoked' && (await this.options.facts.merchant(ended.appId))?.status !== 'authorized') throw merchantNotAuthorized(ended.appId);
      throw sessionInvalid();
    }
    if (session.merchant.status !== 'authorized') throw merchantNotAuthorized(session.appId);
    return session;
  }

  async me(session: ActiveSession): Promise<Me> {
    const [user, ext] = await Promise.all([
      this.options.repository.user(session.appId, session.openId),
      this.options.facts.effectiveExt(session.appId),
    ]);
    return { appId: session.appId, openId: session.openId, merchant: { name: session.merchant.name }, ext, phone: user?.phoneMasked ?? null };
  }

  /** Opens the button's data with the session's key, checks it is this merchant's, binds the number. */
  async bindPhone(session: ActiveSession, sealed: { encryptedData: string; iv: string }): Promise<PhoneNumber> {
    if (!(await this.options.facts.phoneNumberApproved(session.appId))) {
      throw new RuntimeError('not_allowed', 'capability_not_approved', `${session.appId} has no approved phone-number capability`, { capability: 'phone-number' });
    }
    const sessionKey = await this.options.repository.sessionKey(session.id);
    if (sessionKey === undefined) throw sessionInvalid();
    let phone: PhoneNumber;
    try {
      phone = this.options.platform.decryptPhoneNumber(session.appId, sessionKey, sealed);
    } catch (error) {
      if (error instanceof PhoneDataError) throw new RuntimeError('platform_rejected', 'phone_data_invalid', error.message, { problem: error.problem });
      throw error;
    }
    await this.options.repository.bindPhone(session.appId, session.openId, phone, maskPhone(phone.purePhoneNumber), this.now());
    return phone;
  }

  async logout(session: ActiveSession): Promise<void> {
    await this.options.repository.endSession(session.id, this.now(), 'logout');
  }

  // ---- The provider's business back end ---------------------------------------------------------------

  /** RFC 7662's answer: inactive for anything that is not a live session of an authorized merchant. */
  async introspect(token: string): Promise<Introspection> {
    if (!isSessionToken(token)) return { active: false };
    const session = await this.options.repository.findActiveSession(hashSessionToken(token), this.now());
    if (!session || session.merchant.status !== 'authorized') return { active: false };
    return { active: true, appId: session.appId, openId: session.openId, expiresAt: session.expiresAt };
  }

  /** Sends through the platform on the merchant's behalf; only to a user of THIS merchant. Recorded either way. */
  async sendMessage(appId: string, input: MessageInput): Promise<{ messageId: string; sentAt: number }> {
    await this.requireAuthorized(appId);
    await this.requireUser(appId, input.openId);
    const messageId = newRuntimeId(this.now());
    const base = { id: messageId, appId, openId: input.openId, templateId: input.templateId, page: input.page ?? null };
    try {
      await this.options.platform.sendSubscriptionMessage(appId, {
        templateId: input.templateId,
        toOpenId: input.openId,
        data: input.data,
        ...(input.page === undefined ? {} : { page: input.page }),
      });
    } catch (error) {
      const translated = translatePlatformError(error, appId);
      const platformCode = translated instanceof RuntimeError ? translated.details.platformCodeName : undefined;
      const errorCode = typeof platformCode === 'string' ? platformCode : translated instanceof RuntimeError ? translated.code : 'internal';
      await this.options.repository.recordMessage({ ...base, sentAt: this.now(), result: 'failed', errorCode });
      throw translated;
    }
    const sentAt = this.now();
    await this.options.repository.recordMessage({ ...base, sentAt, result: 'sent', errorCode: null });
    return { messageId, sentAt };
  }

  /** A merchant's users for its business back end (authorized merchants only). */
  async users(appId: string, query: { limit: number; cursor?: string }): Promise<RuntimePage<UserListItem>> {
    await this.requireAuthorized(appId);
    return this.userPage(appId, query);
  }

  // ---- Operators (console, CLI): any merchant ks-isv knows ----------------------------------------------

  async userPage(appId: string, query: { limit: number; cursor?: string }): Promise<RuntimePage<UserListItem>> {
    const page = await this.options.repository.listUsers(appId, query);
    return { items: page.items.map(listItem), nextCursor: page.nextCursor };
  }

  stats(appId: string): Promise<RuntimeUserStats> {
    return this.options.repository.userStats(appId, this.now());
  }

  // ---- Housekeeping -----------------------------------------------------------------------------------

  /** The merchant revoked its authorization: its sessions end (and stay ended if it authorizes again). */
  merchantRevoked(appId: string): Promise<number> {
    return this.options.repository.endMerchantSessions(appId, this.now(), 'revoked');
  }

  /** Forgets sessions that ended or expired over a day ago. */
  prune(): Promise<number> {
    return this.options.repository.pruneSessions(this.now() - 24 * 3600 * 1000);
  }

  private async requireAuthorized(appId: string): Promise<void> {
    const merchant = await this.options.facts.merchant(appId);
    if (merchant?.status !== 'authorized') throw merchantNotAuthorized(appId);
  }

  private async requireUser(appId: string, openId: string): Promise<RuntimeUser> {
    const user = await this.options.repository.user(appId, openId);
    if (!user) throw new RuntimeError('not_found', 'user_not_found', `no user ${openId} of ${appId} (a user exists once they logged in)`, { appId, openId });
    return user;
  }
}

function listItem(user: RuntimeUser): UserListItem {
  return { openId: user.openId, firstSeenAt: user.firstSeenAt, lastSeenAt: user.lastSeenAt, hasPhone: user.phoneMasked !== null, phoneBoundAt: user.phoneBoundAt };
}
