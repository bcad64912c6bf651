/** The REST API over `fetch`: JSON in and out, `Authorization: Bearer <key>`, errors mapped to exit codes. */
import { ApiError, UnreachableError } from './errors.ts';

export type Query = Record<string, string | number | boolean | undefined>;

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface ApiClientOptions {
  baseUrl: URL;
  key: string | undefined;
  /** For plain requests (not the event stream). */
  timeoutMs?: number;
}

export class ApiClient {
  private readonly timeoutMs: number;

  constructor(private readonly options: ApiClientOptions) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  get hasKey(): boolean {
    return this.options.key !== undefined;
  }

  url(path: string, query: Query = {}): URL {
    const base = new URL(this.options.baseUrl);
    if (!base.pathname.endsWith('/')) base.pathname += '/';
    const url = new URL(path.replace(/^\/+/, ''), base);
    for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, String(value));
    return url;
  }

  get<T>(path: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, { query });
  }

  /** POSTs always send a JSON body (`{}` when there is nothing to say). */
  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, { body });
  }

  async request<T>(method: string, path: string, init: { query?: Query | undefined; body?: unknown } = {}): Promise<T> {
    const response = await this.send(this.url(path, init.query), {
      method,
      headers: this.headers(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const text = await response.text().catch((error: unknown) => {
      throw unreachable(this.options.baseUrl, error);
    });
    if (!response.ok) throw errorOf(response, text);
    try {
      return (text === '' ? {} : JSON.parse(text)) as T;
    } catch {
      throw new ApiError(response.status, 'bad_response', `the server answered ${response.status} with a body that is not JSON`);
    }
  }

  /** Opens a Server-Sent Events stream; answers with errors like `request`. */
  async stream(path: string, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    const response = await this.send(this.url(path), { headers: this.headers({ accept: 'text/event-stream' }), signal });
    if (!response.ok) throw errorOf(response, await response.text().catch(() => ''));
    if (!response.body) throw new ApiError(response.status, 'bad_response', 'the event stream has no body');
    return response.body;
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    return { ...extra, ...(this.options.key === undefined ? {} : { authorization: `Bearer ${this.options.key}` }) };
  }

  private async send(url: URL, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, init);
    } catch (error) {
      // Aborted by us (Ctrl-C, end of a watch): not a connection problem.
      if (init.signal?.aborted && (init.signal.reason as { name?: unknown } | undefined)?.name !== 'TimeoutError') throw error;
      throw unreachable(this.options.baseUrl, error);
    }
  }
}

/** Every item of a paginated list, following nextCursor, `pageSize` per request. */
export async function allPages<T>(api: ApiClient, path: string, query: Query, pageSize: number): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await api.get<Page<T>>(path, { ...query, limit: pageSize, cursor });
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
