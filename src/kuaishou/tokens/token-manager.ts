import { createHash, randomUUID } from 'node:crypto';
import type { CallOptions, KuaishouClient } from '../client.ts';
import {
  isTokenInvalid,
  KuaishouApiError,
  NoTicketError,
  NotAuthorizedError,
  TokenLeaseTimeoutError,
  UnexpectedResponseError,
} from '../errors.ts';
import { silentLogger, type Logger } from '../logger.ts';
import type { AuthorizerTokens, GrantedPermission } from '../types.ts';
import { SingleFlight } from './single-flight.ts';
import { credentialKeys, type StoredCredential, type TokenStore } from './token-store.ts';

export interface TokenManagerOptions {
  client: KuaishouClient;
  store: TokenStore;
  /** Refresh access tokens this long before they expire (default 5 min). */
  refreshSkewMs?: number;
  /** How long one refresh may hold the cross-instance lease (default 30 s). */
  leaseTtlMs?: number;
  /** How long to wait for another instance's refresh before giving up (default 35 s). */
  leaseWaitMs?: number;
  /** How often to look again while another instance refreshes (default 50 ms). */
  leasePollMs?: number;
  /** When no ticket is stored, ask the platform to push one, at most this often (default 60 s; 0: never). */
  ticketRequestIntervalMs?: number;
  /** Names this instance in leases (default: a random id). */
  owner?: string;
  now?: () => number;
  logger?: Logger;
}

/** What an authorization grants, without the secrets. */
export interface AuthorizationGrant {
  appId: string;
  permissions: GrantedPermission[];
  refreshExpiresAt: number;
  /** True for the one caller that exchanged the code; false for those handed its recorded grant. */
  exchangedHere: boolean;
}

type Usable = (credential: StoredCredential) => boolean;

/**
 * Keeps the component ticket → component access token → per-merchant authorizer tokens chain valid:
 * one refresh per credential at a time (in-process single-flight + the store's cross-instance lease),
 * refresh ahead of expiry, compare-and-set invalidation, single-use refresh tokens committed before the
 * old pair is dropped, and recovery of a lost refresh token through a re-authorization code.
 */
export class TokenManager {
  readonly componentAppId: string;
  private readonly client: KuaishouClient;
  private readonly store: TokenStore;
  private readonly skewMs: number;
  private readonly leaseTtlMs: number;
  private readonly leaseWaitMs: number;
  private readonly leasePollMs: number;
  private readonly ticketRequestIntervalMs: number;
  private readonly owner: string;
  private readonly now: () => number;
  private readonly logger: Logger;
  private readonly flights = new SingleFlight<string>();
  private readonly codeFlights = new SingleFlight<AuthorizationGrant>();
  private lastTicketRequestAt = Number.NEGATIVE_INFINITY;

  constructor(options: TokenManagerOptions) {
    this.client = options.client;
    this.store = options.store;
    this.componentAppId = options.client.componentAppId;
    this.skewMs = options.refreshSkewMs ?? 5 * 60_000;
    this.leaseTtlMs = options.leaseTtlMs ?? 30_000;
    this.leaseWaitMs = options.leaseWaitMs ?? 35_000;
    this.leasePollMs = options.leasePollMs ?? 50;
    this.ticketRequestIntervalMs = options.ticketRequestIntervalMs ?? 60_000;
    this.owner = options.owner ?? randomUUID();
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? options.client.logger ?? silentLogger;
  }

  // ---- Ticket ---------------------------------------------------------------------------------------

  /** Stores a ticket the platform pushed. */
  async storeTicket(ticket: string, expiresInS: number): Promise<void> {
    await this.put(credentialKeys.ticket(this.componentAppId), { value: ticket, expiresAt: this.now() + expiresInS * 1000 });
  }

  async hasValidTicket(): Promise<boolean> {
    const ticket = await this.store.get(credentialKeys.ticket(this.componentAppId));
    return ticket !== undefined && ticket.expiresAt > this.now();
  }

