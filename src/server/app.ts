/**
 * The provider's Fastify app: REST API /api/v1 (OpenAPI at /openapi.json, browsable at /docs), push
 * receivers /callbacks/*, health and metrics. Routes hold one-line handlers over the fleet services.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { registerAuth } from './auth.ts';
import type { ServerContext } from './context.ts';
import { errorBody, sendError } from './http-errors.ts';
import { adminRoutes } from './routes/admin.ts';
import { callbackRoutes } from './routes/callbacks.ts';
import { merchantRoutes } from './routes/merchants.ts';
import { operationRoutes } from './routes/operations.ts';
import { systemRoutes } from './routes/system.ts';
import { SHARED_SCHEMAS } from './schemas.ts';

export const API_BODY_LIMIT = 1024 * 1024;

export interface BuildAppOptions {
  /** A pino logger (see `createLogger`); none: silent. */
  logger?: FastifyBaseLogger;
  publicRateLimit?: number;
}

export async function buildApp(ctx: ServerContext, options: BuildAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: API_BODY_LIMIT,
    trustProxy: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  });
  app.setErrorHandler((error, request, reply) => sendError(error, request, reply));
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(errorBody('not_found', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );
  app.addHook('onResponse', (request, reply, done) => {
    ctx.metrics.httpRequests.inc({ route: request.routeOptions.url ?? 'unmatched', method: request.method, status: String(reply.statusCode) });
    done();
  });
  for (const schema of SHARED_SCHEMAS) app.addSchema(schema);

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'ks-isv REST API',
        version: '1',
        description: 'Operate every merchant mini-program of a Kuaishou service provider. Authenticate with `Authorization: Bearer <API key>`.',
      },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer' } } },
      security: [{ apiKey: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', uiConfig: { docExpansion: 'list' } });
  app.get('/openapi.json', { config: { access: 'public' }, schema: { hide: true } }, () => app.swagger());

  registerAuth(app, { keys: ctx.store.apiKeys, ...(options.publicRateLimit ? { publicRateLimit: options.publicRateLimit } : {}) });
  systemRoutes(app, ctx);
  merchantRoutes(app, ctx);
  operationRoutes(app, ctx);
  adminRoutes(app, ctx);
  await callbackRoutes(app, ctx);
  return app;
}
