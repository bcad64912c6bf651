/**
 * Adapters from the injectable ports (`RequestFn`, `RuntimeStorage`, `LoginFn`) to what a page has: the
 * Kuaishou mini-program API (`ks`, callback style) or `fetch` (tests, a web view, Node). The `ks` shapes
 * are typed here, minimally: only what the adapters call.
 */
import { RuntimeClientError } from './errors.ts';
import type { LoginFn, RequestFn, RuntimeRequest, RuntimeResponse, RuntimeStorage } from './types.ts';

/** The part of `fetch` the adapter uses (the global `fetch` of Node 20 and browsers fits). */
export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body?: string }) => Promise<FetchResponseLike>;

/** The part of a fetch `Response` the adapter reads. */
export interface FetchResponseLike {
  status: number;
  headers: { forEach(callback: (value: string, key: string) => void): void };
  text(): Promise<string>;
}

/** `ks.request`'s options, as far as the adapter sets them. */
export interface KsRequestOptions {
  url: string;
  method: string;
  data?: Record<string, unknown>;
  header?: Record<string, string>;
  dataType?: 'json';
  success: (result: { statusCode: number; data: unknown; header?: Record<string, string> }) => void;
  fail: (error: KsFail) => void;
}

/** What a `ks` API's `fail` callback receives. */
export interface KsFail {
  errMsg?: string;
}

/** `ks` with `request` (network). */
export interface KsRequestApi {
  request(options: KsRequestOptions): unknown;
}

/** `ks` with the synchronous storage calls. */
export interface KsStorageApi {
  getStorageSync(key: string): unknown;
  setStorageSync(key: string, value: string): void;
  removeStorageSync(key: string): void;
}

/** `ks` with `login` (gives a js_code for code2session). */
export interface KsLoginApi {
  login(options: { success: (result: { code?: string }) => void; fail: (error: KsFail) => void }): unknown;
}

/** Parses a body as `ks.request` with `dataType: 'json'` does: JSON when it parses, else the text. */
function parseBody(text: string): unknown {
  if (text === '') return '';
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A `RequestFn` over `fetch` (defaults to the global one): for tests, Node and web views. */
export function fetchRequest(fetchImpl: FetchLike = globalThis.fetch): RequestFn {
  if (typeof fetchImpl !== 'function') throw new TypeError('fetchRequest: no fetch here; pass one, or use ksRequest(ks) in a mini-program');
  return async (request: RuntimeRequest): Promise<RuntimeResponse> => {
    const headers: Record<string, string> = { ...request.header };
    const init: { method: string; headers: Record<string, string>; body?: string } = { method: request.method, headers };
    if (request.data !== undefined) {
      init.body = JSON.stringify(request.data);
      if (!Object.keys(headers).some((name) => name.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
    }
    const response = await fetchImpl(request.url, init);
    const header: Record<string, string> = {};
    response.headers.forEach((value, key) => {
      header[key] = value;
    });
    return { statusCode: response.status, data: parseBody(await response.text()), header };
  };
}

/**
 * A `RequestFn` over `ks.request`: it calls `success` for every HTTP answer (4xx/5xx too, `statusCode`
 * set) and `fail` only when none came, which is the contract `RequestFn` asks for.
 */
export function ksRequest(ks: KsRequestApi): RequestFn {
  return (request: RuntimeRequest) =>
    new Promise<RuntimeResponse>((resolve, reject) => {
      const options: KsRequestOptions = {
        url: request.url,
        method: request.method,
        header: { ...request.header },
        dataType: 'json',
        success: (result) => resolve({ statusCode: result.statusCode, data: result.data, header: result.header ?? {} }),
        fail: (error) => reject(new RuntimeClientError(0, 'network_error', error?.errMsg ?? 'ks.request failed')),
      };
      if (request.data !== undefined) options.data = request.data;
      ks.request(options);
    });
}

/** A `RuntimeStorage` in memory: tests, or a page that must not keep the session across launches. */
export function memoryStorage(initial: Record<string, string> = {}): RuntimeStorage {
  const values = new Map<string, string>(Object.entries(initial));
  return {
    get: (key) => values.get(key),
    set: (key, value) => {
      values.set(key, value);
    },
    remove: (key) => {
      values.delete(key);
    },
  };
}

/** A `RuntimeStorage` over `ks.getStorageSync` / `setStorageSync` / `removeStorageSync` (a missing key reads `''` there). */
export function ksStorage(ks: KsStorageApi): RuntimeStorage {
  return {
    get: (key) => {
      const value = ks.getStorageSync(key);
      return typeof value === 'string' && value !== '' ? value : undefined;
    },
    set: (key, value) => ks.setStorageSync(key, value),
    remove: (key) => ks.removeStorageSync(key),
  };
}

/** A `LoginFn` over `ks.login`: resolves with the js_code, rejects with `login_failed`. */
export function ksLogin(ks: KsLoginApi): LoginFn {
  return () =>
    new Promise<string>((resolve, reject) => {
      ks.login({
        success: (result) => {
          if (typeof result?.code === 'string' && result.code !== '') resolve(result.code);
          else reject(new RuntimeClientError(0, 'login_failed', 'ks.login gave no code'));
        },
        fail: (error) => reject(new RuntimeClientError(0, 'login_failed', error?.errMsg ?? 'ks.login failed')),
      });
    });
}
