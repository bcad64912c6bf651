/**
 * `createRuntimeClient`: the page side of ks-isv's session routes (docs/runtime.md, `/runtime/v1`). It logs
 * in with a `ks.login` code, keeps the session token in storage, sends it as a bearer, and turns every
 * failure into a `RuntimeClientError`.
 */
import { RuntimeClientError } from './errors.ts';
import type { LoginResult, Me, PhoneDetail, PhoneNumber, RuntimeClient, RuntimeClientOptions, RuntimeMethod, RuntimeResponse } from './types.ts';

/** The storage key of an app's session token: one per merchant, so templates sharing a device never mix. */
export function sessionStorageKey(appId: string): string {
  return `ks-isv:session:${appId}`;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

function badResponse(status: number, what: string): RuntimeClientError {
  return new RuntimeClientError(status, 'bad_response', `unexpected answer (HTTP ${status}): ${what}`);
}

function headerValue(header: Record<string, string> | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const [key, value] of Object.entries(header)) if (key.toLowerCase() === name) return value;
  return undefined;
}

/** A non-2xx answer as an error: the server's `{error: {code, message, details}}`, else `bad_response`. */
function errorOf(response: RuntimeResponse): RuntimeClientError {
  const status = response.statusCode;
  const error = isObject(response.data) ? response.data.error : undefined;
  if (!isObject(error) || typeof error.code !== 'string') return badResponse(status, 'not a ks-isv error body');
  const retryAfter = Number(headerValue(response.header, 'retry-after'));
  return new RuntimeClientError(
    status,
    error.code,
    typeof error.message === 'string' ? error.message : error.code,
    isObject(error.details) ? error.details : {},
    Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter : undefined,
  );
}

const isSessionInvalid = (error: unknown): boolean => error instanceof RuntimeClientError && error.code === 'session_invalid';

function readLogin(status: number, data: unknown): { token: string; result: LoginResult } {
  if (!isObject(data) || typeof data.sessionToken !== 'string' || typeof data.openId !== 'string' || typeof data.expiresAt !== 'number') {
    throw badResponse(status, 'POST /sessions wants {sessionToken, openId, expiresAt}');
  }
  return { token: data.sessionToken, result: { openId: data.openId, expiresAt: data.expiresAt } };
}

function readMe(status: number, data: unknown): Me {
  const stringOrNull = (value: unknown): value is string | null => value === null || typeof value === 'string';
  if (
    !isObject(data) ||
    typeof data.appId !== 'string' ||
    typeof data.openId !== 'string' ||
    !isObject(data.merchant) ||
    !stringOrNull(data.merchant.name) ||
    !isObject(data.ext) ||
    !stringOrNull(data.phone)
  ) {
    throw badResponse(status, 'GET /me wants {appId, openId, merchant: {name}, ext, phone}');
  }
  return { appId: data.appId, openId: data.openId, merchant: { name: data.merchant.name }, ext: data.ext, phone: data.phone };
}

function readPhone(status: number, data: unknown): PhoneNumber {
  if (!isObject(data) || typeof data.phoneNumber !== 'string' || typeof data.purePhoneNumber !== 'string' || typeof data.countryCode !== 'string') {
    throw badResponse(status, 'POST /me/phone wants {phoneNumber, purePhoneNumber, countryCode}');
  }
  return { phoneNumber: data.phoneNumber, purePhoneNumber: data.purePhoneNumber, countryCode: data.countryCode };
}

/** The client for one merchant's mini-program; see `RuntimeClient` for each method. */
export function createRuntimeClient(options: RuntimeClientOptions): RuntimeClient {
  const baseUrl = options.baseUrl.replace(/\/+$/, '');
  const key = sessionStorageKey(options.appId);
  const autoRelogin = options.autoRelogin ?? true;
  const { storage } = options;
  let inFlight: Promise<{ token: string; result: LoginResult }> | undefined;

  async function send(method: RuntimeMethod, path: string, data: Json | undefined, token: string | undefined): Promise<RuntimeResponse> {
    const header: Record<string, string> = {};
    if (token !== undefined) header.Authorization = `Bearer ${token}`;
    let response: RuntimeResponse;
    try {
      response = await options.request(data === undefined ? { url: baseUrl + path, method, header } : { url: baseUrl + path, method, header, data });
    } catch (error) {
      if (error instanceof RuntimeClientError) throw error;
      throw new RuntimeClientError(0, 'network_error', error instanceof Error ? error.message : String(error));
    }
    if (!isObject(response) || typeof response.statusCode !== 'number') throw badResponse(0, 'the transport gave no statusCode');
    if (response.statusCode < 200 || response.statusCode > 299) throw errorOf(response);
    return response;
  }

  /** Removes the token only if it is still the one that failed (a concurrent login may have stored a newer one). */
  async function forget(token: string): Promise<void> {
    if ((await storage.get(key)) === token) await storage.remove(key);
  }

  /** One login at a time: concurrent callers (and relogins) share it. */
  function loginOnce(): Promise<{ token: string; result: LoginResult }> {
    inFlight ??= (async () => {
      let code: string;
      try {
        code = await options.login();
      } catch (error) {
        if (error instanceof RuntimeClientError) throw error;
        throw new RuntimeClientError(0, 'login_failed', error instanceof Error ? error.message : String(error));
      }
      const response = await send('POST', '/sessions', { appId: options.appId, code }, undefined);
      const session = readLogin(response.statusCode, response.data);
      await storage.set(key, session.token);
      return session;
    })().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  /** A session call: on `session_invalid`, forget the token, then (autoRelogin) log in once and retry once. */
  async function withSession<T>(method: RuntimeMethod, path: string, data: Json | undefined, read: (status: number, data: unknown) => T): Promise<T> {
    const token = await storage.get(key);
    if (token === undefined || token === '') throw new RuntimeClientError(0, 'not_logged_in', 'no session: call login() first');
    const attempt = async (bearer: string): Promise<T> => {
      try {
        const response = await send(method, path, data, bearer);
        return read(response.statusCode, response.data);
      } catch (error) {
        if (isSessionInvalid(error)) await forget(bearer);
        throw error;
      }
    };
    try {
      return await attempt(token);
    } catch (error) {
      if (!autoRelogin || !isSessionInvalid(error)) throw error;
    }
    const fresh = await loginOnce();
    return attempt(fresh.token);
  }

  return {
    login: async () => (await loginOnce()).result,
    me: () => withSession('GET', '/me', undefined, readMe),
    bindPhone: (detail: PhoneDetail) => withSession('POST', '/me/phone', { encryptedData: detail.encryptedData, iv: detail.iv }, readPhone),
    logout: async () => {
      const token = await storage.get(key);
      if (token === undefined || token === '') return;
      try {
        // An empty JSON object, not no body: ks.request may set `content-type: application/json` on every
        // call, and a JSON parser (Fastify's) refuses an empty body with that type (400).
        await send('DELETE', '/sessions/current', {}, token);
      } catch (error) {
        if (!isSessionInvalid(error)) throw error;
      } finally {
        await forget(token);
      }
    },
    sessionToken: async () => {
      const token = await storage.get(key);
      return token === '' ? undefined : token;
    },
  };
}
