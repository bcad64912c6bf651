import type { AnswerShape } from './answer-shape.ts';
import { resolveEndpoints, type EndpointOverridesInput, type EndpointTable } from './endpoint-overrides.ts';
import {
  AUTHORIZATION_PAGE,
  CREDENTIAL_PARAMS,
  type Endpoint,
  type InputOf,
  type Operation,
  type OutputOf,
} from './endpoints.ts';
import { silentLogger, type Logger } from './logger.ts';
import { nodeFetch } from './node-fetch.ts';
import { isSecretParam } from './redact.ts';
import { DEFAULT_RETRY_POLICY, RetryBudget, type RetryBudgetOptions, type RetryPolicy } from './retry.ts';
import { abortableSleep, Transport, type FetchLike } from './transport.ts';
import type * as T from './types.ts';

export const KUAISHOU_BASE_URL = 'https://open.kuaishou.com';

export interface KuaishouClientOptions {
  componentAppId: string;
  componentAppSecret: string;
  /** Default `https://open.kuaishou.com`; the sandbox serves the same paths. */
  baseUrl?: string;
  /** Per-request timeout (default 10 s); each call may override it. */
  timeoutMs?: number;
  fetch?: FetchLike;
  retry?: Partial<RetryPolicy>;
  /** A shared budget, or options for this client's own. */
  retryBudget?: RetryBudget | Partial<RetryBudgetOptions>;
  logger?: Logger;
  /**
   * Rows whose path and/or method differ on the platform (KS_ENDPOINTS_FILE): this client speaks the
   * table with them applied; `ENDPOINTS` itself, and every other client, keep the built-in rows.
   */
  endpoints?: EndpointOverridesInput;
  /** For tests: how to wait between resends, and the jitter source. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
}

export interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Told the shape of each answer (status, media type, field names: never values); the probe reads it. */
  onAnswer?: (shape: AnswerShape) => void;
}

/**
 * The raw client: one typed method per row of the contract. Each takes the credential it needs explicitly
 * (tokens are `TokenManager`'s business; `KuaishouPlatform` combines the two).
 */
export class KuaishouClient {
  readonly componentAppId: string;
  readonly baseUrl: string;
  readonly retryPolicy: RetryPolicy;
  readonly retryBudget: RetryBudget;
  readonly logger: Logger;
  /** The endpoint table this client speaks (the built-in one unless overridden). */
  readonly endpoints: EndpointTable;
  private readonly componentAppSecret: string;
  private readonly transport: Transport;

  constructor(options: KuaishouClientOptions) {
    if (!options.componentAppId) throw new TypeError('KuaishouClient: componentAppId is required');
    if (!options.componentAppSecret) throw new TypeError('KuaishouClient: componentAppSecret is required');
    this.componentAppId = options.componentAppId;
    this.componentAppSecret = options.componentAppSecret;
    this.baseUrl = options.baseUrl ?? KUAISHOU_BASE_URL;
    this.retryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
    this.retryBudget =
      options.retryBudget instanceof RetryBudget ? options.retryBudget : new RetryBudget(options.retryBudget);
    this.logger = options.logger ?? silentLogger;
    this.endpoints = resolveEndpoints(options.endpoints);
    this.transport = new Transport({
      baseUrl: this.baseUrl,
      fetch: options.fetch ?? nodeFetch,
      timeoutMs: options.timeoutMs ?? 10_000,
      retry: this.retryPolicy,
      budget: this.retryBudget,
      logger: this.logger,
      sleep: options.sleep ?? abortableSleep,
      random: options.random ?? Math.random,
    });
  }

