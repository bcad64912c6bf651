/**
 * What the runtime needs from the layers below, as interfaces it owns: `src/store` implements the
 * repository, `src/kuaishou`'s `KuaishouPlatform` the platform (structurally), fleet's records the facts.
 */
import type { ActiveSession, PhoneNumber, RuntimeMessageRecord, RuntimePage, RuntimeUser, RuntimeUserStats, SessionEndReason } from './model.ts';

export interface NewSession {
  id: string;
  /** SHA-256 hex of the session token; the token itself is never stored. */
  tokenHash: string;
  appId: string;
  openId: string;
  /** Sealed by the store (SecretBox, context `runtime-session:<id>`) before it is written. */
  sessionKey: string;
  createdAt: number;
  expiresAt: number;
}

export interface RuntimeRepository {
  /** Inserts the session and creates or touches its user (first/last seen) in one transaction. */
  createSession(session: NewSession): Promise<void>;
  /**
   * The session with this token hash if it is not ended and `expiresAt > now`, joined with its merchant
   * (status `unknown` when the merchant row is missing). One statement.
   */
  findActiveSession(tokenHash: string, now: number): Promise<ActiveSession | undefined>;
  /** The merchant of an ended session and why it ended; undefined when none ended with this hash. Failures only (off the hot path). */
  endedSession(tokenHash: string): Promise<{ appId: string; reason: SessionEndReason } | undefined>;
  /** The session's key, opened; undefined when the session does not exist. */
  sessionKey(sessionId: string): Promise<string | undefined>;
  /** Ends one session; false when it was already ended or is unknown. */
  endSession(sessionId: string, at: number, reason: SessionEndReason): Promise<boolean>;
  /** Ends every open session of a merchant (its authorization was revoked); returns how many. */
  endMerchantSessions(appId: string, at: number, reason: SessionEndReason): Promise<number>;
  /** Binds (or replaces) the user's phone number: the number sealed, `masked` kept beside it. */
  bindPhone(appId: string, openId: string, phone: PhoneNumber, masked: string, at: number): Promise<void>;
  user(appId: string, openId: string): Promise<RuntimeUser | undefined>;
  /** A merchant's users by openId ascending; `cursor`: the opaque `nextCursor` of the previous page. */
  listUsers(appId: string, query: { limit: number; cursor?: string }): Promise<RuntimePage<RuntimeUser>>;
  userStats(appId: string, now: number): Promise<RuntimeUserStats>;
  recordMessage(message: RuntimeMessageRecord): Promise<void>;
  /** Deletes sessions that ended or expired before `before`; returns how many. */
  pruneSessions(before: number): Promise<number>;
}

/** From Kuaishou, on a merchant's behalf (KuaishouPlatform satisfies it). */
export interface RuntimePlatform {
  code2Session(appId: string, jsCode: string): Promise<{ openId: string; sessionKey: string }>;
  sendSubscriptionMessage(
    appId: string,
    input: { templateId: string; toOpenId: string; page?: string; data: Record<string, unknown> },
  ): Promise<Record<string, never>>;
  /** Throws `PhoneDataError` (src/kuaishou) when the data does not open or names another app. */
  decryptPhoneNumber(appId: string, sessionKey: string, sealed: { encryptedData: string; iv: string }): PhoneNumber;
}

/** What the runtime reads of fleet's records. */
export interface MerchantFacts {
  /** The merchant's status and name; undefined: never authorized. */
  merchant(appId: string): Promise<{ status: 'authorized' | 'revoked'; name: string | null } | undefined>;
  /** Whether the merchant's phone-number capability is approved (as ks-isv last learned it). */
  phoneNumberApproved(appId: string): Promise<boolean>;
  /** The merchant's effective custom config (ext): what its pages read at run time. */
  effectiveExt(appId: string): Promise<Record<string, unknown>>;
}
