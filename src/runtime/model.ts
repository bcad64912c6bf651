/**
 * The runtime's records (docs/runtime.md), in our vocabulary. Times are epoch milliseconds. A session's
 * token and `session_key`, and a user's phone number, never appear in these types in plain text except
 * where a port's method says it hands one over.
 */

export interface RuntimeSession {
  /** Sortable id (the row's key; the secret box's context for the sealed session key). */
  id: string;
  appId: string;
  openId: string;
  createdAt: number;
  expiresAt: number;
}

export type SessionEndReason = 'logout' | 'revoked';

/** A session as every use reads it: with its merchant, in one statement. */
export interface ActiveSession extends RuntimeSession {
  merchant: { status: 'authorized' | 'revoked' | 'unknown'; name: string | null };
}

export interface RuntimeUser {
  appId: string;
  openId: string;
  firstSeenAt: number;
  lastSeenAt: number;
  /** e.g. `138****8000`; null: no number bound. */
  phoneMasked: string | null;
  phoneBoundAt: number | null;
}

export interface RuntimeUserStats {
  users: number;
  withPhone: number;
  /** Sessions neither ended nor expired at the time of the read. */
  activeSessions: number;
  lastLoginAt: number | null;
}

export interface PhoneNumber {
  phoneNumber: string;
  purePhoneNumber: string;
  countryCode: string;
}

export interface RuntimeMessageRecord {
  id: string;
  appId: string;
  openId: string;
  templateId: string;
  page: string | null;
  sentAt: number;
  result: 'sent' | 'failed';
  /** The platform's (or our) error code when failed. */
  errorCode: string | null;
}

export interface RuntimePage<T> {
  items: T[];
  nextCursor: string | null;
}