  /**
   * Calls any operation of the endpoint table. `credential` is the component access token or the
   * authorizer access token the row needs (ignored for rows signed with the app secret).
   */
  async call<K extends Operation>(
    operation: K,
    credential: string | undefined,
    input: InputOf<K>,
    options: CallOptions = {},
  ): Promise<OutputOf<K>> {
    const endpoint = this.endpoints[operation] as unknown as Endpoint<InputOf<K>, OutputOf<K>>;
    // The app secret is scrubbed from every error, whichever credential the request itself carries.
    const secrets: string[] = [this.componentAppSecret];
    const query: Record<string, string> = { [CREDENTIAL_PARAMS.componentAppId]: this.componentAppId };
    if (endpoint.credential === 'componentSecret') {
      query[CREDENTIAL_PARAMS.componentSecret] = this.componentAppSecret;
    } else {
      if (!credential) throw new TypeError(`${operation}: an access token is required`);
      query[CREDENTIAL_PARAMS[endpoint.credential]] = credential;
      secrets.push(credential);
    }
    const wire = endpoint.encode(input);
    for (const [name, value] of Object.entries(wire.query ?? {})) {
      query[name] = value;
      if (isSecretParam(name)) secrets.push(value);
    }
    const answer = await this.transport.send({
      operation,
      endpoint: endpoint,
      query,
      body: wire.body,
      secrets,
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.onAnswer ? { onAnswer: options.onAnswer } : {}),
    });
    return endpoint.decode(answer, operation);
  }

  // ---- T1–T7: tokens and authorization ------------------------------------------------------------

  /** T1: asks the platform to push a component ticket now (it then pushes one every 10 minutes). */
  startPushTicket(options?: CallOptions): Promise<T.Done> {
    return this.call('startPushTicket', undefined, undefined, options);
  }

  /** T2: a new component access token from the latest pushed ticket. */
  getComponentAccessToken(ticket: string, options?: CallOptions): Promise<T.ComponentAccessToken> {
    return this.call('getComponentAccessToken', undefined, { ticket }, options);
  }

  /** T3: a pre-authorization code for one authorization page visit. */
  createPreAuthCode(componentAccessToken: string, options?: CallOptions): Promise<T.PreAuthCode> {
    return this.call('createPreAuthCode', componentAccessToken, undefined, options);
  }

  /** T4: exchanges an authorization code for the merchant's token pair and granted permissions. */
  exchangeAuthorizationCode(
    componentAccessToken: string,
    authorizationCode: string,
    options?: CallOptions,
  ): Promise<T.AuthorizerTokens> {
    return this.call('exchangeAuthorizationCode', componentAccessToken, { authorizationCode }, options);
  }

  /** T5: a fresh authorization code for a merchant that authorized before (recovers a lost refresh token). */
  recoverAuthorizationCode(componentAccessToken: string, appId: string, options?: CallOptions): Promise<T.AuthorizationCode> {
    return this.call('recoverAuthorizationCode', componentAccessToken, { appId }, options);
  }

  /** T6: a new token pair; the refresh token given is spent. */
  refreshAuthorizerToken(
    componentAccessToken: string,
    input: { appId: string; refreshToken: string },
    options?: CallOptions,
  ): Promise<T.AuthorizerTokens> {
    return this.call('refreshAuthorizerToken', componentAccessToken, input, options);
  }

  /** T7: the URL of the authorization page the merchant opens. */
  authorizationPageUrl(input: { preAuthCode: string; redirectUri: string }): string {
    const { params } = AUTHORIZATION_PAGE;
    const query = new URLSearchParams({
      [params.componentAppId]: this.componentAppId,
      [params.preAuthCode]: input.preAuthCode,
      [params.redirectUri]: input.redirectUri,
    });
    return `${this.baseUrl.replace(/\/+$/, '')}${AUTHORIZATION_PAGE.path}?${query.toString()}`;
  }

  // ---- A1–A12: on behalf of an authorized mini-program ---------------------------------------------

  /** A1: get, add, replace or delete the server domains. */
  serverDomains(accessToken: string, change: T.ServerDomainsChange, options?: CallOptions): Promise<T.ServerDomains> {
    return this.call('serverDomains', accessToken, change, options);
  }

  /** A2: get, add, replace or delete the webview (business) domains. */
  webviewDomains(accessToken: string, change: T.WebviewDomainsChange, options?: CallOptions): Promise<string[]> {
    return this.call('webviewDomains', accessToken, change, options);
  }

  /** A3: uploads the template with the merchant's ext config as the development version. */
  uploadCode(accessToken: string, input: T.UploadCodeInput, options?: CallOptions): Promise<T.Done> {
    return this.call('uploadCode', accessToken, input, options);
  }

  /** A4: submits the development version for audit. */
  submitAudit(accessToken: string, input: T.SubmitAuditInput = {}, options?: CallOptions): Promise<T.Done> {
    return this.call('submitAudit', accessToken, input, options);
  }

  /** A5: withdraws the version under audit. */
  withdrawAudit(accessToken: string, options?: CallOptions): Promise<T.Done> {
    return this.call('withdrawAudit', accessToken, undefined, options);
  }

  /** A6: the experience QR code as PNG bytes. */
  getQrCode(accessToken: string, input: T.QrCodeInput = {}, options?: CallOptions): Promise<T.QrCode> {
    return this.call('getQrCode', accessToken, input, options);
  }

  /** A7: development, audit and online versions. */
  getVersions(accessToken: string, options?: CallOptions): Promise<T.Versions> {
    return this.call('getVersions', accessToken, undefined, options);
  }

  /** A8: releases the passed audit version. */
  release(accessToken: string, options?: CallOptions): Promise<T.Done> {
    return this.call('release', accessToken, undefined, options);
  }

  /** A9: rolls the online version back to the previous one. */
  rollback(accessToken: string, options?: CallOptions): Promise<T.Done> {
    return this.call('rollback', accessToken, undefined, options);
  }

  /** A10: applies for a capability (short-video mount, live mount, publish to Kuaishou, phone number). */
  applyCapability(accessToken: string, input: T.CapabilityApplyInput, options?: CallOptions): Promise<T.Done> {
    return this.call('applyCapability', accessToken, input, options);
  }

  /** A11: where a capability application stands. */
  async getCapabilityStatus(accessToken: string, capability: T.Capability, options?: CallOptions): Promise<T.CapabilityState> {
    return { capability, ...(await this.call('getCapabilityStatus', accessToken, { capability }, options)) };
  }

  /** R1: exchanges a `ks.login` code of this mini-program for the user's openId and session key. */
  code2Session(accessToken: string, jsCode: string, options?: CallOptions): Promise<T.CodeSession> {
    return this.call('code2Session', accessToken, { jsCode }, options);
  }

  /** R2: sends a subscription message to one user of this mini-program. */
  sendSubscriptionMessage(accessToken: string, input: T.SubscriptionMessageInput, options?: CallOptions): Promise<T.Done> {
    return this.call('sendSubscriptionMessage', accessToken, input, options);
  }

  /** A12: the component's template library. */
  listTemplates(componentAccessToken: string, options?: CallOptions): Promise<T.Template[]> {
    return this.call('listTemplates', componentAccessToken, undefined, options);
  }
}
