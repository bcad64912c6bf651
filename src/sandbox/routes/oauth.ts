/** T1–T6: token and authorization calls (GET, query string, camelCase answers). */
import type { FastifyInstance } from 'fastify';
import {
  checkComponentToken,
  checkSecret,
  exchangeCode,
  issueComponentToken,
  issuePreAuthCode,
  reAuthorizationCode,
  refreshPair,
  type IssuedPair,
} from '../rules/credentials.ts';
import type { SandboxRuntime } from '../runtime.ts';
import type { WireAuthorizerToken } from '../../kuaishou/wire.ts';
import { registerPlatformRoute } from './platform-route.ts';

function pairAnswer(pair: IssuedPair): Omit<WireAuthorizerToken, 'result'> {
  return {
    authorizerAccessToken: pair.accessToken,
    expiresIn: pair.expiresInS,
    authorizerRefreshToken: pair.refreshToken,
    refreshExpiresIn: pair.refreshExpiresInS,
    authorizerAppId: pair.appId,
    authorizePermission: pair.permissions,
  };
}

export function oauthRoutes(app: FastifyInstance, runtime: SandboxRuntime): void {
  const { state } = runtime;

  registerPlatformRoute(app, runtime, 'startPushTicket', ({ query }) => {
    checkSecret(state, query.component_app_id, query.component_app_secret);
    runtime.startTicketPushes();
    return {};
  });

  registerPlatformRoute(app, runtime, 'getComponentAccessToken', ({ query }) => {
    checkSecret(state, query.component_app_id, query.component_app_secret);
    const { token, expiresInS } = issueComponentToken(state, query.component_verify_ticket);
    return { componentAccessToken: token, expiresIn: expiresInS };
  });

  registerPlatformRoute(app, runtime, 'createPreAuthCode', ({ query }) => {
    checkComponentToken(state, query.component_app_id, query.component_access_token);
    const { preAuthCode, expiresInS } = issuePreAuthCode(state);
    return { preAuthCode, expiresIn: expiresInS };
  });

  registerPlatformRoute(app, runtime, 'exchangeAuthorizationCode', (call) => {
    checkComponentToken(state, call.query.component_app_id, call.query.component_access_token);
    const pair = exchangeCode(state, call.query.authorization_code);
    call.appId = pair.appId;
    return pairAnswer(pair);
  });

  registerPlatformRoute(app, runtime, 'recoverAuthorizationCode', (call) => {
    checkComponentToken(state, call.query.component_app_id, call.query.component_access_token);
    const { code, expiresInS } = reAuthorizationCode(state, call.query.authorized_app_id);
    call.appId = call.query.authorized_app_id;
    return { authorizationCode: code, expiresIn: expiresInS };
  });

  registerPlatformRoute(app, runtime, 'refreshAuthorizerToken', (call) => {
    checkComponentToken(state, call.query.component_app_id, call.query.component_access_token);
    const pair = refreshPair(state, call.query.authorizer_app_id, call.query.authorizer_refresh_token);
    call.appId = pair.appId;
    return pairAnswer(pair);
  });
}
