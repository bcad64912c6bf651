/**
 * What fleet needs from the layers below, as interfaces fleet owns: `src/store` implements the
 * repositories, an adapter over `src/kuaishou` implements `PlatformPort`. Tests may substitute either.
 */
import type {
  ApiKeyRecord,
  AuditState,
  AuditLogEntry,
  CapabilityName,
  CapabilityRecord,
  LastAudit,
  Merchant,
  MerchantStatus,
  Page,
  PushEventRecord,
} from './model.ts';

export const MERCHANT_SORTS = ['appId', 'name', 'authorizedAt', 'updatedAt'] as const;
export type MerchantSort = (typeof MERCHANT_SORTS)[number];

export type MerchantFilter = Pick<MerchantListQuery, 'status' | 'q' | 'auditState' | 'auditVersion'>;

export interface MerchantListQuery {
  status?: MerchantStatus;
  /** Matches the app id or the name (substring, case-insensitive). */
  q?: string;
  /** The state of the last audit (`none`: never submitted). */
  auditState?: AuditState | 'none';
  /** The version last submitted for audit (what a rollout or an operator uploaded). */
  auditVersion?: string;
  /** Default `appId`; ties are broken by appId. */
  sort?: MerchantSort;
  order?: 'asc' | 'desc';
  limit: number;
  cursor?: string;
}

export interface MerchantRepository {
  /** Creates or re-activates the merchant with these permissions. */
  upsertAuthorized(appId: string, permissions: number[], at: number): Promise<Merchant>;
  markRevoked(appId: string, at: number): Promise<Merchant | undefined>;
  get(appId: string): Promise<Merchant | undefined>;
  list(query: MerchantListQuery): Promise<Page<Merchant>>;
  /** How many merchants the filter matches (a count over the same conditions as `list`). */
  count(query: MerchantFilter): Promise<number>;
  setLastAudit(appId: string, audit: LastAudit): Promise<void>;
  setName(appId: string, name: string | null): Promise<void>;
  /** Ids of authorized merchants, for background jobs. */
  authorizedAppIds(): Promise<string[]>;
  /** How many merchants there are in each status (one grouped read; a status with none is left out). */
  countByStatus(): Promise<Partial<Record<MerchantStatus, number>>>;
}

export interface CapabilityRepository {
  upsert(record: CapabilityRecord): Promise<void>;
  list(appId: string): Promise<CapabilityRecord[]>;
  get(appId: string, capability: CapabilityName): Promise<CapabilityRecord | undefined>;
}

/**
 * The database effect of a push that needs nothing but the database, as data: the store applies it with
 * the event in one atomic unit (on PostgreSQL, one statement).
 */
export type PushEffect =
  | { type: 'lastAudit'; appId: string; audit: LastAudit; at: number }
  | { type: 'capability'; record: CapabilityRecord };

/** One push to store, with its database-only effect if it has one. */
export interface PushRecording {
  event: PushEventRecord;
  effect?: PushEffect;
}

export interface PushEventRepository {
  /** Inserts the event; false when its msgId is already stored (a resend). */
  insert(event: PushEventRecord): Promise<boolean>;
  /**
   * Stores each push with its effect, all in ONE atomic unit (group commit: one commit, on PostgreSQL one
   * statement, for all of them): all stored with their effects, or none when it throws. Answers, in order,
   * whether each was stored (false: a resend — its msgId already stored, or repeated earlier in `pushes` —
   * and then nothing of it is written). Effects apply in the order given: of two audit results for one
   * merchant, the later one is the merchant's last audit. A last audit for a merchant not stored changes
   * no merchant (the event is still stored).
   */
  recordMany(pushes: readonly PushRecording[]): Promise<boolean[]>;
  exists(msgId: string): Promise<boolean>;
  list(query: { limit: number; cursor?: string; eventType?: string }): Promise<Page<PushEventRecord>>;
}

export interface AuditLogQuery {
  appId?: string;
  actor?: string;
  action?: string;
  limit: number;
  cursor?: string;
}

export interface AuditLogRepository {
  append(entry: Omit<AuditLogEntry, 'id'>): Promise<AuditLogEntry>;
  list(query: AuditLogQuery): Promise<Page<AuditLogEntry>>;
}

export interface ApiKeyRepository {
  insert(key: ApiKeyRecord): Promise<void>;
  get(id: string): Promise<ApiKeyRecord | undefined>;
  list(): Promise<ApiKeyRecord[]>;
  touch(id: string, at: number): Promise<void>;
  revoke(id: string, at: number): Promise<boolean>;
  count(): Promise<number>;
}

/** The merchant's tokens as the Kuaishou client stores them (the `TokenStore`), seen from fleet. */
export interface MerchantTokenRepository {
  /** Deletes the merchant's stored token pair; nothing when there is none. */
  forget(appId: string): Promise<void>;
}

/**
 * When the component's credentials expire, read WITHOUT their values (which stay sealed in the store):
 * what `/metrics` may show about them. Epoch ms; 0 marks a credential known to be invalid; undefined when
 * none is stored.
 */
export interface CredentialExpiryRepository {
  componentExpiries(): Promise<{ ticket: number | undefined; componentToken: number | undefined }>;
}

/** The repositories, and a way to run several writes atomically. */
export interface Repositories {
  merchantTokens: MerchantTokenRepository;
  merchants: MerchantRepository;
  capabilities: CapabilityRepository;
  pushEvents: PushEventRepository;
  auditLog: AuditLogRepository;
  apiKeys: ApiKeyRepository;
}

export interface Store extends Repositories {
  readonly dialect: 'sqlite' | 'postgres';
  /** Outside transactions: nothing writes through it. */
  readonly credentialExpiries: CredentialExpiryRepository;
  /** Runs `work` in one database transaction; its repositories write inside it. */
  transaction<T>(work: (tx: Repositories) => Promise<T>): Promise<T>;
  /** Liveness of the database, for /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
