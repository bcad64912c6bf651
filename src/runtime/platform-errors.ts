/** Kuaishou client errors → runtime errors, so the HTTP layer never sees a platform type. */
import { KuaishouApiError, KuaishouError, NoTicketError, NotAuthorizedError, UnexpectedResponseError } from '../kuaishou/index.ts';
import { merchantNotAuthorized, RuntimeError } from './errors.ts';

export function translatePlatformError(error: unknown, appId: string): unknown {
  if (!(error instanceof KuaishouError)) return error;
  const operation = error.operation;
  if (error instanceof NotAuthorizedError || (error instanceof KuaishouApiError && error.kind === 'notAuthorized')) return merchantNotAuthorized(appId);
  if (error instanceof NoTicketError) {
    return new RuntimeError('upstream_unavailable', 'platform_unavailable', 'the platform is not ready (no component ticket yet); try again shortly', { operation });
  }
  if (error instanceof KuaishouApiError && !error.retryable && error.kind !== 'tokenInvalid') {
    return new RuntimeError('platform_rejected', 'platform_error', error.platformMessage || `the platform refused ${operation}`, {
      operation,
      platformCode: error.code,
      platformCodeName: error.codeName ?? null,
    });
  }
  if (error instanceof UnexpectedResponseError) return new RuntimeError('upstream_unavailable', 'platform_bad_response', error.message, { operation });
  return new RuntimeError('upstream_unavailable', 'platform_unavailable', `the platform is unavailable for ${operation}; try again`, { operation });
}
