/**
 * The runtime's errors, by type (as fleet's): the business layer says what went wrong; only the HTTP
 * layer maps types to status codes. Messages are safe to show to a mini-program's page.
 */
export type RuntimeErrorType =
  /** Input that breaks a rule we check (400). */
  | 'invalid_data'
  /** No credential, or one that is not (or no longer) valid: a code, a session (401). */
  | 'unauthenticated'
  /** Known caller, not allowed here: a merchant not authorized, a capability not approved (403). */
  | 'not_allowed'
  /** No such user of this merchant… (404). */
  | 'not_found'
  /** The platform refused (422, its code in details). */
  | 'platform_rejected'
  /** The platform could not be reached (502/503). */
  | 'upstream_unavailable';

export class RuntimeError extends Error {
  override name = 'RuntimeError';

  constructor(
    readonly type: RuntimeErrorType,
    /** Stable machine-readable code: `session_invalid`, `code_invalid`, `merchant_not_authorized`… */
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const sessionInvalid = (): RuntimeError =>
  new RuntimeError('unauthenticated', 'session_invalid', 'the session is not valid (unknown, expired or logged out): log in again');

export const merchantNotAuthorized = (appId: string): RuntimeError =>
  new RuntimeError('not_allowed', 'merchant_not_authorized', `${appId} has not authorized the provider (or revoked it)`, { appId });
