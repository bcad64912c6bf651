/**
 * The console's only way to the server: the REST API through openapi-fetch, typed by schema.d.ts (paths,
 * parameters, bodies and answers as the server declares them), with the API key (kept in sessionStorage)
 * as a Bearer header. Errors come back as `ApiError` with the server's code, message and details.
 */
import createClient, { type Middleware } from 'openapi-fetch';
import { queryString } from './query-string.ts';
import type { paths } from './schema.d.ts';
import type { ErrorBody } from './shapes.ts';
import { readEvents, type SseEvent } from './sse.ts';

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

// The key is read on every request (a sign-out takes effect at once); a call that brings its own
// Authorization (checking a key before keeping it) keeps it.
const bearer: Middleware = {
  onRequest({ request }) {
    const key = session.key();
    if (key && !request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${key}`);
    return request;
  },
};

/** Same-origin: paths are relative to the page, so the console works wherever the server serves it. */
export const api = createClient<paths>({ querySerializer: queryString });
api.use(bearer);

function errorOf(response: Response, body: unknown): ApiError {
  const error = (body as Partial<ErrorBody> | undefined)?.error;
  return new ApiError(response.status, error?.code ?? `http_${response.status}`, error?.message ?? response.statusText, error?.details ?? {});
}

/**
 * The answer of an openapi-fetch call, typed by its path and method, or its failure as `ApiError`:
 * `ok(api.GET('/api/v1/merchants/{appId}', { params: { path: { appId } }, signal }))`.
 */
export async function ok<Data>(call: Promise<{ data?: Data; error?: unknown; response: Response }>): Promise<Data> {
  const { data, error, response } = await call;
  if (!response.ok) throw errorOf(response, typeof error === 'string' ? undefined : error);
  return data as Data;
}

/**
 * A rollout's live events (`GET /api/v1/rollouts/:id/events`: `progress` with a RolloutWithProgress, `end`
 * with a RolloutEnd): EventSource cannot send the Authorization header, so the stream is read with fetch
 * and parsed by the SSE reader the CLI uses too.
 */
export async function* streamEvents(rolloutId: string, signal: AbortSignal): AsyncGenerator<SseEvent, void, undefined> {
  const body = await ok(api.GET('/api/v1/rollouts/{id}/events', { params: { path: { id: rolloutId } }, parseAs: 'stream', signal }));
  if (body) yield* readEvents(body);
}

/** Asks the server who a key is, before keeping it. */
export function verifyKey(key: string) {
  return ok(api.GET('/api/v1/me', { headers: { authorization: `Bearer ${key}` } }));
}
