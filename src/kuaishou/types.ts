/**
 * The client's outward vocabulary: our names, camelCase, times as epoch milliseconds or seconds-to-live
 * as the field name says. Nothing here mirrors a wire field name; `endpoints.ts` maps between the two.
 */
import type { ExtJsonDocument, MerchantExt } from './ext-json.ts';

/** Permission sets a merchant grants (1 is doc, 2–4 inferred from the seed's four areas). */
export type PermissionSetId = 1 | 2 | 3 | 4;

export const PERMISSION_SETS: Readonly<Record<PermissionSetId, { name: string; nameZh: string; covers: string }>> = {
  1: { name: 'development', nameZh: '开发管理', covers: 'upload, audit, withdraw, QR code, versions, release, rollback' },
  2: { name: 'basicInfo', nameZh: '基础信息管理', covers: 'server and webview domains' },
  3: { name: 'operations', nameZh: '运营管理', covers: 'short-video mount, live mount, publish to Kuaishou' },
  4: { name: 'permissions', nameZh: '权限管理', covers: 'phone number' },
};

export interface GrantedPermission {
  id: number;
  category: string;
  description: string;
}

export interface ComponentAccessToken {
  accessToken: string;
  expiresInS: number;
}

export interface PreAuthCode {
  preAuthCode: string;
  expiresInS: number;
}

/** The pair a merchant's authorization yields (T4, T6). */
export interface AuthorizerTokens {
  appId: string;
  accessToken: string;
  expiresInS: number;
  refreshToken: string;
  refreshExpiresInS: number;
  permissions: GrantedPermission[];
}

export interface AuthorizationCode {
  authorizationCode: string;
  expiresInS: number;
}

export type DomainAction = 'add' | 'delete' | 'set' | 'get';

export interface ServerDomains {
  request: string[];
  socket: string[];
  uploadFile: string[];
  downloadFile: string[];
  udp: string[];
}

export type ServerDomainsChange = { action: 'get' } | ({ action: Exclude<DomainAction, 'get'> } & Partial<ServerDomains>);

export type WebviewDomainsChange = { action: 'get' } | { action: Exclude<DomainAction, 'get'>; domains: string[] };

/** An upload as sent: the whole ext.json given by the caller (tests, experts; see `MerchantUploadInput`). */
export interface UploadCodeInput {
  templateId: number;
  userVersion: string;
  userDesc: string;
  /** The whole ext.json document (`buildExtJson`); an object is serialised to JSON text. */
  extJson: string | ExtJsonDocument | Record<string, unknown>;
}

/**
 * An upload for one merchant: `KuaishouPlatform.uploadCode` builds its ext.json (`buildExtJson`: enabled,
 * `extAppId` the merchant, the custom config as `ext`, then the app config).
 */
export interface MerchantUploadInput extends MerchantExt {
  templateId: number;
  userVersion: string;
  userDesc: string;
}

export interface SubmitAuditInput {
  auditNote?: string;
}

export type QrCodeVersion = 'development' | 'audit';

export interface QrCodeInput {
  version?: QrCodeVersion;
  /** Page path to open, with query. */
  path?: string;
}

export interface QrCode {
  contentType: string;
  png: Uint8Array;
}

export type AuditStatus = 'auditing' | 'passed' | 'rejected';

export interface DevelopmentVersion {
  userVersion: string;
  userDesc: string;
  templateId: number;
  createdAt: number;
}

export interface AuditVersion {
  userVersion: string;
  userDesc: string;
  templateId: number;
  status: AuditStatus;
  reason?: string;
  submittedAt: number;
}

export interface OnlineVersion {
  userVersion: string;
  userDesc: string;
  templateId: number;
  releasedAt: number;
  canRollback: boolean;
  /** The version a rollback would restore. */
  rollbackVersion?: string;
}

export interface Versions {
  development?: DevelopmentVersion;
  audit?: AuditVersion;
  online?: OnlineVersion;
}

export type Capability = 'shortVideoMount' | 'liveMount' | 'publishKuaishou' | 'phoneNumber';
export const CAPABILITIES: readonly Capability[] = ['shortVideoMount', 'liveMount', 'publishKuaishou', 'phoneNumber'];

export type CapabilityStatus = 'notApplied' | 'applying' | 'approved' | 'rejected';

export interface CapabilityApplyInput {
  capability: Capability;
  reason?: string;
}

export interface CapabilityState {
  capability: Capability;
  status: CapabilityStatus;
  reason?: string;
}

export interface Template {
  templateId: number;
  userVersion: string;
  userDesc: string;
  createdAt: number;
}

/** Operations that return nothing but success. */
export type Done = Record<string, never>;

// ---- R1–R2: the runtime of a merchant's mini-program -----------------------------------------------

/** R1: what a `ks.login` code of one mini-program is worth. `sessionKey` is a secret: never log or show it. */
export interface CodeSession {
  openId: string;
  /** base64 of 16 bytes: the key the user's encrypted data (phone number) is sealed with. */
  sessionKey: string;
}

/** R2: a subscription message to one user of the mini-program. */
export interface SubscriptionMessageInput {
  templateId: string;
  /** The user's openId in this mini-program. */
  toOpenId: string;
  /** The page the message opens, with its query (optional). */
  page?: string;
  /** The template's fields, e.g. `{"thing1": {"value": "川味小馆"}}`; sent as JSON text. */
  data: Record<string, unknown>;
}

/** What the `getPhoneNumber` button gives the page, to be opened on the server with the session key. */
export interface EncryptedUserData {
  encryptedData: string;
  iv: string;
}

/** An opened phone number (the watermark checked and dropped). */
export interface PhoneNumber {
  phoneNumber: string;
  purePhoneNumber: string;
  countryCode: string;
}
