/**
 * The one place errors become HTTP answers: `{"error": {"code", "message", "details"}}` with the right
 * status. 5xx messages are generic; no stack trace ever leaves the server.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { FleetError, type FleetErrorType } from '../fleet/errors.ts';
import { RuntimeError, type RuntimeErrorType } from '../runtime/errors.ts';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

const STATUS: Record<FleetErrorType, number> = {
  invalid_data: 400,
  not_found: 404,
  conflict: 409,
  not_allowed: 403,
  platform_rejected: 422,
  upstream_unavailable: 502,
};

const RUNTIME_STATUS: Record<RuntimeErrorType, number> = {
  invalid_data: 400,
  unauthenticated: 401,
  not_allowed: 403,
  not_found: 404,
  platform_rejected: 422,
  upstream_unavailable: 502,
};

/** Platform refusals that mean "not in this state" rather than "bad request": answered 409. */
const STATE_CONFLICTS = new Set(['NO_DEV_VERSION', 'AUDIT_IN_PROGRESS', 'NOT_AUDITING', 'NO_PASSED_AUDIT', 'ROLLBACK_NOT_ALLOWED', 'CAPABILITY_IN_PROGRESS']);

export function statusOf(error: FleetError): number {
  if (error.type === 'platform_rejected' && STATE_CONFLICTS.has(String(error.details.platformCodeName))) return 409;
  if (error.type === 'upstream_unavailable' && error.code === 'no_component_ticket') return 503;
  return STATUS[error.type];
}

export interface ErrorBody {
  error: { code: string; message: string; details: Record<string, unknown> };
}

export function errorBody(code: string, message: string, details: Record<string, unknown> = {}): ErrorBody {
  return { error: { code, message, details } };
}

export function sendError(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof HttpError) return reply.code(error.status).send(errorBody(error.code, error.message, error.details));
  if (error instanceof FleetError) return reply.code(statusOf(error)).send(errorBody(error.code, error.message, error.details));
  if (error instanceof RuntimeError) return reply.code(RUNTIME_STATUS[error.type]).send(errorBody(error.code, error.message, error.details));
  const fastifyError = error as FastifyError;
  if (fastifyError.validation) {
    const issues = fastifyError.validation.map((issue) => ({ path: issue.instancePath || '/', message: issue.message ?? 'invalid' }));
    const where = fastifyError.validationContext ?? 'request';
    return reply.code(400).send(errorBody('invalid_request', `${where}${issues[0]?.path === '/' ? '' : issues[0]?.path ?? ''} ${issues[0]?.message ?? 'is invalid'}`, { issues }));
  }
  const status = typeof fastifyError.statusCode === 'number' ? fastifyError.statusCode : 500;
  if (status >= 400 && status < 500) {
    const code = status === 403 ? 'forbidden' : status === 413 ? 'body_too_large' : status === 415 ? 'unsupported_media_type' : 'invalid_request';
    return reply.code(status).send(errorBody(code, fastifyError.message));
  }
  request.log.error({ err: { type: fastifyError.name, message: fastifyError.message } }, 'request failed');
  return reply.code(500).send(errorBody('internal', 'internal error'));
}
