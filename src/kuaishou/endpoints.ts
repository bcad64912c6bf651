/**
 * THE endpoint table: every path, method, parameter name, response field and error code of the Kuaishou
 * Open Platform's third-party ("saas") API that ks-isv speaks, each row tagged with where it comes from:
 *
 *   doc       stated in Kuaishou's third-party documentation
 *   code      seen in public client code, not in the docs we have
 *   inferred  designed by analogy with the Douyin / WeChat third-party platforms
 *
 * A provider holding Kuaishou's full documentation corrects THIS file (and `wire.ts`, the shapes it is
 * typed against); the client and the sandbox both follow. Row ids (T1…, A1…) are those of
 * `docs/kuaishou-open-platform.md`. Push payloads are decoded in `push/events.ts` against `wire.ts`.
 */
import type { Fields } from './decode.ts';
import { UnexpectedResponseError, type ErrorKind } from './errors.ts';
import type * as T from './types.ts';
import type * as W from './wire.ts';

export type Source = 'doc' | 'code' | 'inferred';

/** Which credential a call carries in its query string. */
export type CredentialKind = 'componentSecret' | 'componentToken' | 'authorizerToken';

/** Query parameter names of the credentials (doc). */
export const CREDENTIAL_PARAMS = {
  componentAppId: 'component_app_id',
  componentSecret: 'component_app_secret',
  componentToken: 'component_access_token',
  authorizerToken: 'authorizer_access_token',
} as const;

/** `result` value of every successful answer (doc). */
export const SUCCESS_RESULT = 1;

/** Where the error message sits, by response style (doc). */
export const MESSAGE_FIELD = { oauth: 'errorMsg', openapi: 'error_msg' } as const;
export type ResponseStyle = keyof typeof MESSAGE_FIELD;

export interface WireRequest {
  query?: Record<string, string>;
  body?: unknown;
}

/** A successful answer as the transport hands it to `decode`. */
export type RawAnswer = { kind: 'json'; fields: Fields } | { kind: 'binary'; contentType: string; bytes: Uint8Array };

export interface Endpoint<In, Out> {
  row: string;
  source: Source;
  method: 'GET' | 'POST';
  path: string;
  credential: CredentialKind;
  style: ResponseStyle;
  /** Set when success is not JSON but bytes (the QR code). */
  binary?: true;
  /** How a POST body goes on the wire (default JSON); `form`: application/x-www-form-urlencoded (R2). */
  encoding?: 'json' | 'form';
  /** The permission set a merchant must have granted (authorizer calls only). */
  permissionSet?: T.PermissionSetId;
  /** Safe to resend after a timeout or 5xx (the platform may have done it already). */
  idempotent: boolean;
  encode(input: In): WireRequest;
  decode(answer: RawAnswer, operation: string): Out;
}

function endpoint<In, Out>(row: Endpoint<In, Out>): Endpoint<In, Out> {
  return row;
}

function json(answer: RawAnswer, operation: string): Fields {
  if (answer.kind !== 'json') throw new UnexpectedResponseError(`${operation}: expected a JSON answer`, { operation });
  return answer.fields;
}

const done = (): T.Done => ({});

function decodeAuthorizerTokens(f: Fields): T.AuthorizerTokens {
  return {
    appId: f.string('authorizerAppId'),
    accessToken: f.string('authorizerAccessToken'),
    expiresInS: f.number('expiresIn'),
    refreshToken: f.string('authorizerRefreshToken'),
    refreshExpiresInS: f.number('refreshExpiresIn'),
    permissions: f.objectArray('authorizePermission').map(decodePermission),
  };
}

export function decodePermission(p: Fields): T.GrantedPermission {
  return { id: p.number('id'), category: p.optionalString('category') ?? '', description: p.optionalString('description') ?? '' };
}

const SERVER_DOMAIN_FIELDS: Record<keyof T.ServerDomains, keyof W.WireServerDomainLists> = {
  request: 'request',
  socket: 'socket',
  uploadFile: 'upload_file',
  downloadFile: 'download_file',
  udp: 'udp',
};

