/**
 * The console's only way to the server: the REST API with the API key (kept in sessionStorage) as a
 * Bearer header. Errors come back as `ApiError` with the server's code, message and details.
 */
const KEY_ITEM = 'ks-isv.apiKey';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

type Listener = () => void;
const listeners = new Set<Listener>();

export const session = {
  key: (): string | null => sessionStorage.getItem(KEY_ITEM),
  signIn: (key: string): void => {
    sessionStorage.setItem(KEY_ITEM, key);
    listeners.forEach((listener) => listener());
  },
  signOut: (): void => {
    sessionStorage.removeItem(KEY_ITEM);
    listeners.forEach((listener) => listener());
  },
  subscribe: (listener: Listener): (() => void) => {
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  },
};

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const key = session.key();
  return { ...(key ? { authorization: `Bearer ${key}` } : {}), ...extra };
}

async function failure(response: Response): Promise<ApiError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  const error = (body as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined)?.error;
  return new ApiError(response.status, error?.code ?? `http_${response.status}`, error?.message ?? response.statusText, error?.details ?? {});
}

async function send(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
  const response = await fetch(path, {
    method,
    headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }),
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    ...(signal ? { signal } : {}),
  });
  if (!response.ok) throw await failure(response);
  return response;
}

export async function apiGet<T>(path: string, signal?: AbortSignal): Promise<T> {
  return (await (await send('GET', path, undefined, signal)).json()) as T;
}

export async function apiSend<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
  return (await (await send(method, path, body)).json()) as T;
}

export async function apiBlob(path: string, signal?: AbortSignal): Promise<Blob> {
  return (await send('GET', path, undefined, signal)).blob();
}

/** A query string from the defined, non-empty values. */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

export interface SseEvent {
  event: string;
  data: string;
}

/**
 * Server-Sent Events over fetch: EventSource cannot send the Authorization header, so the stream is read
 * with a ReadableStream and parsed here (`event:`/`data:` fields, blank line dispatches, `:` comments).
 */
export async function* streamEvents(path: string, signal: AbortSignal): AsyncGenerator<SseEvent, void, undefined> {
  const response = await send('GET', path, undefined, signal);
  if (!response.body) return;
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = '';
  let data: string[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true });
      const lines = buffer.split(/\r\n|\n|\r(?!$)/);
      buffer = done ? '' : (lines.pop() ?? '');
      for (const line of lines) {
        if (line === '') {
          if (data.length > 0) yield { event: event || 'message', data: data.join('\n') };
          event = '';
          data = [];
        } else if (!line.startsWith(':')) {
          const colon = line.indexOf(':');
          const field = colon === -1 ? line : line.slice(0, colon);
          const text = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'event') event = text;
          else if (field === 'data') data.push(text);
        }
      }
      if (done) return;
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** Asks the server who a key is, before keeping it. */
export async function verifyKey(key: string): Promise<{ keyId: string | null; role: string }> {
  const response = await fetch('/api/v1/me', { headers: { authorization: `Bearer ${key}` } });
  if (!response.ok) throw await failure(response);
  return (await response.json()) as { keyId: string | null; role: string };
}