  /** Asks the platform to push a ticket now (T1). The ticket then arrives at the authorization-event URL. */
  async requestTicketPush(options?: CallOptions): Promise<void> {
    this.lastTicketRequestAt = this.now();
    await this.client.startPushTicket(options);
  }

  // ---- Component access token ------------------------------------------------------------------------

  getComponentAccessToken(): Promise<string> {
    return this.obtain(credentialKeys.componentToken(this.componentAppId), this.fresh, () => this.fetchComponentToken());
  }

  /** Marks `failed` invalid, unless a different token has been stored meanwhile. */
  invalidateComponentAccessToken(failed: string): Promise<void> {
    return this.invalidate(credentialKeys.componentToken(this.componentAppId), failed);
  }

  /** Runs `call` with the component token; on a token-invalid answer, refreshes once and runs it once more. */
  withComponentToken<T>(call: (componentAccessToken: string) => Promise<T>): Promise<T> {
    return this.withToken(
      () => this.getComponentAccessToken(),
      (failed) => this.invalidateComponentAccessToken(failed),
      call,
    );
  }

  // ---- Authorizer tokens -------------------------------------------------------------------------------

  /**
   * Exchanges an authorization code (from a push or the redirect) and stores the merchant's pair. Codes are
   * single-use and both paths carry the same one, so the exchange happens once across callers and
   * instances: the first claims the code (a lease), later callers get the grant it recorded.
   */
  async exchangeAuthorizationCode(authorizationCode: string): Promise<AuthorizationGrant> {
    const key = credentialKeys.authorizationCode(this.componentAppId, createHash('sha256').update(authorizationCode).digest('hex'));
    const recorded = (credential: StoredCredential | undefined): AuthorizationGrant | undefined =>
      credential && credential.expiresAt > this.now() && credential.meta?.grant
        ? { ...(credential.meta.grant as AuthorizationGrant), exchangedHere: false }
        : undefined;
    let started = false;
    const grant = await this.codeFlights.run(key, async () => {
      started = true;
      const deadline = Date.now() + this.leaseWaitMs;
      while (!(await this.store.tryAcquireLease(key, this.owner, this.leaseTtlMs))) {
        const done = recorded(await this.store.get(key));
        if (done) return done;
        if (Date.now() >= deadline) throw new TokenLeaseTimeoutError('another instance is still exchanging this authorization code', { operation: 'exchangeAuthorizationCode' });
        await new Promise((resolve) => setTimeout(resolve, this.leasePollMs));
      }
      try {
        const done = recorded(await this.store.get(key));
        if (done) return done;
        const tokens = await this.withComponentToken((token) => this.client.exchangeAuthorizationCode(token, authorizationCode));
        const stored = this.toStored(tokens);
        await this.put(credentialKeys.authorizer(this.componentAppId, tokens.appId), stored);
        const grant: AuthorizationGrant = { appId: tokens.appId, permissions: tokens.permissions, refreshExpiresAt: stored.refreshExpiresAt ?? 0, exchangedHere: true };
        // Remembered as long as the code could have lived (1 h), so a late second caller gets the same grant.
        await this.put(key, { value: tokens.appId, expiresAt: this.now() + 3_600_000, meta: { grant } });
        return grant;
      } finally {
        await this.store.releaseLease(key, this.owner).catch(() => undefined);
      }
    });
    // Callers that joined another's flight in this process did not exchange it themselves.
    return started ? grant : { ...grant, exchangedHere: false };
  }

  getAuthorizerAccessToken(appId: string): Promise<string> {
    return this.obtain(credentialKeys.authorizer(this.componentAppId, appId), this.fresh, (current) =>
      this.renewAuthorizer(appId, current),
    );
  }

  /**
   * Refreshes a merchant's pair now if its refresh token expires within `withinMs`, so idle merchants stay
   * authorized inside the refresh token's 30-day life.
   */
  async keepAuthorizerAlive(appId: string, withinMs: number): Promise<void> {
    const due: Usable = (c) => this.fresh(c) && (c.refreshExpiresAt ?? Number.POSITIVE_INFINITY) - withinMs > this.now();
    await this.obtain(credentialKeys.authorizer(this.componentAppId, appId), due, (current) =>
      this.renewAuthorizer(appId, current),
    );
  }

