/**
 * Tickets, component tokens, pre-authorization codes, authorization codes and authorizer token pairs,
 * with the contract's lifetimes and single-use rules.
 */
import type { GrantedPermission } from '../../kuaishou/types.ts';
import { PERMISSION_SETS, type PermissionSetId } from '../../kuaishou/types.ts';
import type { AppGrant, MiniAppRecord } from '../model.ts';
import { SandboxError } from '../sandbox-error.ts';
import { own, type SandboxState } from '../state.ts';

export const PRE_AUTH_CODE_TTL_S = 600;
export const AUTHORIZATION_CODE_TTL_S = 3600;

export interface IssuedPair {
  appId: string;
  accessToken: string;
  expiresInS: number;
  refreshToken: string;
  refreshExpiresInS: number;
  permissions: GrantedPermission[];
}

export function checkComponent(state: SandboxState, componentAppId: string | undefined): void {
  if (!componentAppId) throw new SandboxError('INVALID_PARAMS', 'component_app_id is required');
  if (componentAppId !== state.component.componentAppId) throw new SandboxError('INVALID_CLIENT', 'unknown component_app_id');
}

export function checkSecret(state: SandboxState, componentAppId: string | undefined, secret: string | undefined): void {
  checkComponent(state, componentAppId);
  if (!secret) throw new SandboxError('INVALID_PARAMS', 'component_app_secret is required');
  if (secret !== state.component.componentAppSecret) throw new SandboxError('INVALID_CLIENT', 'component_app_secret does not match');
}

export function issueTicket(state: SandboxState): { ticket: string; expiresInS: number } {
  const ticket = state.secret('ticket_');
  const expiresInS = state.component.ticketTtlS;
  state.data.credentials.tickets[ticket] = { expiresAt: Date.now() + expiresInS * 1000 };
  state.changed();
  return { ticket, expiresInS };
}

export function issueComponentToken(state: SandboxState, ticket: string | undefined): { token: string; expiresInS: number } {
  if (!ticket) throw new SandboxError('INVALID_PARAMS', 'component_verify_ticket is required');
  const grant = own(state.data.credentials.tickets, ticket);
  if (!grant || grant.expiresAt <= Date.now()) throw new SandboxError('TICKET_INVALID');
  const token = state.secret('ctoken_');
  const expiresInS = state.component.tokenTtlS;
  state.data.credentials.componentTokens[token] = { expiresAt: Date.now() + expiresInS * 1000 };
  state.changed();
  return { token, expiresInS };
}

export function checkComponentToken(state: SandboxState, componentAppId: string | undefined, token: string | undefined): void {
  checkComponent(state, componentAppId);
  if (!token) throw new SandboxError('INVALID_PARAMS', 'component_access_token is required');
  const grant = own(state.data.credentials.componentTokens, token);
  if (!grant) throw new SandboxError('TOKEN_INVALID', 'component_access_token invalid');
  if (grant.expiresAt <= Date.now()) throw new SandboxError('TOKEN_EXPIRED', 'component_access_token expired');
}

export function issuePreAuthCode(state: SandboxState): { preAuthCode: string; expiresInS: number } {
  const preAuthCode = state.secret('preauth_');
  state.data.credentials.preAuthCodes[preAuthCode] = { expiresAt: Date.now() + PRE_AUTH_CODE_TTL_S * 1000, used: false };
  state.changed();
  return { preAuthCode, expiresInS: PRE_AUTH_CODE_TTL_S };
}

/** Whether a pre-auth code may still open the authorization page. */
export function checkPreAuthCode(state: SandboxState, preAuthCode: string | undefined): void {
  const grant = preAuthCode ? own(state.data.credentials.preAuthCodes, preAuthCode) : undefined;
  if (!grant) throw new SandboxError('INVALID_CODE', 'unknown pre_auth_code');
  if (grant.used) throw new SandboxError('INVALID_CODE', 'pre_auth_code already used');
  if (grant.expiresAt <= Date.now()) throw new SandboxError('INVALID_CODE', 'pre_auth_code expired');
}

export function usePreAuthCode(state: SandboxState, preAuthCode: string | undefined): void {
  checkPreAuthCode(state, preAuthCode);
  own(state.data.credentials.preAuthCodes, preAuthCode!)!.used = true;
  state.changed();
}

export function validPermissions(ids: readonly number[]): PermissionSetId[] {
  const unique = [...new Set(ids)].sort();
  if (unique.length === 0) throw new SandboxError('INVALID_PARAMS', 'at least one permission set is required');
  for (const id of unique) {
    if (!Object.hasOwn(PERMISSION_SETS, id)) throw new SandboxError('INVALID_PARAMS', `unknown permission set ${id}`);
  }
  return unique as PermissionSetId[];
}

export function grantedPermissions(app: MiniAppRecord): GrantedPermission[] {
  return (app.authorization?.permissions ?? []).map((id) => {
    const set = PERMISSION_SETS[id as PermissionSetId];
    return { id, category: set.name, description: set.nameZh };
  });
}

/** The merchant confirms on the authorization page: returns the code and whether it re-authorized. */
export function authorize(state: SandboxState, appId: string, permissionIds: readonly number[]): { code: string; expiresInS: number; updated: boolean } {
  const app = state.app(appId);
  if (!app) throw new SandboxError('INVALID_PARAMS', `unknown mini-program ${appId}`);
  const permissions = validPermissions(permissionIds);
  const updated = app.authorization !== undefined;
  app.authorization = { permissions, authorizedAt: Date.now() };
  state.changed();
  return { ...issueAuthorizationCode(state, appId), updated };
}

