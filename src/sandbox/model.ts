/**
 * The sandbox platform's state, as plain JSON-able data (so it can be persisted to a file as is).
 * Times are epoch milliseconds. Wire enums (AUDITING, SHORT_VIDEO_MOUNT…) are kept as the platform has them.
 */
import type { WireAuditStatus, WireCapability, WireCapabilityStatus } from '../kuaishou/wire.ts';

export interface ComponentConfig {
  componentAppId: string;
  componentAppSecret: string;
  /** Message verification TOKEN. */
  messageToken: string;
  /** Message encryption KEY: 43 base64 characters. */
  messageKey: string;
  /** Where authorization events and tickets are pushed; empty: not registered yet. */
  authEventUrl: string;
  /** Where audit and capability results are pushed. */
  messageUrl: string;
  /** Registered server domains (hosts); merchants' domains must be one of them or a subdomain. */
  serverDomains: string[];
  webviewDomains: string[];
  /** Audit decided this long after submission; negative: only by hand (control API). */
  auditDelayMs: number;
  capabilityDelayMs: number;
  ticketIntervalS: number;
  /** Lifetime of component and authorizer access tokens (7200 s on the real platform). */
  tokenTtlS: number;
  /** Lifetime of authorizer refresh tokens (30 days on the real platform). */
  refreshTokenTtlS: number;
  /** Lifetime of a pushed ticket. */
  ticketTtlS: number;
  /**
   * The provider back end the template's code calls (the URL baked into the template, e.g.
   * `http://127.0.0.1:3300/runtime/v1`); the simulator page calls it. Empty: not configured.
   */
  runtimeUrl: string;
}

export interface TemplateRecord {
  templateId: number;
  userVersion: string;
  userDesc: string;
  createdAt: number;
  /** The template's pages (app.json): an ext.json may list a subset of them, never others. Absent: not checked. */
  pages?: string[];
  /** The template's sub-package roots: an ext.json's subPackages must be among them. */
  subPackageRoots?: string[];
}

export interface MerchantRecord {
  merchantId: string;
  name: string;
  appIds: string[];
}

export interface PackageVersion {
  templateId: number;
  userVersion: string;
  userDesc: string;
  extJson: string;
  createdAt: number;
}

export interface AuditRecord extends PackageVersion {
  status: WireAuditStatus;
  reason?: string;
  auditNote?: string;
  submittedAt: number;
  /** When the automatic decision is due; absent once decided or when decisions are manual. */
  decideAt?: number;
}

export interface OnlineRecord extends PackageVersion {
  releasedAt: number;
}

export interface CapabilityRecord {
  status: WireCapabilityStatus;
  reason?: string;
  applyReason?: string;
  decideAt?: number;
}

export interface ServerDomainRecord {
  request: string[];
  socket: string[];
  uploadFile: string[];
  downloadFile: string[];
  udp: string[];
}

export interface MiniAppRecord {
  appId: string;
  name: string;
  merchantId: string;
  /** Present while the app has authorized the component. */
  authorization?: { permissions: number[]; authorizedAt: number };
  serverDomains: ServerDomainRecord;
  webviewDomains: string[];
  dev?: PackageVersion;
  audit?: AuditRecord;
  online?: OnlineRecord;
  /** The rollback target: the online version before the last release. */
  previousOnline?: OnlineRecord;
  canRollback: boolean;
  capabilities: Partial<Record<WireCapability, CapabilityRecord>>;
}

export interface ExpiringGrant {
  expiresAt: number;
}

export interface AppGrant extends ExpiringGrant {
  appId: string;
}

export interface CredentialRecords {
  tickets: Record<string, ExpiringGrant>;
  componentTokens: Record<string, ExpiringGrant>;
  preAuthCodes: Record<string, ExpiringGrant & { used: boolean }>;
  authorizationCodes: Record<string, AppGrant>;
  authorizerTokens: Record<string, AppGrant>;
  refreshTokens: Record<string, AppGrant>;
  /** The one live pair per app: issuing a new one revokes the old. */
  livePairs: Record<string, { accessToken: string; refreshToken: string }>;
}

/** A Kuaishou user (a person with a Kuaishou account), who can open any mini-program. */
export interface UserRecord {
  userId: string;
  nickname: string;
  /** Mainland number, 11 digits (what `getPhoneNumber` reveals once the app may ask). */
  phoneNumber: string;
  createdAt: number;
}

/** A `ks.login` code: single use, for one app and one user. */
export interface JsCodeGrant extends AppGrant {
  userId: string;
}

/** A user's session on one mini-program: the current session_key, replaced by each code exchange. */
export interface UserSession {
  userId: string;
  sessionKey: string;
  issuedAt: number;
}

/** A subscription message accepted by R2. */
export interface SentMessage {
  messageId: string;
  appId: string;
  openId: string;
  userId: string;
  templateId: string;
  page: string | null;
  data: Record<string, unknown>;
  sentAt: number;
}

/** The mini-program side: users, their login codes, sessions per app, messages sent to them. */
export interface UserData {
  users: Record<string, UserRecord>;
  jsCodes: Record<string, JsCodeGrant>;
  /** appId → openId → session. */
  sessions: Record<string, Record<string, UserSession>>;
  /** appId → messages, oldest first, the last 1000 kept. */
  messages: Record<string, SentMessage[]>;
  /** Key of the openId hash: an openId is HMAC(key, appId + userId), stable per (app, user). */
  openIdKey: string;
  serial: number;
}

export interface SandboxData {
  version: 1;
  component: ComponentConfig;
  merchants: Record<string, MerchantRecord>;
  apps: Record<string, MiniAppRecord>;
  templates: TemplateRecord[];
  credentials: CredentialRecords;
  /** Whether start_push_ticket has been called: tickets are then pushed every interval. */
  ticketPushStarted: boolean;
  serial: number;
  /** Absent in state files written before users existed: filled in on open. */
  users: UserData;
}