  invalidateAuthorizerAccessToken(appId: string, failed: string): Promise<void> {
    return this.invalidate(credentialKeys.authorizer(this.componentAppId, appId), failed);
  }

  /** Drops a merchant's tokens (it revoked the authorization). */
  async forgetAuthorizer(appId: string): Promise<void> {
    await this.put(credentialKeys.authorizer(this.componentAppId, appId), undefined);
  }

  /** Runs `call` with the merchant's token; on a token-invalid answer, refreshes once and runs it once more. */
  withAuthorizerToken<T>(appId: string, call: (authorizerAccessToken: string) => Promise<T>): Promise<T> {
    return this.withToken(
      () => this.getAuthorizerAccessToken(appId),
      (failed) => this.invalidateAuthorizerAccessToken(appId, failed),
      call,
    );
  }

  // ---- Mechanics ---------------------------------------------------------------------------------------

  private readonly fresh: Usable = (c) => c.expiresAt - this.skewMs > this.now();

  private async withToken<T>(
    get: () => Promise<string>,
    invalidate: (failed: string) => Promise<void>,
    call: (token: string) => Promise<T>,
  ): Promise<T> {
    const token = await get();
    try {
      return await call(token);
    } catch (error) {
      if (!isTokenInvalid(error)) throw error;
      this.logger.info({ operation: error.operation, code: error.code }, 'token rejected; refreshing once and retrying');
      await invalidate(token);
      return call(await get());
    }
  }

  /** Returns a usable credential, refreshing it (once, across callers and instances) when needed. */
  private async obtain(key: string, usable: Usable, produce: (current: StoredCredential | undefined) => Promise<StoredCredential>): Promise<string> {
    const current = await this.store.get(key);
    if (current && usable(current)) return current.value;
    return this.flights.run(key, () => this.refreshUnderLease(key, usable, produce));
  }

  private async refreshUnderLease(
    key: string,
    usable: Usable,
    produce: (current: StoredCredential | undefined) => Promise<StoredCredential>,
  ): Promise<string> {
    const deadline = Date.now() + this.leaseWaitMs;
    while (!(await this.store.tryAcquireLease(key, this.owner, this.leaseTtlMs))) {
      const current = await this.store.get(key);
      if (current && usable(current)) return current.value;
      if (Date.now() >= deadline) {
        throw new TokenLeaseTimeoutError(`another instance has held the refresh lease on ${keyKind(key)} for too long`, {
          operation: 'refreshToken',
        });
      }
      await new Promise((resolve) => setTimeout(resolve, this.leasePollMs));
    }
    try {
      // Double-check under the lease: another caller may have refreshed while we waited.
      const current = await this.store.get(key);
      if (current && usable(current)) return current.value;
      const next = await produce(current);
      if (!(await this.store.compareAndSet(key, current?.value, next))) {
        // The platform has issued `next` (and spent the old refresh token): it must be kept whatever changed.
        this.logger.warn({ credential: keyKind(key) }, 'credential changed during refresh; storing the newly issued one');
        await this.put(key, next);
      }
      return next.value;
    } finally {
      await this.store.releaseLease(key, this.owner).catch((error: unknown) => {
        this.logger.warn({ credential: keyKind(key), error: String(error) }, 'could not release refresh lease; it will expire');
      });
    }
  }

  private async invalidate(key: string, failed: string): Promise<void> {
    const current = await this.store.get(key);
    if (!current || current.value !== failed || current.expiresAt === 0) return;
    await this.store.compareAndSet(key, failed, { ...current, expiresAt: 0 });
  }

