import { KuaishouClient, type CallOptions, type KuaishouClientOptions } from './client.ts';
import { buildExtJson } from './ext-json.ts';
import { openPhoneNumber } from './phone-number.ts';
import { MemoryTokenStore } from './tokens/memory-token-store.ts';
import { TokenManager, type AuthorizationGrant, type TokenManagerOptions } from './tokens/token-manager.ts';
import type { TokenStore } from './tokens/token-store.ts';
import type * as T from './types.ts';

export interface KuaishouPlatformOptions extends KuaishouClientOptions {
  /** Where credentials live; default: in this process's memory. */
  store?: TokenStore;
  tokens?: Omit<TokenManagerOptions, 'client' | 'store'>;
}

export interface AuthorizationLink {
  url: string;
  expiresAt: number;
}

/**
 * The client as a library: every operation by merchant app id, with tokens fetched, refreshed and
 * retried-once-on-invalid behind the scenes. This is what the service's fleet layer adapts to its own port.
 */
export class KuaishouPlatform {
  readonly client: KuaishouClient;
  readonly tokens: TokenManager;

  constructor(client: KuaishouClient, tokens: TokenManager) {
    this.client = client;
    this.tokens = tokens;
  }

  static create(options: KuaishouPlatformOptions): KuaishouPlatform {
    const client = new KuaishouClient(options);
    const tokens = new TokenManager({ ...options.tokens, client, store: options.store ?? new MemoryTokenStore() });
    return new KuaishouPlatform(client, tokens);
  }

  // ---- Authorization --------------------------------------------------------------------------------

  /** T3 + T7: a fresh authorization page link for one merchant, valid as long as its pre-auth code. */
  async createAuthorizationLink(redirectUri: string, options?: CallOptions): Promise<AuthorizationLink> {
    const { preAuthCode, expiresInS } = await this.tokens.withComponentToken((token) =>
      this.client.createPreAuthCode(token, options),
    );
    return { url: this.client.authorizationPageUrl({ preAuthCode, redirectUri }), expiresAt: Date.now() + expiresInS * 1000 };
  }

  /** T4: completes an authorization from its code; the tokens stay in the store. */
  completeAuthorization(authorizationCode: string): Promise<AuthorizationGrant> {
    return this.tokens.exchangeAuthorizationCode(authorizationCode);
  }

  listTemplates(options?: CallOptions): Promise<T.Template[]> {
    return this.tokens.withComponentToken((token) => this.client.listTemplates(token, options));
  }

  // ---- On behalf of one merchant ----------------------------------------------------------------------

  private as<R>(appId: string, call: (accessToken: string) => Promise<R>): Promise<R> {
    return this.tokens.withAuthorizerToken(appId, call);
  }

  serverDomains(appId: string, change: T.ServerDomainsChange, options?: CallOptions): Promise<T.ServerDomains> {
    return this.as(appId, (token) => this.client.serverDomains(token, change, options));
  }

  webviewDomains(appId: string, change: T.WebviewDomainsChange, options?: CallOptions): Promise<string[]> {
    return this.as(appId, (token) => this.client.webviewDomains(token, change, options));
  }

  /** With `ext` (and `appConfig`): the ext.json is built here, addressed to `appId`; with `extJson`: sent as given. */
  uploadCode(appId: string, input: T.MerchantUploadInput | T.UploadCodeInput, options?: CallOptions): Promise<T.Done> {
    const upload: T.UploadCodeInput =
      'extJson' in input
        ? input
        : { templateId: input.templateId, userVersion: input.userVersion, userDesc: input.userDesc, extJson: buildExtJson(appId, input) };
    return this.as(appId, (token) => this.client.uploadCode(token, upload, options));
  }

  submitAudit(appId: string, input: T.SubmitAuditInput = {}, options?: CallOptions): Promise<T.Done> {
    return this.as(appId, (token) => this.client.submitAudit(token, input, options));
  }

  withdrawAudit(appId: string, options?: CallOptions): Promise<T.Done> {
    return this.as(appId, (token) => this.client.withdrawAudit(token, options));
  }

  getQrCode(appId: string, input: T.QrCodeInput = {}, options?: CallOptions): Promise<T.QrCode> {
    return this.as(appId, (token) => this.client.getQrCode(token, input, options));
  }

  getVersions(appId: string, options?: CallOptions): Promise<T.Versions> {
    return this.as(appId, (token) => this.client.getVersions(token, options));
  }

  release(appId: string, options?: CallOptions): Promise<T.Done> {
    return this.as(appId, (token) => this.client.release(token, options));
  }

  rollback(appId: string, options?: CallOptions): Promise<T.Done> {
    return this.as(appId, (token) => this.client.rollback(token, options));
  }

  applyCapability(appId: string, input: T.CapabilityApplyInput, options?: CallOptions): Promise<T.Done> {
    return this.as(appId, (token) => this.client.applyCapability(token, input, options));
  }

  getCapabilityStatus(appId: string, capability: T.Capability, options?: CallOptions): Promise<T.CapabilityState> {
    return this.as(appId, (token) => this.client.getCapabilityStatus(token, capability, options));
  }

  // ---- The merchant's mini-program at run time ---------------------------------------------------------

  /** R1 with the merchant's token: a code from another mini-program is refused by the platform. */
  code2Session(appId: string, jsCode: string, options?: CallOptions): Promise<T.CodeSession> {
    return this.as(appId, (token) => this.client.code2Session(token, jsCode, options));
  }

  sendSubscriptionMessage(appId: string, input: T.SubscriptionMessageInput, options?: CallOptions): Promise<T.Done> {
    return this.as(appId, (token) => this.client.sendSubscriptionMessage(token, input, options));
  }

  /** Opens a `getPhoneNumber` answer with the user's session key; no call is made. */
  decryptPhoneNumber(appId: string, sessionKey: string, sealed: T.EncryptedUserData): T.PhoneNumber {
    return openPhoneNumber({ appId, sessionKey, ...sealed });
  }
}
