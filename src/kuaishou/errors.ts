/**
 * The client's typed errors. Every failure the client raises is a `KuaishouError`; `error-factory.ts` is the
 * one place that decides which class a raw failure becomes. Messages are built from redacted text only.
 */

/** How a platform error code should be handled; see `ERROR_CODES` in `endpoints.ts`. */
export type ErrorKind =
  /** The access token in the request is invalid or expired: invalidate it, refresh once, retry once. */
  | 'tokenInvalid'
  /** The refresh token was rejected: recover through a re-authorization code. */
  | 'refreshTokenInvalid'
  /** The component ticket was rejected: wait for the next ticket push. */
  | 'ticketInvalid'
  /** The merchant has not authorized (or revoked) the component app. */
  | 'notAuthorized'
  /** The platform throttled us: retry later. */
  | 'rateLimited'
  /** The platform failed on its side: retry. */
  | 'transient'
  /** The request broke a rule: never retried. */
  | 'business';

interface KuaishouErrorOptions {
  operation: string;
  cause?: unknown;
}

export class KuaishouError extends Error {
  override name = 'KuaishouError';
  /** Our name of the operation that failed (`uploadCode`, `getComponentAccessToken`…). */
  readonly operation: string;
  /** How many requests were sent before giving up; set by the transport. */
  attempts = 1;

  constructor(message: string, options: KuaishouErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.operation = options.operation;
  }

  /** Whether sending the same request again may succeed. */
  get retryable(): boolean {
    return false;
  }
}

export interface KuaishouApiErrorOptions extends KuaishouErrorOptions {
  /** The platform's `result` code; null when the answer carried none (e.g. a bare HTTP 502). */
  code: number | null;
  /** Our symbolic name of the code, when the code table knows it. */
  codeName?: string;
  /** The platform's own message, redacted. */
  platformMessage: string;
  httpStatus: number;
  kind: ErrorKind;
}

/** The platform answered, and the answer is an error. */
export class KuaishouApiError extends KuaishouError {
  override name = 'KuaishouApiError';
  readonly code: number | null;
  readonly codeName: string | undefined;
  readonly platformMessage: string;
  readonly httpStatus: number;
  readonly kind: ErrorKind;

  constructor(message: string, options: KuaishouApiErrorOptions) {
    super(message, options);
    this.code = options.code;
    this.codeName = options.codeName;
    this.platformMessage = options.platformMessage;
    this.httpStatus = options.httpStatus;
    this.kind = options.kind;
  }

  override get retryable(): boolean {
    return this.kind === 'transient' || this.kind === 'rateLimited';
  }
}

/** The platform throttled the request (HTTP 429 or a rate-limit code). */
export class RateLimitedError extends KuaishouApiError {
  override name = 'RateLimitedError';
  /** From `retry-after`, when the platform sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: KuaishouApiErrorOptions & { retryAfterMs?: number }) {
    super(message, options);
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The request never got an HTTP answer (connection refused, reset, DNS…). */
export class TransportError extends KuaishouError {
  override name = 'TransportError';
  /** The system error code, e.g. `ECONNREFUSED`, when known. */
  readonly systemCode: string | undefined;
  /** True when the caller's own signal aborted the request: never retried. */
  readonly aborted: boolean;

  constructor(message: string, options: KuaishouErrorOptions & { systemCode?: string; aborted?: boolean }) {
    super(message, options);
    this.systemCode = options.systemCode;
    this.aborted = options.aborted ?? false;
  }

  /** The request provably never reached the platform, so even a non-idempotent call may be resent. */
  get notSent(): boolean {
    return this.systemCode === 'ECONNREFUSED' || this.systemCode === 'ENOTFOUND' || this.systemCode === 'EAI_AGAIN';
  }

  override get retryable(): boolean {
    return !this.aborted;
  }
}

/** No answer within the per-request timeout. */
export class TimeoutError extends KuaishouError {
  override name = 'TimeoutError';
  readonly timeoutMs: number;

  constructor(message: string, options: KuaishouErrorOptions & { timeoutMs: number }) {
    super(message, options);
    this.timeoutMs = options.timeoutMs;
  }

  override get retryable(): boolean {
    return true;
  }
}

/** The platform answered success, but not in the shape the contract describes. */
export class UnexpectedResponseError extends KuaishouError {
  override name = 'UnexpectedResponseError';
  /** The response field the decoder stumbled on (`data.latest.user_version`), when one did: a name, never a value. */
  readonly field: string | undefined;

  constructor(message: string, options: KuaishouErrorOptions & { field?: string }) {
    super(message, options);
    this.field = options.field;
  }
}

/** No valid component ticket is stored yet: the platform pushes one after `startPushTicket`. */
export class NoTicketError extends KuaishouError {
  override name = 'NoTicketError';
}

/** The merchant has no usable authorization: it must authorize the component app (again). */
export class NotAuthorizedError extends KuaishouError {
  override name = 'NotAuthorizedError';
  readonly appId: string;

  constructor(message: string, options: KuaishouErrorOptions & { appId: string }) {
    super(message, options);
    this.appId = options.appId;
  }
}

/** Another instance holds the refresh lease for too long. */
export class TokenLeaseTimeoutError extends KuaishouError {
  override name = 'TokenLeaseTimeoutError';

  override get retryable(): boolean {
    return true;
  }
}

export function isTokenInvalid(error: unknown): error is KuaishouApiError {
  return error instanceof KuaishouApiError && error.kind === 'tokenInvalid';
}

/** Why an incoming push was refused. */
export type PushErrorCode =
  | 'bad_signature'
  | 'bad_envelope'
  | 'bad_key'
  | 'bad_ciphertext'
  | 'bad_plaintext'
  | 'wrong_component'
  | 'bad_event';

/** A push that cannot be trusted or read. Never carries the body, the key or the token. */
export class PushError extends Error {
  override name = 'PushError';
  readonly code: PushErrorCode;

  constructor(code: PushErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