const AUDIT_STATUS: Record<W.WireAuditStatus, T.AuditStatus> = { AUDITING: 'auditing', PASS: 'passed', REJECT: 'rejected' };

export const CAPABILITY_WIRE: Record<T.Capability, W.WireCapability> = {
  shortVideoMount: 'SHORT_VIDEO_MOUNT',
  liveMount: 'LIVE_MOUNT',
  publishKuaishou: 'PUBLISH_KUAISHOU',
  phoneNumber: 'PHONE_NUMBER',
};

/** The inverse of CAPABILITY_WIRE: wire capability → ours. */
export const CAPABILITY_FROM_WIRE = Object.fromEntries(
  Object.entries(CAPABILITY_WIRE).map(([ours, wire]) => [wire, ours]),
) as Record<W.WireCapability, T.Capability>;

export const CAPABILITY_STATUS: Record<W.WireCapabilityStatus, T.CapabilityStatus> = {
  NOT_APPLIED: 'notApplied',
  APPLYING: 'applying',
  APPROVED: 'approved',
  REJECTED: 'rejected',
};

const QR_VERSION: Record<T.QrCodeVersion, W.WireQrVersion> = { development: 'latest', audit: 'audit' };

const seconds = (unixSeconds: number): number => unixSeconds * 1000;

