/**
 * Kuaishou's wire shapes: the JSON the platform sends and accepts, field for field.
 *
 * Only `src/kuaishou` and `src/sandbox` may import this file. The client decodes these shapes into our own
 * camelCase types (`types.ts`) in `endpoints.ts`; the sandbox builds its answers from them, so a field
 * renamed here breaks both sides at compile time. Where each shape comes from (doc / code / inferred) is
 * recorded on the endpoint rows in `endpoints.ts`.
 */

/** `/mp/tp/oauth/*` answers: camelCase, `errorMsg`. */
export interface WireOauthEnvelope {
  result: number;
  errorMsg?: string;
}

/** `/openapi/*` answers: snake_case, `error_msg`. */
export interface WireOpenApiEnvelope {
  result: number;
  error_msg?: string;
}

export interface WirePermission {
  id: number;
  category: string;
  description: string;
}

export interface WireComponentAccessToken extends WireOauthEnvelope {
  componentAccessToken: string;
  expiresIn: number;
}

export interface WirePreAuthCode extends WireOauthEnvelope {
  preAuthCode: string;
  expiresIn: number;
}

export interface WireAuthorizerToken extends WireOauthEnvelope {
  authorizerAccessToken: string;
  expiresIn: number;
  authorizerRefreshToken: string;
  refreshExpiresIn: number;
  authorizerAppId: string;
  authorizePermission: WirePermission[];
}

export interface WireReAuthorizationCode extends WireOauthEnvelope {
  authorizationCode: string;
  expiresIn: number;
}

export type WireDomainAction = 'add' | 'delete' | 'set' | 'get';

export interface WireServerDomainLists {
  request: string[];
  socket: string[];
  upload_file: string[];
  download_file: string[];
  udp: string[];
}

export interface WireServerDomainRequest extends Partial<WireServerDomainLists> {
  action: WireDomainAction;
}

export type WireServerDomainResponse = WireOpenApiEnvelope & WireServerDomainLists;

export interface WireWebviewDomainRequest {
  action: WireDomainAction;
  webview_domain?: string[];
}

export interface WireWebviewDomainResponse extends WireOpenApiEnvelope {
  webview_domain: string[];
}

export interface WireUploadRequest {
  template_id: number;
  user_version: string;
  user_desc: string;
  /** The merchant's ext config as JSON text. */
  ext_json: string;
}

export interface WireAuditRequest {
  audit_note?: string;
}

export type WireQrVersion = 'latest' | 'audit';

export type WireAuditStatus = 'AUDITING' | 'PASS' | 'REJECT';

export interface WireDevVersion {
  user_version: string;
  user_desc: string;
  template_id: number;
  /** Unix seconds. */
  create_time: number;
}

export interface WireAuditVersion {
  user_version: string;
  user_desc: string;
  template_id: number;
  status: WireAuditStatus;
  reason?: string;
  /** Unix seconds. */
  submit_time: number;
}

export interface WireOnlineVersion {
  user_version: string;
  user_desc: string;
  template_id: number;
  /** Unix seconds. */
  release_time: number;
  rollback: { can_rollback: boolean; last_version?: string };
}

export interface WireVersionsResponse extends WireOpenApiEnvelope {
  data: {
    latest?: WireDevVersion | null;
    audit?: WireAuditVersion | null;
    current?: WireOnlineVersion | null;
  };
}

export type WireCapability = 'SHORT_VIDEO_MOUNT' | 'LIVE_MOUNT' | 'PUBLISH_KUAISHOU' | 'PHONE_NUMBER';
export type WireCapabilityStatus = 'NOT_APPLIED' | 'APPLYING' | 'APPROVED' | 'REJECTED';

export interface WireCapabilityApplyRequest {
  capability: WireCapability;
  reason?: string;
}

export interface WireCapabilityStatusResponse extends WireOpenApiEnvelope {
  status: WireCapabilityStatus;
  reason?: string;
}

export interface WireTemplate {
  template_id: number;
  user_version: string;
  user_desc: string;
  /** Unix seconds. */
  create_time: number;
}

export interface WireTemplateListResponse extends WireOpenApiEnvelope {
  templates: WireTemplate[];
}

// ---- Pushes -------------------------------------------------------------------------------------------

/** The HTTP body of every push (doc). */
export interface WirePushEnvelope {
  encryptedMsg: string;
  msgId: string;
  componentAppId: string;
  timestamp: number;
}

/** What the receiver answers to acknowledge a push (doc). */
export interface WirePushAck {
  result: 1;
  message_id: string;
}

/** Decrypted push payloads, by `event` (ticket: doc; the rest inferred). */
export interface WireTicketEvent {
  event: 'COMPONENT_TICKET';
  componentAppId: string;
  componentTicket: string;
  eventTime: number;
  expiresIn: number;
}

export interface WireAuthorizedEvent {
  event: 'AUTHORIZED' | 'UPDATE_AUTHORIZED';
  componentAppId?: string;
  eventTime?: number;
  authorizerAppId: string;
  authorizationCode: string;
  authorizationCodeExpiresIn: number;
  authorizePermission: WirePermission[];
}

export interface WireUnauthorizedEvent {
  event: 'UNAUTHORIZED';
  componentAppId?: string;
  eventTime?: number;
  authorizerAppId: string;
}

export interface WireReAuthorizationCodeEvent {
  event: 'RE_AUTHORIZATION_CODE';
  componentAppId?: string;
  eventTime?: number;
  authorizerAppId: string;
  authorizationCode: string;
  authorizationCodeExpiresIn?: number;
}

export interface WireAuditResultEvent {
  event: 'PACKAGE_AUDIT_RESULT';
  componentAppId?: string;
  eventTime?: number;
  authorizerAppId: string;
  userVersion: string;
  status: 'PASS' | 'REJECT';
  reason?: string;
}

export interface WireCapabilityResultEvent {
  event: 'CAPABILITY_RESULT';
  componentAppId?: string;
  eventTime?: number;
  authorizerAppId: string;
  capability: WireCapability;
  status: 'APPROVED' | 'REJECTED';
  reason?: string;
}

export type WirePushEvent =
  | WireTicketEvent
  | WireAuthorizedEvent
  | WireUnauthorizedEvent
  | WireReAuthorizationCodeEvent
  | WireAuditResultEvent
  | WireCapabilityResultEvent;

// ---- R1–R2 ----------------------------------------------------------------------------------------------

/** R1 answer (code): snake_case like the other `/openapi` rows. */
export interface WireCode2SessionAnswer {
  open_id: string;
  session_key: string;
}

/** R2 request (doc for the single-app form): form-urlencoded fields, `data` as JSON text. */
export interface WireMessageSendRequest {
  template_id: string;
  to_user: string;
  page?: string;
  data: string;
}

/** The plaintext of a `getPhoneNumber` encryptedData (inferred from the sibling platforms). */
export interface WirePhoneNumberPlaintext {
  phoneNumber: string;
  purePhoneNumber: string;
  countryCode: string;
  watermark: { appid: string; timestamp: number };
}