export function issueAuthorizationCode(state: SandboxState, appId: string): { code: string; expiresInS: number } {
  const code = state.secret('authcode_');
  state.data.credentials.authorizationCodes[code] = { appId, expiresAt: Date.now() + AUTHORIZATION_CODE_TTL_S * 1000 };
  state.changed();
  return { code, expiresInS: AUTHORIZATION_CODE_TTL_S };
}

/** T5: a fresh code for an app that has authorized. */
export function reAuthorizationCode(state: SandboxState, appId: string | undefined): { code: string; expiresInS: number } {
  if (!appId) throw new SandboxError('INVALID_PARAMS', 'authorized_app_id is required');
  const app = state.app(appId);
  if (!app?.authorization) throw new SandboxError('NOT_AUTHORIZED');
  return issueAuthorizationCode(state, appId);
}

/** T4: codes are single-use. */
export function exchangeCode(state: SandboxState, code: string | undefined): IssuedPair {
  if (!code) throw new SandboxError('INVALID_PARAMS', 'authorization_code is required');
  const grant = own(state.data.credentials.authorizationCodes, code);
  if (!grant || grant.expiresAt <= Date.now()) throw new SandboxError('INVALID_CODE');
  delete state.data.credentials.authorizationCodes[code];
  const app = state.app(grant.appId);
  if (!app?.authorization) throw new SandboxError('AUTHORIZATION_REVOKED');
  return issuePair(state, app);
}

/** T6: the refresh token is spent, and the old pair revoked with it. */
export function refreshPair(state: SandboxState, appId: string | undefined, refreshToken: string | undefined): IssuedPair {
  if (!appId || !refreshToken) throw new SandboxError('INVALID_PARAMS', 'authorizer_app_id and authorizer_refresh_token are required');
  const grant = own(state.data.credentials.refreshTokens, refreshToken);
  if (!grant || grant.appId !== appId || grant.expiresAt <= Date.now()) throw new SandboxError('REFRESH_TOKEN_INVALID');
  const app = state.app(appId);
  if (!app?.authorization) throw new SandboxError('AUTHORIZATION_REVOKED');
  return issuePair(state, app);
}

function issuePair(state: SandboxState, app: MiniAppRecord): IssuedPair {
  revokePair(state, app.appId);
  const { tokenTtlS, refreshTokenTtlS } = state.component;
  const now = Date.now();
  const accessToken = state.secret('atoken_');
  const refreshToken = state.secret('rtoken_');
  const { credentials } = state.data;
  credentials.authorizerTokens[accessToken] = { appId: app.appId, expiresAt: now + tokenTtlS * 1000 };
  credentials.refreshTokens[refreshToken] = { appId: app.appId, expiresAt: now + refreshTokenTtlS * 1000 };
  credentials.livePairs[app.appId] = { accessToken, refreshToken };
  state.changed();
  return {
    appId: app.appId,
    accessToken,
    expiresInS: tokenTtlS,
    refreshToken,
    refreshExpiresInS: refreshTokenTtlS,
    permissions: grantedPermissions(app),
  };
}

function revokePair(state: SandboxState, appId: string): void {
  const { credentials } = state.data;
  const pair = own(credentials.livePairs, appId);
  if (!pair) return;
  delete credentials.authorizerTokens[pair.accessToken];
  delete credentials.refreshTokens[pair.refreshToken];
  delete credentials.livePairs[appId];
}

/** The merchant revokes: its tokens die with the authorization. */
export function revoke(state: SandboxState, appId: string): void {
  const app = state.app(appId);
  if (!app?.authorization) throw new SandboxError('NOT_AUTHORIZED');
  delete app.authorization;
  revokePair(state, appId);
  // Codes issued before the revocation die with it.
  const codes = state.data.credentials.authorizationCodes;
  for (const [code, grant] of Object.entries(codes)) if (grant.appId === appId) delete codes[code];
  state.changed();
}

/** Drops credentials past their expiry, so a long-running sandbox (benchmarks) does not grow without end. */
export function pruneExpired(state: SandboxState, now = Date.now()): number {
  let pruned = 0;
  const { tickets, componentTokens, preAuthCodes, authorizationCodes, authorizerTokens, refreshTokens } = state.data.credentials;
  for (const records of [tickets, componentTokens, preAuthCodes, authorizationCodes, authorizerTokens, refreshTokens] as Record<string, { expiresAt: number }>[]) {
    for (const [value, grant] of Object.entries(records)) {
      if (grant.expiresAt <= now) {
        delete records[value];
        pruned++;
      }
    }
  }
  if (pruned > 0) state.changed();
  return pruned;
}

/** The app behind an authorizer access token, if the token is live and the app still authorized. */
export function appForToken(state: SandboxState, componentAppId: string | undefined, token: string | undefined): MiniAppRecord {
  checkComponent(state, componentAppId);
  if (!token) throw new SandboxError('INVALID_PARAMS', 'authorizer_access_token is required');
  const grant: AppGrant | undefined = own(state.data.credentials.authorizerTokens, token);
  if (!grant) throw new SandboxError('TOKEN_INVALID', 'authorizer_access_token invalid');
  if (grant.expiresAt <= Date.now()) throw new SandboxError('TOKEN_EXPIRED', 'authorizer_access_token expired');
  const app = state.app(grant.appId);
  if (!app?.authorization) throw new SandboxError('AUTHORIZATION_REVOKED');
  return app;
}

export function requirePermission(app: MiniAppRecord, set: PermissionSetId): void {
  if (!app.authorization?.permissions.includes(set)) {
    throw new SandboxError('PERMISSION_DENIED', `permission set ${set} (${PERMISSION_SETS[set].nameZh}) not granted`);
  }
}