export const ENDPOINTS = {
  // ---- Token and authorization (GET, query string, camelCase answers) --------------------------------
  startPushTicket: endpoint<void, T.Done>({
    row: 'T1', source: 'doc', method: 'GET', path: '/mp/tp/oauth/start_push_ticket',
    credential: 'componentSecret', style: 'oauth', idempotent: true,
    encode: () => ({}),
    decode: done,
  }),
  getComponentAccessToken: endpoint<{ ticket: string }, T.ComponentAccessToken>({
    row: 'T2', source: 'doc', method: 'GET', path: '/mp/tp/oauth/access_token',
    credential: 'componentSecret', style: 'oauth', idempotent: true,
    encode: (input) => ({ query: { component_verify_ticket: input.ticket } }),
    decode: (answer, op) => {
      const f = json(answer, op);
      return { accessToken: f.string('componentAccessToken'), expiresInS: f.number('expiresIn') };
    },
  }),
  createPreAuthCode: endpoint<void, T.PreAuthCode>({
    row: 'T3', source: 'doc', method: 'GET', path: '/mp/tp/oauth/pre_auth_code',
    credential: 'componentToken', style: 'oauth', idempotent: true,
    encode: () => ({}),
    decode: (answer, op) => {
      const f = json(answer, op);
      return { preAuthCode: f.string('preAuthCode'), expiresInS: f.number('expiresIn') };
    },
  }),
  exchangeAuthorizationCode: endpoint<{ authorizationCode: string }, T.AuthorizerTokens>({
    // Codes are single-use: a resend after a lost answer fails, so not idempotent.
    row: 'T4', source: 'doc', method: 'GET', path: '/mp/tp/oauth/authorizer_access_token',
    credential: 'componentToken', style: 'oauth', idempotent: false,
    encode: (input) => ({ query: { authorization_code: input.authorizationCode } }),
    decode: (answer, op) => decodeAuthorizerTokens(json(answer, op)),
  }),
  recoverAuthorizationCode: endpoint<{ appId: string }, T.AuthorizationCode>({
    row: 'T5', source: 'doc', method: 'GET', path: '/mp/tp/oauth/re_authorization_code',
    credential: 'componentToken', style: 'oauth', idempotent: true,
    encode: (input) => ({ query: { authorized_app_id: input.appId } }),
    decode: (answer, op) => {
      const f = json(answer, op);
      return { authorizationCode: f.string('authorizationCode'), expiresInS: f.number('expiresIn') };
    },
  }),
  refreshAuthorizerToken: endpoint<{ appId: string; refreshToken: string }, T.AuthorizerTokens>({
    // Refresh tokens are single-use (inferred): never resent blindly.
    row: 'T6', source: 'inferred', method: 'GET', path: '/mp/tp/oauth/refresh_authorizer_access_token',
    credential: 'componentToken', style: 'oauth', idempotent: false,
    encode: (input) => ({ query: { authorizer_app_id: input.appId, authorizer_refresh_token: input.refreshToken } }),
    decode: (answer, op) => decodeAuthorizerTokens(json(answer, op)),
  }),

  // ---- Authorized mini-program calls (JSON bodies, snake_case answers) -------------------------------
  serverDomains: endpoint<T.ServerDomainsChange, T.ServerDomains>({
    row: 'A1', source: 'doc', method: 'POST', path: '/openapi/mp/auth/app/server_domain',
    credential: 'authorizerToken', style: 'openapi', permissionSet: 2,
    // Deleting twice answers 403106 the second time.
    idempotent: false,
    encode: (input) => {
      const body: W.WireServerDomainRequest = { action: input.action };
      if (input.action !== 'get') {
        for (const [ours, wire] of Object.entries(SERVER_DOMAIN_FIELDS) as [keyof T.ServerDomains, keyof W.WireServerDomainLists][]) {
          const list = input[ours];
          if (list !== undefined) body[wire] = list;
        }
      }
      return { body };
    },
    decode: (answer, op) => {
      const f = json(answer, op);
      return {
        request: f.stringArray('request'),
        socket: f.stringArray('socket'),
        uploadFile: f.stringArray('upload_file'),
        downloadFile: f.stringArray('download_file'),
        udp: f.stringArray('udp'),
      };
    },
  }),
  webviewDomains: endpoint<T.WebviewDomainsChange, string[]>({
    row: 'A2', source: 'inferred' /* path doc, body inferred */, method: 'POST', path: '/openapi/mp/auth/app/webview_domain',
    credential: 'authorizerToken', style: 'openapi', permissionSet: 2, idempotent: false,
    encode: (input) => {
      const body: W.WireWebviewDomainRequest = { action: input.action };
      if (input.action !== 'get') body.webview_domain = input.domains;
      return { body };
    },
    decode: (answer, op) => json(answer, op).stringArray('webview_domain'),
  }),
  uploadCode: endpoint<T.UploadCodeInput, T.Done>({
    // An upload replaces the development version, so sending it twice leaves the same state.
    row: 'A3', source: 'inferred', method: 'POST', path: '/openapi/mp/auth/app/package/upload',
    credential: 'authorizerToken', style: 'openapi', permissionSet: 1, idempotent: true,
    encode: (input) => {
      const body: W.WireUploadRequest = {
        template_id: input.templateId,
        user_version: input.userVersion,
        user_desc: input.userDesc,
        ext_json: typeof input.extJson === 'string' ? input.extJson : JSON.stringify(input.extJson),
      };
      return { body };
    },
    decode: done,
  }),
  submitAudit: endpoint<T.SubmitAuditInput, T.Done>({
    row: 'A4', source: 'inferred', method: 'POST', path: '/openapi/mp/auth/app/package/audit',
    credential: 'authorizerToken', style: 'openapi', permissionSet: 1, idempotent: false,
    encode: (input) => {
      const body: W.WireAuditRequest = input.auditNote === undefined ? {} : { audit_note: input.auditNote };
      return { body };
    },
    decode: done,
  }),
  withdrawAudit: endpoint<void, T.Done>({
    row: 'A5', source: 'inferred', method: 'POST', path: '/openapi/mp/auth/app/package/revoke_audit',
    credential: 'authorizerToken', style: 'openapi', permissionSet: 1, idempotent: false,
    encode: () => ({ body: {} }),
    decode: done,
  }),
  getQrCode: endpoint<T.QrCodeInput, T.QrCode>({
    row: 'A6', source: 'inferred', method: 'GET', path: '/openapi/mp/auth/app/package/qrcode',
    credential: 'authorizerToken', style: 'openapi', permissionSet: 1, idempotent: true, binary: true,
    encode: (input) => {
      const query: Record<string, string> = { version: QR_VERSION[input.version ?? 'development'] };
      if (input.path !== undefined) query.path = input.path;
      return { query };
    },
    decode: (answer, op) => {
      if (answer.kind !== 'binary') throw new UnexpectedResponseError(`${op}: expected image bytes`, { operation: op });
      return { contentType: answer.contentType, png: answer.bytes };
    },
  }),
  getVersions: endpoint<void, T.Versions>({
    row: 'A7', source: 'inferred', method: 'GET', path: '/openapi/mp/auth/app/package/versions',
    credential: 'authorizerToken', style: 'openapi', permissionSet: 1, idempotent: true,
    encode: () => ({}),
    decode: (answer, op) => {
      const data = json(answer, op).object('data');
      const versions: T.Versions = {};
      const latest = data.optionalObject('latest');
      if (latest) {
        versions.development = {
          userVersion: latest.string('user_version'),
          userDesc: latest.optionalString('user_desc') ?? '',
          templateId: latest.number('template_id'),
          createdAt: seconds(latest.number('create_time')),
        };
      }
      const audit = data.optionalObject('audit');
      if (audit) {
        const reason = audit.optionalString('reason');
        versions.audit = {
          userVersion: audit.string('user_version'),
          userDesc: audit.optionalString('user_desc') ?? '',
          templateId: audit.number('template_id'),
          status: AUDIT_STATUS[audit.oneOf('status', ['AUDITING', 'PASS', 'REJECT'] as const)],
          submittedAt: seconds(audit.number('submit_time')),
          ...(reason === undefined ? {} : { reason }),
        };
      }
      const current = data.optionalObject('current');
      if (current) {
        const rollback = current.optionalObject('rollback');
        const rollbackVersion = rollback?.optionalString('last_version');
        versions.online = {
          userVersion: current.string('user_version'),
          userDesc: current.optionalString('user_desc') ?? '',
          templateId: current.number('template_id'),
          releasedAt: seconds(current.number('release_time')),
          canRollback: rollback?.boolean('can_rollback') ?? false,
          ...(rollbackVersion === undefined ? {} : { rollbackVersion }),
        };
      }
      return versions;
    },
  }),
  release: endpoint<void, T.Done>({
    row: 'A8', source: 'inferred', method: 'POST', path: '/openapi/mp/auth/app/package/release',
    credential: 'authorizerToken', style: 'openapi', permissionSet: 1, idempotent: false,
    encode: () => ({ body: {} }),
    decode: done,
  }),
  rollback: endpoint<void, T.Done>({
    row: 'A9', source: 'inferred', method: 'POST', path: '/openapi/mp/auth/app/package/rollback',
    credential: 'authorizerToken', style: 'openapi', permissionSet: 1, idempotent: false,
    encode: () => ({ body: {} }),
    decode: done,
  }),
  applyCapability: endpoint<T.CapabilityApplyInput, T.Done>({
    // Permission set 3 for the three operations capabilities, 4 for phone number: see `capabilityPermissionSet`.
    row: 'A10', source: 'inferred', method: 'POST', path: '/openapi/mp/auth/app/capability/apply',
    credential: 'authorizerToken', style: 'openapi', idempotent: false,
    encode: (input) => {
      const body: W.WireCapabilityApplyRequest = { capability: CAPABILITY_WIRE[input.capability] };
      if (input.reason !== undefined) body.reason = input.reason;
      return { body };
    },
    decode: done,
  }),
  getCapabilityStatus: endpoint<{ capability: T.Capability }, Omit<T.CapabilityState, 'capability'>>({
    row: 'A11', source: 'inferred', method: 'GET', path: '/openapi/mp/auth/app/capability/status',
    credential: 'authorizerToken', style: 'openapi', idempotent: true,
    encode: (input) => ({ query: { capability: CAPABILITY_WIRE[input.capability] } }),
    decode: (answer, op) => {
      const f = json(answer, op);
      const reason = f.optionalString('reason');
      const status = f.oneOf('status', Object.keys(CAPABILITY_STATUS) as W.WireCapabilityStatus[]);
      return { status: CAPABILITY_STATUS[status], ...(reason === undefined ? {} : { reason }) };
    },
  }),
  listTemplates: endpoint<void, T.Template[]>({
    row: 'A12', source: 'inferred', method: 'GET', path: '/openapi/mp/tp/template/list',
    credential: 'componentToken', style: 'openapi', idempotent: true,
    encode: () => ({}),
    decode: (answer, op) =>
      json(answer, op)
        .objectArray('templates')
        .map((t) => ({
          templateId: t.number('template_id'),
          userVersion: t.string('user_version'),
          userDesc: t.optionalString('user_desc') ?? '',
          createdAt: seconds(t.number('create_time')),
        })),
  }),

  // ---- R1–R2: the runtime of a merchant's mini-program (docs/runtime.md) -----------------------------
  code2Session: endpoint<{ jsCode: string }, T.CodeSession>({
    // A js_code is single-use: a resend after a lost answer would fail, so not idempotent.
    row: 'R1', source: 'code', method: 'GET', path: '/openapi/mp/tp/auth/code2session',
    credential: 'authorizerToken', style: 'openapi', idempotent: false,
    encode: (input) => ({ query: { js_code: input.jsCode } }),
    decode: (answer, op) => {
      const f = json(answer, op);
      return { openId: f.string('open_id'), sessionKey: f.string('session_key') };
    },
  }),
  sendSubscriptionMessage: endpoint<T.SubscriptionMessageInput, T.Done>({
    // Path and form fields doc (single-app form); the on-behalf credentials inferred. A resend sends twice.
    row: 'R2', source: 'inferred', method: 'POST', path: '/openapi/mp/developer/message/template/send',
    credential: 'authorizerToken', style: 'openapi', idempotent: false, encoding: 'form',
    encode: (input) => {
      const body: W.WireMessageSendRequest = { template_id: input.templateId, to_user: input.toOpenId, data: JSON.stringify(input.data) };
      if (input.page !== undefined) body.page = input.page;
      return { body };
    },
    decode: done,
  }),
} as const;

