/**
 * The provider's Fastify app: REST API /api/v1 (OpenAPI at /openapi.json, browsable at /docs), push
 * receivers /callbacks/*, health and metrics. Routes hold one-line handlers over the fleet services.
 */
import swagger from '@fastify/swagger';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { registerAuth } from './auth.ts';
import { registerPublicRateLimit } from './public-rate-limit.ts';
import type { ServerContext } from './context.ts';
import { errorBody, sendError } from './http-errors.ts';
import { adminRoutes } from './routes/admin.ts';
import { consoleRoutes } from './console.ts';
import { callbackRoutes } from './routes/callbacks.ts';
import { domainPolicyRoutes } from './routes/domain-policies.ts';
import { channelRoutes } from './routes/channels.ts';
import { merchantRoutes } from './routes/merchants.ts';
import { operationRoutes } from './routes/operations.ts';
import { platformRoutes } from './routes/platform.ts';
import { rolloutRoutes } from './routes/rollouts.ts';
import { merchantUserRoutes } from './routes/merchant-users.ts';
import { RUNTIME_SCHEMAS, runtimeRoutes } from './routes/runtime.ts';
import { systemRoutes } from './routes/system.ts';
import { templateRoutes } from './routes/templates.ts';
import { SHARED_SCHEMAS, unrequireOptionalBodies } from './schemas.ts';

export const API_BODY_LIMIT = 1024 * 1024;

// ajv-formats is CommonJS: its function is the default export's default under NodeNext.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function validator(coerce: boolean): Ajv {
  const ajv = new Ajv({ removeAdditional: false, useDefaults: true, allErrors: false, strict: false, coerceTypes: coerce ? 'array' : false });
  addFormats(ajv);
  for (const schema of SHARED_SCHEMAS) ajv.addSchema(schema);
  return ajv;
}

export interface BuildAppOptions {
  /** A pino logger (see `createLogger`); none: silent. */
  logger?: FastifyBaseLogger;
  /** Requests per minute per client address on public routes (default 600; 0: no limit). */
  publicRateLimit?: number;
  /** TRUST_PROXY: take client addresses from X-Forwarded-For (only behind a proxy that sets it). */
  trustProxy?: boolean;
  /** The admin console's built files (default `web/dist`). */
  consoleDir?: string;
}

export async function buildApp(ctx: ServerContext, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: API_BODY_LIMIT,
    // Only behind a proxy that sets X-Forwarded-For may a client's address be taken from it (rate limits).
    trustProxy: options.trustProxy ?? false,
    // Malformed URLs (bad percent-encoding, over-long path parameters) get the same error body as the rest.
    frameworkErrors: (error, request, reply) => {
      void sendError(error, request, reply);
    },
  });
  // The API speaks JSON only: a text/plain body is refused with 415 instead of failing validation as a string.
  app.removeContentTypeParser('text/plain');
  app.setErrorHandler((error, request, reply) => sendError(error, request, reply));
  // Before any route: it attaches to the public routes as they are declared.
  await registerPublicRateLimit(app, options.publicRateLimit);
  const consoleFiles = await consoleRoutes(app, options.consoleDir);
  app.setNotFoundHandler(async (request, reply) => {
    if (await consoleFiles.fallback(request, reply)) return reply;
    return reply.code(404).send(errorBody('not_found', `no route ${request.method} ${request.url.split('?')[0]}`));
  });
  app.addHook('onResponse', (request, reply, done) => {
    ctx.metrics.observeRequest(request.routeOptions.url, request.method, reply.statusCode, reply.elapsedTime);
    done();
  });
  for (const schema of [...SHARED_SCHEMAS, ...RUNTIME_SCHEMAS]) app.addSchema(schema);
  // Query strings and params are text: coerce them. JSON bodies are typed: never coerce (`true` is no template id).
  const coercing = validator(true);
  const strict = validator(false);
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'ks-isv REST API',
        version: '1',
        description:
          'Operate every merchant mini-program of a Kuaishou service provider (/api/v1, `Authorization: Bearer <API key>`), and serve them at run time (/runtime/v1, tag `runtime`: a mini-program user\'s session token, or a `runtime` API key for the provider\'s business back end).',
      },
      tags: [{ name: 'runtime', description: 'The one back end of every merchant mini-program: sessions, the user, phone number, messages (docs/runtime.md)' }],
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer' },
          runtimeSession: { type: 'http', scheme: 'bearer', description: 'A session token (kss_…) from POST /runtime/v1/sessions' },
          runtimeKey: { type: 'http', scheme: 'bearer', description: 'An API key with role runtime' },
        },
      },
      security: [{ apiKey: [] }],
    },
    transformObject: (document) => unrequireOptionalBodies('openapiObject' in document ? document.openapiObject : document.swaggerObject),
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });
  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, () => app.swagger());

  registerAuth(app, { keys: ctx.store.apiKeys, sessions: ctx.runtime });
  systemRoutes(app, ctx);
  merchantRoutes(app, ctx);
  operationRoutes(app, ctx);
  adminRoutes(app, ctx);
  rolloutRoutes(app, ctx.rollouts);
  domainPolicyRoutes(app, ctx.domainPolicies);
  templateRoutes(app, ctx);
  channelRoutes(app, ctx);
  platformRoutes(app, ctx);
  merchantUserRoutes(app, ctx);
  runtimeRoutes(app, ctx);
  await callbackRoutes(app, ctx);
  return app;
}
