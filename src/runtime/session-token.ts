/**
 * Session tokens: `kss_` + 32 random bytes (base64url), handed to the page once. Only their SHA-256 is
 * stored, so a copy of the database opens no session. A plain hash suffices: the token has 256 bits of
 * entropy, nothing to brute-force.
 */
import { createHash, randomBytes } from 'node:crypto';

const PATTERN = /^kss_[A-Za-z0-9_-]{43}$/;

export function newSessionToken(): string {
  return `kss_${randomBytes(32).toString('base64url')}`;
}

/** Whether a presented text can be a session token at all (checked before any database read). */
export function isSessionToken(text: string): boolean {
  return PATTERN.test(text);
}

export function hashSessionToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Sortable ids: time first (base36 ms, fixed width), then randomness. */
export function newRuntimeId(now: number): string {
  return `${now.toString(36).padStart(9, '0')}${randomBytes(8).toString('hex')}`;
}