export type Operation = keyof typeof ENDPOINTS;
export type InputOf<K extends Operation> = (typeof ENDPOINTS)[K] extends Endpoint<infer I, unknown> ? I : never;
export type OutputOf<K extends Operation> = (typeof ENDPOINTS)[K] extends Endpoint<never, infer O> ? O : never;

/** Capability calls need set 3 (operations) or 4 (phone number). */
export function capabilityPermissionSet(capability: T.Capability): T.PermissionSetId {
  return capability === 'phoneNumber' ? 4 : 3;
}

/** T7: the authorization page a merchant opens in a browser (inferred). */
export const AUTHORIZATION_PAGE = {
  row: 'T7',
  source: 'inferred' as Source,
  path: '/mp/tp/authorize',
  params: { componentAppId: 'component_app_id', preAuthCode: 'pre_auth_code', redirectUri: 'redirect_uri' },
  /** Query parameters the browser brings back to `redirect_uri`. */
  redirectParams: { authorizationCode: 'authorization_code', expiresIn: 'expires_in' },
} as const;

export interface ErrorCodeRow {
  code: number;
  kind: ErrorKind;
  source: Source;
  message: string;
}

/**
 * Platform error codes. 403106 is doc; the 1002001xx family follows Kuaishou's published OAuth2 codes
 * (inferred to apply here); the rest are inferred, named in the contract's style.
 */
