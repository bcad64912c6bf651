/**
 * The port through which the client keeps its credentials: the component ticket, the component access
 * token and every merchant's token pair. `MemoryTokenStore` implements it for one process; the service's
 * durable store (encrypted at rest, shared by all instances) implements the same three promises.
 */

export interface StoredCredential {
  /** The credential itself: a ticket or an access token. */
  value: string;
  /** Epoch ms after which `value` must not be used. 0 marks a token known to be invalid. */
  expiresAt: number;
  /** The single-use refresh token paired with an authorizer access token. */
  refreshToken?: string;
  refreshExpiresAt?: number;
  /** Free-form facts stored with the credential (e.g. granted permission ids). */
  meta?: Record<string, unknown>;
}

export interface TokenStore {
  get(key: string): Promise<StoredCredential | undefined>;

  /**
   * Atomically replaces the credential at `key` with `next` (or deletes it when `next` is undefined), but
   * only if the stored `value` is still `expectedValue` (undefined: only if nothing is stored).
   * Returns whether it wrote. This is what lets a caller invalidate exactly the token that failed while a
   * fresh token stored meanwhile by someone else survives.
   */
  compareAndSet(key: string, expectedValue: string | undefined, next: StoredCredential | undefined): Promise<boolean>;

  /**
   * Tries to take the refresh lease on `key` for `ttlMs`. Returns false while another owner holds an
   * unexpired lease. A lease outlives a crashed owner by at most `ttlMs`.
   */
  tryAcquireLease(key: string, owner: string, ttlMs: number): Promise<boolean>;

  /** Gives the lease back, if `owner` still holds it. */
  releaseLease(key: string, owner: string): Promise<void>;
}

/** The store keys of one component app's credentials. */
export const credentialKeys = {
  ticket: (componentAppId: string) => `component:${componentAppId}:ticket`,
  componentToken: (componentAppId: string) => `component:${componentAppId}:token`,
  authorizer: (componentAppId: string, appId: string) => `authorizer:${componentAppId}:${appId}`,
  /** The recorded outcome of exchanging one authorization code (by its hash). */
  authorizationCode: (componentAppId: string, codeHash: string) => `authcode:${componentAppId}:${codeHash}`,
};
