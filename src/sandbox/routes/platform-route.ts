/**
 * Registers one contract row on the sandbox: faults first (a faulted call changes nothing), then the
 * handler, answered in the row's style (`{result: 1, …}` or `{result: <code>, errorMsg|error_msg}`), and
 * counted per operation and per app.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ENDPOINTS, type Operation } from '../../kuaishou/endpoints.ts';
import type { MiniAppRecord } from '../model.ts';
import { appForToken, requirePermission } from '../rules/credentials.ts';
import type { SandboxRuntime } from '../runtime.ts';
import { SandboxError } from '../sandbox-error.ts';

export interface PlatformCall {
  query: Record<string, string | undefined>;
  body: Record<string, unknown>;
  /** Set by the handler once it knows which mini-program the call is for (for the call counts). */
  appId?: string;
}

export type PlatformAnswer = Record<string, unknown> | { png: Buffer };

export type PlatformHandler = (call: PlatformCall) => PlatformAnswer | Promise<PlatformAnswer>;

/** Query values as single strings (a repeated parameter keeps its first value). */
export function singleValues(query: unknown): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  if (typeof query !== 'object' || query === null) return out;
  for (const [name, value] of Object.entries(query as Record<string, unknown>)) {
    const first: unknown = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string') out[name] = first;
  }
  return out;
}

export function registerPlatformRoute(app: FastifyInstance, runtime: SandboxRuntime, operation: Operation, handler: PlatformHandler): void {
  const endpoint = ENDPOINTS[operation];
  app.route({
    method: endpoint.method,
    url: endpoint.path,
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const fault = runtime.faults.decide();
      const { latencyMs, hangMs } = runtime.faults.config;
      if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
      if (fault !== 'none') {
        runtime.calls.record(operation, undefined, 'faulted');
        if (fault === 'rateLimited') {
          return reply.code(429).header('retry-after', '1').send(new SandboxError('RATE_LIMITED').body(endpoint.style));
        }
        if (fault === 'error') {
          return reply.code(500).send(new SandboxError('INTERNAL_ERROR', 'sandbox: injected fault').body(endpoint.style));
        }
        // hang: hold the request past the client's timeout, then drop it.
        await new Promise((resolve) => setTimeout(resolve, hangMs).unref());
        request.raw.socket.destroy();
        return reply.hijack();
      }
      const body = request.body;
      const call: PlatformCall = {
        query: singleValues(request.query),
        body: typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {},
      };
      try {
        // A form row (R2) takes form fields only: the form parser makes them a plain object of strings.
        const form = (endpoint as { encoding?: 'json' | 'form' }).encoding === 'form';
        const isForm = (request.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded');
        if (endpoint.method === 'POST' && (typeof body !== 'object' || body === null || Array.isArray(body) || (form && !isForm))) {
          throw new SandboxError('INVALID_PARAMS', form ? 'the body must be form fields (application/x-www-form-urlencoded)' : 'the body must be a JSON object');
        }
        const answer = await handler(call);
        runtime.calls.record(operation, call.appId, 'ok');
        if ('png' in answer && Buffer.isBuffer(answer.png)) return reply.type('image/png').send(answer.png);
        return reply.send({ result: 1, ...answer });
      } catch (error) {
        runtime.calls.record(operation, call.appId, 'error');
        if (error instanceof SandboxError) {
          if (error.codeName === 'RATE_LIMITED') reply.header('retry-after', '1');
          return reply.code(error.httpStatus).send(error.body(endpoint.style));
        }
        throw error;
      }
    },
  });
}

/** A row called on a mini-program's behalf: a live authorizer token, an authorized app, the row's permission set. */
export function registerAuthorizedRoute(
  app: FastifyInstance,
  runtime: SandboxRuntime,
  operation: Operation,
  handler: (target: MiniAppRecord, call: PlatformCall) => ReturnType<PlatformHandler>,
): void {
  const permissionSet = (ENDPOINTS[operation] as { permissionSet?: 1 | 2 | 3 | 4 }).permissionSet;
  registerPlatformRoute(app, runtime, operation, (call) => {
    const target = appForToken(runtime.state, call.query.component_app_id, call.query.authorizer_access_token);
    call.appId = target.appId;
    if (permissionSet !== undefined) requirePermission(target, permissionSet);
    return handler(target, call);
  });
}
