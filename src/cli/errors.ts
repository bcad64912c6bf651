/** Everything that ends the CLI with a non-zero exit code, and the code it ends with. */

export const EXIT = {
  ok: 0,
  api: 1,
  usage: 2,
  unreachable: 3,
  notAvailable: 4,
  watchFailed: 5,
  /** `probe`: a row that was tried differs from the table or was refused (the API itself answered). */
  probeFailed: 1,
} as const;

export abstract class CliError extends Error {
  abstract readonly exitCode: number;
}

/** Unknown command or option, missing or invalid argument. `hint` says where to look. */
export class UsageError extends CliError {
  readonly exitCode = EXIT.usage;
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** The server answered with an error: `{"error": {"code", "message", "details"}}`. */
export class ApiError extends CliError {
  readonly exitCode = EXIT.api;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** No answer at all: connection refused, DNS, timeout, or the event stream lost twice. */
export class UnreachableError extends CliError {
  readonly exitCode = EXIT.unreachable;
}

/** The server does not have this feature (yet). */
export class NotAvailableError extends CliError {
  readonly exitCode = EXIT.notAvailable;
}
