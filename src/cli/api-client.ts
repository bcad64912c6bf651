/**
 * The REST API over `fetch`, through openapi-fetch typed by the console's generated schema
 * (web/src/api/schema.d.ts, `npm run gen:api`): paths, parameters, bodies and answers as the server
 * declares them. Here: the base URL, `Authorization: Bearer <key>`, the timeout, and failures mapped to
 * exit codes (errors.ts) — all in the transport, so a call either answers its typed JSON or throws a
 * CliError.
 */
import createClient, { type Client } from 'openapi-fetch';
import { queryString } from '../../web/src/api/query-string.ts';
import type { paths } from '../../web/src/api/schema.d.ts';
import { ApiError, UnreachableError } from './errors.ts';

export interface ApiClientOptions {
  baseUrl: URL;
  key: string | undefined;
  /** For plain requests (not the event stream). */
  timeoutMs?: number;
}

export class ApiClient {
  private readonly timeoutMs: number;
  /** Typed calls: `await ok(api.rest.GET('/api/v1/rollouts/{id}', { params: { path: { id } } }))`. */
  readonly rest: Client<paths>;

  constructor(private readonly options: ApiClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    // A path prefix of the base URL is kept (`https://ops.example.com/ks/` → `/ks/api/v1/…`); its query is not.
    const root = this.url('');
    root.search = '';
    root.hash = '';
    this.rest = createClient<paths>({
      baseUrl: root.href,
      headers: this.headers({}),
      querySerializer: queryString,
      fetch: (request) => this.exchange(request),
    });
  }

  get hasKey(): boolean {
    return this.options.key !== undefined;
  }

  url(path: string): URL {
    const base = new URL(this.options.baseUrl);
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    return new URL(path.replace(/^\/+/, ''), base);
  }

  /** Opens a Server-Sent Events stream; answers with errors like the JSON calls. */
  async stream(path: string, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const response = await this.send(this.url(path), { headers: this.headers({ accept: 'text/event-stream' }), signal });
    if (!response.ok) throw errorOf(response, await response.text().catch(() => ''));
    if (!response.body) throw new ApiError(response.status, 'bad_response', 'the event stream has no body');
    return response.body;
  }

  /**
   * One JSON call under the timeout, body included: a server that cannot be reached or stops mid-answer
   * is `unreachable`, an error answer is the server's `ApiError`, a success that is not JSON is
   * `bad_response`. What openapi-fetch gets back is the same JSON (`{}` for an empty body).
   */
  private async exchange(request: Request): Promise<Response> {
    const response = await this.send(request, { signal: AbortSignal.timeout(this.timeoutMs) });
    const text = await response.text().catch((error: unknown) => {
      throw unreachable(this.options.baseUrl, error);
    });
    if (!response.ok) throw errorOf(response, text);
    try {
      JSON.parse(text === '' ? '{}' : text);
    } catch {
      throw new ApiError(response.status, 'bad_response', `the server answered ${response.status} with a body that is not JSON`);
    }
    const bodyless = response.status === 204 || response.status === 205 || response.status === 304;
    return new Response(bodyless ? null : text || '{}', { status: response.status, statusText: response.statusText, headers: { 'content-type': 'application/json' } });
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    return { ...extra, ...(this.options.key === undefined ? {} : { authorization: `Bearer ${this.options.key}` }) };
  }

  private async send(input: URL | Request, init: RequestInit): Promise<Response> {
    try {
      return await fetch(input, init);
    } catch (error) {
      // Aborted by us (Ctrl-C, end of a watch): not a connection problem.
      if (init.signal?.aborted && (init.signal.reason as { name?: unknown } | undefined)?.name !== 'TimeoutError') throw error;
      throw unreachable(this.options.baseUrl, error);
    }
  }
}

/**
 * The data of an openapi-fetch call. The transport has already thrown for every failure, so this only
 * narrows the answer's type (and stays honest should a response ever get past it).
 */
export async function ok<Data>(call: Promise<{ data?: Data; error?: unknown; response: Response }>): Promise<Data> {
  const { data, error, response } = await call;
  if (!response.ok) throw errorOf(response, typeof error === 'string' ? error : JSON.stringify(error ?? ''));
  return data as Data;
}

/** Every item of a paginated list: `fetchPage` is asked for each page, following nextCursor. */
export async function allPages<T>(fetchPage: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    items.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return items;
}

/** The server's error body, or a stand-in when it is not ours (a proxy's HTML page, an empty body). */
function errorOf(response: Response, text: string): ApiError {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; details?: unknown } };
    const error = body.error;
    if (error && typeof error.code === 'string') {
      const details = typeof error.details === 'object' && error.details !== null ? (error.details as Record<string, unknown>) : {};
      return new ApiError(response.status, error.code, typeof error.message === 'string' ? error.message : '', details);
    }
  } catch {
    // not JSON: fall through
  }
  return new ApiError(response.status, `http_${response.status}`, response.statusText || `HTTP ${response.status}`);
}

export function unreachable(baseUrl: URL, error: unknown): UnreachableError {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  const name = (error as { name?: unknown }).name;
  const reason =
    name === 'TimeoutError'
      ? 'timed out'
      : typeof cause?.code === 'string'
        ? cause.code
        : typeof cause?.message === 'string'
          ? cause.message
          : error instanceof Error
            ? error.message
            : String(error);
  return new UnreachableError(`cannot reach the server at ${baseUrl.origin} (${reason})`);
}
