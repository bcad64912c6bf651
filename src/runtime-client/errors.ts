/** The one error type the runtime client rejects with. */

/** Codes the client itself gives (the server's codes, `session_invalid` and the rest, pass through as sent). */
export type ClientErrorCode = 'network_error' | 'not_logged_in' | 'bad_response' | 'login_failed';

/**
 * Why a call failed: `status` is the HTTP status (0 when no answer came or the client refused before
 * calling), `code` the server's `error.code` (docs/runtime.md) or one of `ClientErrorCode`.
 */
export class RuntimeClientError extends Error {
  override name = 'RuntimeClientError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The server's `error.details` (`{}` when it sent none). */
    readonly details: Record<string, unknown> = {},
    /** Seconds from a 429's `retry-after`, when present. */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/** True for a `RuntimeClientError` with that code (works across bundle copies, unlike `instanceof`). */
export function isRuntimeClientError(error: unknown, code?: string): error is RuntimeClientError {
  if (typeof error !== 'object' || error === null) return false;
  const candidate = error as { name?: unknown; code?: unknown };
  return candidate.name === 'RuntimeClientError' && (code === undefined || candidate.code === code);
}
