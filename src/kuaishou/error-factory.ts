import { isRecord } from './decode.ts';
import { lookupErrorCode, MESSAGE_FIELD, type ResponseStyle } from './endpoints.ts';
import type {
  KuaishouError} from './errors.ts';
import {
  KuaishouApiError,
  RateLimitedError,
  TimeoutError,
  TransportError,
  UnexpectedResponseError,
  type ErrorKind,
} from './errors.ts';
import { redact } from './redact.ts';

/** Everything the factory may be told about one failed request. */
export type FailureReport =
  | {
      /** The platform answered: an HTTP error, or a JSON body whose `result` is not success. */
      type: 'answer';
      operation: string;
      style: ResponseStyle;
      httpStatus: number;
      /** The parsed JSON body, when there was one. */
      body: unknown;
      retryAfter?: string | null;
      /** Credential values sent with the request: scrubbed from any text we keep. */
      secrets: readonly string[];
    }
  | {
      /** No answer: fetch threw, or our timeout fired. */
      type: 'no-answer';
      operation: string;
      error: unknown;
      timedOut: boolean;
      timeoutMs: number;
      aborted: boolean;
      secrets: readonly string[];
    };

/** THE error factory: one raw failure in, one typed `KuaishouError` out, its text redacted. */
export function createKuaishouError(report: FailureReport): KuaishouError {
  if (report.type === 'no-answer') return fromNoAnswer(report);
  const { operation, httpStatus, secrets } = report;
  const body = isRecord(report.body) ? report.body : undefined;
  const rawCode = body?.result;
  const code = typeof rawCode === 'number' && Number.isInteger(rawCode) ? rawCode : null;
  const rawMessage = body?.[MESSAGE_FIELD[report.style]];
  const platformMessage = redact(typeof rawMessage === 'string' ? rawMessage : '', secrets);
  const known = code === null ? undefined : lookupErrorCode(code);

  if (httpStatus < 400 && code === null) {
    return new UnexpectedResponseError(`${operation}: the platform answered HTTP ${httpStatus} without a result code`, {
      operation,
    });
  }

  let kind: ErrorKind;
  if (httpStatus === 429 || known?.row.kind === 'rateLimited') kind = 'rateLimited';
  else if (known) kind = known.row.kind;
  else if (httpStatus >= 500 || (httpStatus >= 400 && code === null)) kind = httpStatus >= 500 ? 'transient' : 'business';
  else kind = 'business';

  const label = code === null ? `HTTP ${httpStatus}` : `${code}${known ? ` ${known.name}` : ''}`;
  const message = `${operation} failed: ${label}${platformMessage ? `: ${platformMessage}` : ''}`;
  const options = {
    operation,
    code,
    platformMessage,
    httpStatus,
    kind,
    ...(known ? { codeName: known.name } : {}),
  };
  if (kind === 'rateLimited') {
    const retryAfterMs = parseRetryAfter(report.retryAfter);
    return new RateLimitedError(message, { ...options, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
  }
  return new KuaishouApiError(message, options);
}

function fromNoAnswer(report: Extract<FailureReport, { type: 'no-answer' }>): KuaishouError {
  const { operation, secrets } = report;
  if (report.timedOut) {
    return new TimeoutError(`${operation} timed out after ${report.timeoutMs} ms`, {
      operation,
      timeoutMs: report.timeoutMs,
    });
  }
  const systemCode = systemCodeOf(report.error);
  const reason = redact(describe(report.error), secrets);
  if (report.aborted) {
    return new TransportError(`${operation} was aborted by the caller`, { operation, aborted: true });
  }
  // The cause is kept out on purpose: undici errors can carry the full URL, query string and all.
  return new TransportError(`${operation}: no answer from the platform (${reason})`, {
    operation,
    ...(systemCode ? { systemCode } : {}),
  });
}

function describe(error: unknown): string {
  const code = systemCodeOf(error);
  if (code) return code;
  if (error instanceof Error) return error.message;
  return 'unknown transport failure';
}

function systemCodeOf(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 4; depth++) {
    if (isRecord(e) || e instanceof Error) {
      const code = (e as { code?: unknown }).code;
      if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
      e = (e as { cause?: unknown }).cause;
    } else break;
  }
  return undefined;
}

function parseRetryAfter(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  const secondsValue = Number(value);
  if (Number.isFinite(secondsValue) && secondsValue >= 0) return secondsValue * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
