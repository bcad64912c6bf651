import { ERROR_CODES, MESSAGE_FIELD, type ErrorCodeName, type ResponseStyle } from '../kuaishou/endpoints.ts';

/** A rule the platform enforces, broken: answered as `{result: <code>, errorMsg|error_msg}`. */
export class SandboxError extends Error {
  override name = 'SandboxError';
  readonly code: number;

  constructor(
    readonly codeName: ErrorCodeName,
    message: string = ERROR_CODES[codeName].message,
    readonly httpStatus = 200,
  ) {
    super(message);
    this.code = ERROR_CODES[codeName].code;
  }

  body(style: ResponseStyle): Record<string, unknown> {
    return { result: this.code, [MESSAGE_FIELD[style]]: this.message };
  }
}