  /** Unconditional write through compare-and-set. */
  private async put(key: string, next: StoredCredential | undefined): Promise<void> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const current = await this.store.get(key);
      if (await this.store.compareAndSet(key, current?.value, next)) return;
    }
    throw new Error(`could not store ${keyKind(key)}: it keeps changing`);
  }

  private async fetchComponentToken(): Promise<StoredCredential> {
    const ticketKey = credentialKeys.ticket(this.componentAppId);
    const ticket = await this.store.get(ticketKey);
    if (!ticket || ticket.expiresAt <= this.now()) {
      await this.maybeRequestTicket();
      throw new NoTicketError(
        'no valid component ticket yet: the platform pushes one to the authorization-event URL after startPushTicket (TokenManager.requestTicketPush)',
        { operation: 'getComponentAccessToken' },
      );
    }
    try {
      const token = await this.client.getComponentAccessToken(ticket.value);
      return { value: token.accessToken, expiresAt: this.now() + token.expiresInS * 1000 };
    } catch (error) {
      if (error instanceof KuaishouApiError && error.kind === 'ticketInvalid') {
        await this.store.compareAndSet(ticketKey, ticket.value, { ...ticket, expiresAt: 0 });
        await this.maybeRequestTicket();
        throw new NoTicketError('the platform rejected the stored component ticket; waiting for a new push', {
          operation: 'getComponentAccessToken',
          cause: error,
        });
      }
      throw error;
    }
  }

  private async maybeRequestTicket(): Promise<void> {
    if (this.ticketRequestIntervalMs <= 0 || this.now() - this.lastTicketRequestAt < this.ticketRequestIntervalMs) return;
    try {
      await this.requestTicketPush();
      this.logger.info({}, 'no component ticket: asked the platform to push one');
    } catch (error) {
      this.logger.warn({ error: error instanceof Error ? error.message : String(error) }, 'could not ask for a ticket push');
    }
  }

  private async renewAuthorizer(appId: string, current: StoredCredential | undefined): Promise<StoredCredential> {
    let tokens: AuthorizerTokens | undefined;
    const refreshToken = current?.refreshToken;
    if (refreshToken && (current.refreshExpiresAt ?? Number.POSITIVE_INFINITY) > this.now()) {
      try {
        tokens = await this.withComponentToken((token) => this.client.refreshAuthorizerToken(token, { appId, refreshToken }));
      } catch (error) {
        if (!(error instanceof KuaishouApiError && error.kind === 'refreshTokenInvalid')) throw error;
        this.logger.warn({ appId }, 'refresh token rejected; recovering through a re-authorization code');
      }
    }
    tokens ??= await this.recoverAuthorizer(appId);
    if (tokens.appId !== appId) {
      throw new UnexpectedResponseError(`token answer for ${appId} names another mini-program`, { operation: 'refreshAuthorizerToken' });
    }
    return this.toStored(tokens);
  }

  private async recoverAuthorizer(appId: string): Promise<AuthorizerTokens> {
    try {
      const { authorizationCode } = await this.withComponentToken((token) => this.client.recoverAuthorizationCode(token, appId));
      return await this.withComponentToken((token) => this.client.exchangeAuthorizationCode(token, authorizationCode));
    } catch (error) {
      if (error instanceof KuaishouApiError && error.kind === 'notAuthorized') {
        throw new NotAuthorizedError(`${appId} has not authorized this component app (or revoked it)`, {
          operation: 'recoverAuthorizationCode',
          appId,
          cause: error,
        });
      }
      throw error;
    }
  }

  private toStored(tokens: AuthorizerTokens): StoredCredential {
    const now = this.now();
    return {
      value: tokens.accessToken,
      expiresAt: now + tokens.expiresInS * 1000,
      refreshToken: tokens.refreshToken,
      refreshExpiresAt: now + tokens.refreshExpiresInS * 1000,
      meta: { permissions: tokens.permissions.map((p) => p.id) },
    };
  }
}

/** A key's kind without the ids, for log lines ("component:ks1:token" → "component token"). */
function keyKind(key: string): string {
  const parts = key.split(':');
  return parts[0] === 'authorizer' ? 'authorizer tokens' : `component ${parts.at(-1) ?? ''}`;
}
