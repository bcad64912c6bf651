/**
 * The provider's own records, in fleet's vocabulary. Times are epoch milliseconds. Nothing here is a
 * Kuaishou wire name; capability names are the REST API's kebab-case ones.
 */

export type MerchantStatus = 'authorized' | 'revoked';

export type AuditState = 'auditing' | 'passed' | 'rejected' | 'withdrawn';

export interface LastAudit {
  userVersion: string;
  state: AuditState;
  reason?: string;
  at: number;
}

export interface Merchant {
  appId: string;
  /** Set by an operator; the platform does not tell us the mini-program's name. */
  name: string | null;
  status: MerchantStatus;
  /** Granted permission set ids (1 development, 2 basic info, 3 operations, 4 permissions). */
  permissions: number[];
  authorizedAt: number;
  revokedAt: number | null;
  createdAt: number;
  updatedAt: number;
  lastAudit: LastAudit | null;
}

export const CAPABILITY_NAMES = ['short-video-mount', 'live-mount', 'publish-kuaishou', 'phone-number'] as const;
export type CapabilityName = (typeof CAPABILITY_NAMES)[number];
export type CapabilityStatusName = 'not_applied' | 'applying' | 'approved' | 'rejected';

export interface CapabilityRecord {
  appId: string;
  capability: CapabilityName;
  status: CapabilityStatusName;
  reason: string | null;
  updatedAt: number;
}

export type PushOutcome = 'applied' | 'ignored' | 'failed';

/** A push as kept: no codes or tickets, only what an operator needs to see. */
export interface PushEventRecord {
  msgId: string;
  channel: 'auth' | 'events';
  eventType: string;
  appId: string | null;
  receivedAt: number;
  outcome: PushOutcome;
  summary: Record<string, unknown>;
  error: string | null;
}

export interface AuditLogEntry {
  id: string;
  at: number;
  actorKeyId: string | null;
  actorRole: string | null;
  action: string;
  appId: string | null;
  summary: Record<string, unknown>;
  result: 'ok' | 'error';
  errorCode: string | null;
}

/** viewer < operator < admin reach /api/v1; runtime (the provider's business back end) reaches only the runtime-key routes of /runtime/v1. */
export type Role = 'viewer' | 'operator' | 'admin' | 'runtime';

export interface ApiKeyRecord {
  id: string;
  name: string;
  role: Role;
  /** sha256 hex of the whole key. The key itself is shown once, at creation. */
  hash: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
