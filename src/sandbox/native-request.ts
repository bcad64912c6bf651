/**
 * `ks.request`, the native layer of a mini-program: the sandbox itself makes the HTTP request the page asks
 * for and answers like the success callback (`{statusCode, data, header}`), or refuses with `request:fail …`.
 * The rule: https to one of the app's `request` server domains — except loopback hosts (http or https),
 * which pass as the developer tools' "不校验合法域名" switch lets them.
 */
import type { MiniAppRecord } from './model.ts';
import { MiniProgramError } from './rules/users.ts';

export const NATIVE_REQUEST_TIMEOUT_MS = 10_000;
export const MAX_NATIVE_RESPONSE_BYTES = 4 * 1024 * 1024;
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH'] as const;
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
/** Headers the page may not set: fetch computes them. */
const DROPPED_HEADERS = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'keep-alive', 'upgrade']);

export type DomainCheck = 'passed' | 'skipped (loopback, as the developer tools allow)';

export interface NativeRequestAnswer {
  statusCode: number;
  /** Parsed JSON when the body is JSON (ks.request's default dataType), else the text. */
  data: unknown;
  header: Record<string, string>;
  domainCheck: DomainCheck;
}

function refuse(status: number, code: string, reason: string): never {
  throw new MiniProgramError(status, code, reason, `request:fail ${reason}`);
}

/** The domain rule alone: which check applied, or a refusal. */
export function checkRequestUrl(app: MiniAppRecord, raw: unknown): { url: URL; domainCheck: DomainCheck } {
  if (typeof raw !== 'string' || !URL.canParse(raw)) refuse(400, 'invalid_request', 'invalid url');
  const url = new URL(raw);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') refuse(400, 'invalid_request', 'invalid url');
  if (LOOPBACK_HOSTS.has(url.hostname.toLowerCase())) return { url, domainCheck: 'skipped (loopback, as the developer tools allow)' };
  const origin = `https://${url.host.toLowerCase()}`;
  if (url.protocol !== 'https:' || !app.serverDomains.request.includes(origin)) refuse(403, 'url_not_in_domain_list', 'url not in domain list');
  return { url, domainCheck: 'passed' };
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

function formText(data: Record<string, unknown>): string {
  return new URLSearchParams(Object.entries(data).map(([name, value]): [string, string] => [name, text(value)])).toString();
}

export async function nativeRequest(app: MiniAppRecord, body: Record<string, unknown>): Promise<NativeRequestAnswer> {
  const { url, domainCheck } = checkRequestUrl(app, body.url);
  const method = body.method === undefined ? 'GET' : typeof body.method === 'string' ? body.method.toUpperCase() : '';
  if (!(METHODS as readonly string[]).includes(method)) refuse(400, 'invalid_request', `method must be one of ${METHODS.join(', ')}`);
  const given = body.header ?? {};
  if (typeof given !== 'object' || given === null || Array.isArray(given)) refuse(400, 'invalid_request', 'header must be an object');
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(given as Record<string, unknown>)) {
    if (typeof value !== 'string' && typeof value !== 'number') refuse(400, 'invalid_request', `header ${name} must be text`);
    if (!DROPPED_HEADERS.has(name.toLowerCase())) headers[name.toLowerCase()] = String(value);
  }
  const { data } = body;
  let payload: string | undefined;
  if (method === 'GET' || method === 'HEAD') {
    // As ks.request does: GET data becomes the query string.
    if (typeof data === 'object' && data !== null && !Array.isArray(data)) {
      for (const [name, value] of Object.entries(data as Record<string, unknown>)) url.searchParams.append(name, text(value));
    } else if (typeof data === 'string' && data !== '') {
      url.search = url.search ? `${url.search}&${data}` : `?${data}`;
    }
  } else if (data !== undefined && data !== null) {
    // JSON unless the page says otherwise; no body, no content-type (a JSON parser refuses an empty body).
    const contentType = (headers['content-type'] ??= 'application/json');
    const form = contentType.startsWith('application/x-www-form-urlencoded');
    payload = typeof data === 'string' ? data : form && typeof data === 'object' && !Array.isArray(data) ? formText(data as Record<string, unknown>) : JSON.stringify(data);
  }
  let response: Response;
  let bytes: ArrayBuffer;
  try {
    response = await fetch(url, {
      method,
      headers,
      ...(payload === undefined ? {} : { body: payload }),
      redirect: 'manual',
      signal: AbortSignal.timeout(NATIVE_REQUEST_TIMEOUT_MS),
    });
    bytes = await response.arrayBuffer();
  } catch (error) {
    if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) refuse(422, 'request_failed', 'timeout');
    const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
    refuse(422, 'request_failed', typeof cause?.code === 'string' ? cause.code : 'network error');
  }
  if (bytes.byteLength > MAX_NATIVE_RESPONSE_BYTES) refuse(422, 'request_failed', 'response too large');
  const bodyText = Buffer.from(bytes).toString('utf8');
  let parsed: unknown = bodyText;
  if (bodyText !== '') {
    try {
      parsed = JSON.parse(bodyText);
    } catch {
      parsed = bodyText;
    }
  }
  const header: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    header[name] = value;
  });
  return { statusCode: response.status, data: parsed, header, domainCheck };
}