export const ERROR_CODES = {
  INVALID_PARAMS: { code: 100200100, kind: 'business', source: 'inferred', message: 'missing or invalid parameter' },
  INVALID_CLIENT: { code: 100200101, kind: 'business', source: 'inferred', message: 'invalid component app id or secret' },
  TOKEN_INVALID: { code: 100200102, kind: 'tokenInvalid', source: 'inferred', message: 'access token invalid' },
  INVALID_CODE: { code: 100200105, kind: 'business', source: 'inferred', message: 'invalid or used authorization code' },
  TOKEN_EXPIRED: { code: 100200108, kind: 'tokenInvalid', source: 'inferred', message: 'access token expired' },
  AUTHORIZATION_REVOKED: { code: 100200109, kind: 'notAuthorized', source: 'inferred', message: 'merchant revoked the authorization' },
  NOT_AUTHORIZED: { code: 100200111, kind: 'notAuthorized', source: 'inferred', message: 'mini-program has not authorized this component' },
  REFRESH_TOKEN_INVALID: { code: 100200113, kind: 'refreshTokenInvalid', source: 'inferred', message: 'refresh token invalid or expired' },
  TICKET_INVALID: { code: 100200114, kind: 'ticketInvalid', source: 'inferred', message: 'component ticket invalid or expired' },
  INTERNAL_ERROR: { code: 100200500, kind: 'transient', source: 'inferred', message: 'platform internal error' },
  RATE_LIMITED: { code: 400002, kind: 'rateLimited', source: 'inferred', message: 'api rate limit' },
  PERMISSION_DENIED: { code: 403001, kind: 'business', source: 'inferred', message: 'permission set not granted' },
  DOMAIN_NOT_REGISTERED: { code: 403101, kind: 'business', source: 'inferred', message: 'domain is not a registered component domain or its subdomain' },
  DOMAIN_SCHEME_INVALID: { code: 403102, kind: 'business', source: 'inferred', message: 'domain scheme does not fit its type' },
  DOMAIN_NOT_FOUND: { code: 403106, kind: 'business', source: 'doc', message: 'domain to delete does not exist' },
  TEMPLATE_NOT_FOUND: { code: 403201, kind: 'business', source: 'inferred', message: 'template not found' },
  EXT_JSON_INVALID: { code: 403202, kind: 'business', source: 'inferred', message: 'ext_json is not valid JSON' },
  EXT_NOT_ENABLED: { code: 403208, kind: 'business', source: 'inferred', message: 'ext.json must set extEnable: true' },
  EXT_APP_ID_MISMATCH: { code: 403209, kind: 'business', source: 'inferred', message: "ext.json's extAppId is not the calling mini-program" },
  EXT_PAGES_INVALID: { code: 403210, kind: 'business', source: 'inferred', message: "ext.json names pages or sub-packages the template does not have" },
  NO_DEV_VERSION: { code: 403203, kind: 'business', source: 'inferred', message: 'no development version to submit' },
  AUDIT_IN_PROGRESS: { code: 403204, kind: 'business', source: 'inferred', message: 'an audit is already in progress' },
  NOT_AUDITING: { code: 403205, kind: 'business', source: 'inferred', message: 'no audit in progress to withdraw' },
  NO_PASSED_AUDIT: { code: 403206, kind: 'business', source: 'inferred', message: 'no passed, unreleased audit version' },
  ROLLBACK_NOT_ALLOWED: { code: 403207, kind: 'business', source: 'inferred', message: 'no previous online version to roll back to' },
  CAPABILITY_IN_PROGRESS: { code: 403301, kind: 'business', source: 'inferred', message: 'capability application already in progress or approved' },
  JS_CODE_INVALID: { code: 403401, kind: 'business', source: 'inferred', message: 'js_code invalid, expired, used, or from another mini-program' },
  MESSAGE_TEMPLATE_INVALID: { code: 403501, kind: 'business', source: 'inferred', message: 'template_id is not a subscription message template of this mini-program' },
  MESSAGE_USER_INVALID: { code: 403502, kind: 'business', source: 'inferred', message: 'to_user is not a user of this mini-program' },
  MESSAGE_DATA_INVALID: { code: 403503, kind: 'business', source: 'inferred', message: 'data is not a JSON object of template fields' },
} as const satisfies Record<string, ErrorCodeRow>;

export type ErrorCodeName = keyof typeof ERROR_CODES;

const BY_CODE = new Map<number, { name: ErrorCodeName; row: ErrorCodeRow }>(
  (Object.entries(ERROR_CODES) as [ErrorCodeName, ErrorCodeRow][]).map(([name, row]) => [row.code, { name, row }]),
);

export function lookupErrorCode(code: number): { name: ErrorCodeName; row: ErrorCodeRow } | undefined {
  return BY_CODE.get(code);
}
