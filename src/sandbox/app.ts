/**
 * Builds the sandbox: a Fastify app with the platform's routes (T1–T7, A1–A12, R1–R2), the pages (the
 * simulator too) and the control API, over one `SandboxRuntime`. Errors never leave as stack traces:
 * platform paths answer the platform's error shape, the control API `{"error": {...}}`.
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { MESSAGE_FIELD, type ResponseStyle } from '../kuaishou/endpoints.ts';
import { silentLogger, type Logger } from '../kuaishou/logger.ts';
import type { SandboxOptions } from './config.ts';
import { controlRoutes, ControlError } from './routes/control.ts';
import { oauthRoutes } from './routes/oauth.ts';
import { openapiRoutes } from './routes/openapi.ts';
import { pageRoutes } from './routes/pages.ts';
import { runtimeRowRoutes } from './routes/runtime-rows.ts';
import { simulatorRoutes } from './routes/simulator.ts';
import { userRoutes } from './routes/users.ts';
import { MiniProgramError } from './rules/users.ts';
import { SandboxRuntime } from './runtime.ts';
import { ERROR_CODES } from '../kuaishou/endpoints.ts';
import { SandboxState } from './state.ts';

export const SANDBOX_BODY_LIMIT = 1024 * 1024;

export interface Sandbox {
  app: FastifyInstance;
  runtime: SandboxRuntime;
  /** The URL it listens on, once `listen` resolved. */
  url: string;
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface BuildSandboxOptions extends Partial<Omit<SandboxOptions, 'component'>> {
  component?: Partial<SandboxOptions['component']>;
  logger?: Logger;
  random?: () => number;
  /** Lifetime of a `ks.login` code (default 300 s). */
  jsCodeTtlMs?: number;
}

export const FORM_BODY_LIMIT = 64 * 1024;

/**
 * application/x-www-form-urlencoded → a plain object of strings (a repeated field: the list of its values,
 * as the authorization page's checkboxes send). Built with fromEntries: `__proto__` stays an ordinary key.
 */
export function parseForm(text: string): Record<string, string | string[]> {
  const values = new Map<string, string | string[]>();
  for (const [name, value] of new URLSearchParams(text)) {
    const existing = values.get(name);
    values.set(name, existing === undefined ? value : [...(Array.isArray(existing) ? existing : [existing]), value]);
  }
  return Object.fromEntries(values);
}

function styleOf(url: string): ResponseStyle | 'control' {
  if (url.startsWith('/openapi/')) return 'openapi';
  if (url.startsWith('/mp/')) return 'oauth';
  return 'control';
}

export async function buildSandbox(base: SandboxOptions, overrides: BuildSandboxOptions = {}): Promise<Sandbox> {
  const options: SandboxOptions = { ...base, ...overrides, component: { ...base.component, ...overrides.component } };
  const logger = overrides.logger ?? silentLogger;
  const state = await SandboxState.open(options.component, options.stateFile);
  // Registration is configuration: env and overrides win over what a state file remembered.
  if (options.stateFile) {
    const fromEnv = Object.fromEntries((options.explicitComponentFields ?? []).map((field) => [field, options.component[field]]));
    Object.assign(state.data.component, fromEnv, overrides.component ?? {});
  }
  const answerError = (error: FastifyError, request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const style = styleOf(request.url);
    if (error instanceof ControlError) return reply.code(error.status).send({ error: { code: error.code, message: error.message } });
    if (error instanceof MiniProgramError) {
      return reply.code(error.status).send({ error: { code: error.code, message: error.message }, errMsg: error.errMsg });
    }
    const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) logger.error({ url: request.url.split('?')[0], error: error.message }, 'sandbox route failed');
    const message = status === 500 ? 'sandbox internal error' : error.message;
    if (style === 'control') return reply.code(status).send({ error: { code: status === 500 ? 'internal' : 'invalid_request', message } });
    const code = status === 500 ? ERROR_CODES.INTERNAL_ERROR.code : ERROR_CODES.INVALID_PARAMS.code;
    return reply.code(status).send({ result: code, [MESSAGE_FIELD[style]]: message });
  };
  const app = Fastify({
    logger: false,
    bodyLimit: SANDBOX_BODY_LIMIT,
    forceCloseConnections: true,
    return503OnClosing: false,
    // Errors raised before routing (a malformed %-escape in the path, a path parameter over 100 characters)
    // skip the error handler: without this they would leave in Fastify's own shape.
    frameworkErrors: (error, request, reply) => {
      void answerError(error, request, reply);
    },
  });
  let url = '';
  const runtime = new SandboxRuntime(state, {
    get publicUrl() {
      return options.publicUrl || url;
    },
    pushRetryDelayMs: options.pushRetryDelayMs,
    logger,
    ...(overrides.random ? { random: overrides.random } : {}),
    ...(overrides.jsCodeTtlMs !== undefined ? { jsCodeTtlMs: overrides.jsCodeTtlMs } : {}),
  });

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT }, (_request, body, done) => {
    done(null, parseForm(body as string));
  });
  app.setErrorHandler(answerError);
  app.setNotFoundHandler((request, reply) => {
    const style = styleOf(request.url);
    if (style === 'control') return reply.code(404).send({ error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` } });
    return reply.code(404).send({ result: ERROR_CODES.INVALID_PARAMS.code, [MESSAGE_FIELD[style]]: 'no such api' });
  });

  oauthRoutes(app, runtime);
  openapiRoutes(app, runtime);
  runtimeRowRoutes(app, runtime);
  pageRoutes(app, runtime);
  simulatorRoutes(app, runtime);
  controlRoutes(app, runtime);
  userRoutes(app, runtime);
  app.get('/', (_request, reply) => reply.redirect('/sandbox'));
  app.get('/healthz', () => ({ ok: true }));
  runtime.resume();

  return {
    app,
    runtime,
    get url() {
      return url;
    },
    async listen() {
      const address = await app.listen({ port: options.port, host: options.host });
      url = address.replace('[::1]', '127.0.0.1');
      return url;
    },
    async close() {
      runtime.close();
      await app.close();
      await state.flush();
    },
  };
}
