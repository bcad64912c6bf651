/**
 * Fleet's errors, by type (as Medusa's MedusaError): the business layer says what went wrong; only the
 * HTTP layer maps types to status codes. Messages are safe to show to an operator.
 */
export type FleetErrorType =
  /** Input that breaks a rule we check ourselves (400). */
  | 'invalid_data'
  /** No such merchant, template, key… (404). */
  | 'not_found'
  /** The request does not fit the current state, e.g. the merchant revoked its authorization (409). */
  | 'conflict'
  /** The caller's role may not do this (403). */
  | 'not_allowed'
  /** The platform refused: a business error code from Kuaishou (422; its code in details). */
  | 'platform_rejected'
  /** The platform could not be reached or failed on its side (502/503). */
  | 'upstream_unavailable';

export class FleetError extends Error {
  override name = 'FleetError';

  constructor(
    readonly type: FleetErrorType,
    /** Stable machine-readable code, e.g. `merchant_not_found`, `platform_error`. */
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const notFound = (what: string, id: string): FleetError => new FleetError('not_found', `${what}_not_found`, `${what} ${id} not found`);
export const invalid = (message: string, details: Record<string, unknown> = {}): FleetError =>
  new FleetError('invalid_data', 'invalid_request', message, details);
export const conflict = (code: string, message: string, details: Record<string, unknown> = {}): FleetError =>
  new FleetError('conflict', code, message, details);
