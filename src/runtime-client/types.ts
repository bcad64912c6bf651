/**
 * The runtime client's types: what a page hands in (transport, storage, login) and what it gets back
 * (the `/runtime/v1` answers of docs/runtime.md). Nothing here depends on Node or on a browser.
 */

/** HTTP methods the session routes use. */
export type RuntimeMethod = 'GET' | 'POST' | 'DELETE';

/** One call, in the shape of `ks.request`'s options, so an adapter is a thin wrapper. */
export interface RuntimeRequest {
  url: string;
  method: RuntimeMethod;
  /** A JSON body (sent only when present). */
  data?: Record<string, unknown>;
  header?: Record<string, string>;
}

/** One answer, in the shape of `ks.request`'s success result: any HTTP status, the body parsed when it is JSON. */
export interface RuntimeResponse {
  statusCode: number;
  /** The parsed JSON body, or the raw text when it is not JSON (`''` for none). */
  data: unknown;
  header?: Record<string, string>;
}

/** The transport: resolves for every HTTP status, rejects only when no answer came (network, timeout). */
export type RequestFn = (request: RuntimeRequest) => Promise<RuntimeResponse>;

/** Where the session token lives between launches (`ks.setStorageSync` on a device). */
export interface RuntimeStorage {
  get(key: string): string | undefined | Promise<string | undefined>;
  set(key: string, value: string): void | Promise<void>;
  remove(key: string): void | Promise<void>;
}

/** Gives a fresh `ks.login` js_code. */
export type LoginFn = () => Promise<string>;

/** What `createRuntimeClient` takes. */
export interface RuntimeClientOptions {
  /** ks-isv's runtime root, e.g. `https://isv.example.com/runtime/v1` (no trailing slash needed). */
  baseUrl: string;
  /** The merchant's mini-program (its extAppId). */
  appId: string;
  request: RequestFn;
  storage: RuntimeStorage;
  login: LoginFn;
  /** On 401 `session_invalid` from `me` / `bindPhone`: log in again once and retry once (default true). */
  autoRelogin?: boolean;
}

/** `login()`'s answer: who the user is for this merchant and until when the session holds (epoch ms). */
export interface LoginResult {
  openId: string;
  expiresAt: number;
}

/** `GET /me`: the user, the merchant's name, its ext config, the bound phone masked (or null). */
export interface Me {
  appId: string;
  openId: string;
  merchant: { name: string | null };
  ext: Record<string, unknown>;
  /** Masked, e.g. `138****8000`; null when none is bound. */
  phone: string | null;
}

/** What the `getPhoneNumber` button's event detail carries (the rest of the detail is ignored). */
export interface PhoneDetail {
  encryptedData: string;
  iv: string;
}

/** `POST /me/phone`: the only answer with the whole number. */
export interface PhoneNumber {
  phoneNumber: string;
  purePhoneNumber: string;
  countryCode: string;
}

/** The client a page uses. Every method rejects with a `RuntimeClientError`. */
export interface RuntimeClient {
  /** `ks.login` → `POST /sessions`; stores the session token. */
  login(): Promise<LoginResult>;
  /** `GET /me` with the session (relogs in once on `session_invalid` unless `autoRelogin: false`). */
  me(): Promise<Me>;
  /** `POST /me/phone` with the button's `encryptedData` and `iv` (same relogin rule). */
  bindPhone(detail: PhoneDetail): Promise<PhoneNumber>;
  /** `DELETE /sessions/current`; the stored token is removed whatever the server says. */
  logout(): Promise<void>;
  /** The stored session token, for the page's own calls to the provider's business back end. */
  sessionToken(): Promise<string | undefined>;
}
