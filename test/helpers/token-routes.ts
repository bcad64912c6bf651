/**
 * Token behaviour for `FakePlatform`: issues and checks component and authorizer tokens the way the
 * contract says (refresh tokens single-use, codes single-use), with counters for every issuing call.
 */
import type { FakeAnswer, FakePlatform, RecordedRequest } from './fake-platform.ts';

export const COMPONENT_APP_ID = 'ks_component_test';
export const COMPONENT_SECRET = 'component-secret-0123456789';
export const TOKEN_INVALID = 100200102;
export const REFRESH_TOKEN_INVALID = 100200113;

export interface TokenRoutesOptions {
  componentTokenTtlS?: number;
  authorizerTokenTtlS?: number;
  /** Delay of every token-issuing answer, so concurrent callers pile up behind one refresh. */
  issueDelayMs?: number;
}

export class TokenRoutes {
  readonly validTickets = new Set<string>(['ticket-1']);
  readonly componentTokens = new Set<string>();
  readonly authorizerTokens = new Map<string, string>(); // token → appId
  readonly refreshTokens = new Map<string, string>(); // refresh token → appId
  readonly authorizationCodes = new Map<string, string>(); // code → appId
  readonly authorizedApps = new Set<string>();
  private serial = 0;

  constructor(
    readonly platform: FakePlatform,
    readonly options: TokenRoutesOptions = {},
  ) {
    const delayMs = options.issueDelayMs ?? 0;
    platform
      .on('/mp/tp/oauth/start_push_ticket', () => ({ json: { result: 1 } }))
      .on('/mp/tp/oauth/access_token', (r) => {
        if (!this.validTickets.has(r.query.component_verify_ticket ?? '')) return oauthError(100200114, 'ticket invalid');
        const token = this.next('ctoken');
        this.componentTokens.add(token);
        return { delayMs, json: { result: 1, componentAccessToken: token, expiresIn: options.componentTokenTtlS ?? 7200 } };
      })
      .on('/mp/tp/oauth/authorizer_access_token', (r) => {
        const denied = this.checkComponent(r);
        if (denied) return denied;
        const appId = this.authorizationCodes.get(r.query.authorization_code ?? '');
        if (!appId) return oauthError(100200105, 'invalid code');
        this.authorizationCodes.delete(r.query.authorization_code ?? '');
        return { delayMs, json: this.issuePair(appId) };
      })
      .on('/mp/tp/oauth/refresh_authorizer_access_token', (r) => {
        const denied = this.checkComponent(r);
        if (denied) return denied;
        const appId = this.refreshTokens.get(r.query.authorizer_refresh_token ?? '');
        if (!appId || appId !== r.query.authorizer_app_id) return oauthError(REFRESH_TOKEN_INVALID, 'refresh token invalid');
        this.refreshTokens.delete(r.query.authorizer_refresh_token ?? '');
        return { delayMs, json: this.issuePair(appId) };
      })
      .on('/mp/tp/oauth/re_authorization_code', (r) => {
        const denied = this.checkComponent(r);
        if (denied) return denied;
        const appId = r.query.authorized_app_id ?? '';
        if (!this.authorizedApps.has(appId)) return oauthError(100200111, 'not authorized');
        return { json: { result: 1, authorizationCode: this.grantCode(appId), expiresIn: 3600 } };
      })
      .on('/openapi/mp/auth/app/package/versions', (r) => {
        const appId = this.authorizerTokens.get(r.query.authorizer_access_token ?? '');
        if (!appId) return { json: { result: TOKEN_INVALID, error_msg: 'access token invalid' } };
        return { json: { result: 1, data: {} } };
      });
  }

  /** A merchant authorizes: returns the authorization code the push would carry. */
  authorize(appId: string): string {
    this.authorizedApps.add(appId);
    return this.grantCode(appId);
  }

  issued(path: 'access_token' | 'refresh_authorizer_access_token' | 'authorizer_access_token' | 're_authorization_code'): number {
    return this.platform.count(`/mp/tp/oauth/${path}`);
  }

  private grantCode(appId: string): string {
    const code = this.next('code');
    this.authorizationCodes.set(code, appId);
    return code;
  }

  private issuePair(appId: string): Record<string, unknown> {
    const accessToken = this.next('atoken');
    const refreshToken = this.next('rtoken');
    this.authorizerTokens.set(accessToken, appId);
    this.refreshTokens.set(refreshToken, appId);
    return {
      result: 1,
      authorizerAccessToken: accessToken,
      expiresIn: this.options.authorizerTokenTtlS ?? 7200,
      authorizerRefreshToken: refreshToken,
      refreshExpiresIn: 2592000,
      authorizerAppId: appId,
      authorizePermission: [{ id: 1, category: 'development', description: '开发管理' }],
    };
  }

  private checkComponent(r: RecordedRequest): FakeAnswer | undefined {
    if (r.query.component_app_id !== COMPONENT_APP_ID) return oauthError(100200101, 'invalid client');
    if (!this.componentTokens.has(r.query.component_access_token ?? '')) return oauthError(TOKEN_INVALID, 'component token invalid');
    return undefined;
  }

  private next(prefix: string): string {
    this.serial += 1;
    return `${prefix}-${this.serial}-${Math.random().toString(36).slice(2, 10)}`;
  }
}

function oauthError(code: number, message: string): FakeAnswer {
  return { json: { result: code, errorMsg: message } };
}
