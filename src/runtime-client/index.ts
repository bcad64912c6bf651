/**
 * ks-isv's runtime client (`ks-isv/runtime`): what a template's pages use to log a user in to ks-isv (the one
 * back end of every merchant's mini-program), read `/me`, bind a phone number and log out. No Node-only
 * imports: it runs inside a mini-program page (bundled by `npm run build:runtime-client`).
 */
/** The client and its storage key. */
export { createRuntimeClient, sessionStorageKey } from './client.ts';
/** The error every failed call rejects with, and a guard for it. */
export { RuntimeClientError, isRuntimeClientError, type ClientErrorCode } from './errors.ts';
/** Adapters from `ks` (mini-program) and `fetch` to the client's ports. */
export {
  fetchRequest,
  ksLogin,
  ksRequest,
  ksStorage,
  memoryStorage,
  type FetchLike,
  type FetchResponseLike,
  type KsFail,
  type KsLoginApi,
  type KsRequestApi,
  type KsRequestOptions,
  type KsStorageApi,
} from './adapters.ts';
/** The ports a page injects and the answers it gets back. */
export type {
  LoginFn,
  LoginResult,
  Me,
  PhoneDetail,
  PhoneNumber,
  RequestFn,
  RuntimeClient,
  RuntimeClientOptions,
  RuntimeMethod,
  RuntimeRequest,
  RuntimeResponse,
  RuntimeStorage,
} from './types.ts';
