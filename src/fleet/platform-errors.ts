/** Kuaishou client errors → fleet errors, so the HTTP layer never sees a platform type. */
import {
  KuaishouApiError,
  KuaishouError,
  NoTicketError,
  NotAuthorizedError,
  UnexpectedResponseError,
} from '../kuaishou/index.ts';
import { FleetError } from './errors.ts';

export function translatePlatformError(error: unknown, appId?: string): unknown {
  if (!(error instanceof KuaishouError)) return error;
  const operation = error.operation;
  if (error instanceof NoTicketError) {
    return new FleetError('upstream_unavailable', 'no_component_ticket', 'waiting for the platform to push a component ticket; try again shortly', { operation });
  }
  if (error instanceof NotAuthorizedError || (error instanceof KuaishouApiError && error.kind === 'notAuthorized')) {
    return new FleetError('conflict', 'merchant_not_authorized', `${appId ?? 'the merchant'} has not authorized the component app (or revoked it)`, { operation });
  }
  if (error instanceof KuaishouApiError && !error.retryable && error.kind !== 'tokenInvalid') {
    return new FleetError('platform_rejected', 'platform_error', error.platformMessage || `the platform refused ${operation}`, {
      operation,
      platformCode: error.code,
      platformCodeName: error.codeName ?? null,
    });
  }
  if (error instanceof UnexpectedResponseError) {
    return new FleetError('upstream_unavailable', 'platform_bad_response', error.message, { operation });
  }
  return new FleetError('upstream_unavailable', 'platform_unavailable', `the platform is unavailable for ${operation}; try again`, {
    operation,
    attempts: error.attempts,
  });
}

/** Runs a platform call, translating its failure. */
export async function onPlatform<T>(call: () => Promise<T>, appId?: string): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw translatePlatformError(error, appId);
  }
}
