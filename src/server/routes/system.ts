import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { ServerContext } from '../context.ts';
import { errorBody } from '../http-errors.ts';

/** Equal-length digests, so the comparison takes the same time whatever is presented. */
function sameToken(presented: string, expected: string): boolean {
  const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

export function systemRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get('/healthz', { config: { access: 'public' }, schema: { tags: ['system'], summary: 'Liveness' } }, () => ({ ok: true }));

  const Ready = Type.Object({ ok: Type.Literal(true), database: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')]) });
  const readiness = { tags: ['system'], summary: 'Readiness: the database answers (503 when it does not)', response: { 200: Ready, 503: Type.Ref('Error') } };
  app.get('/readyz', { config: { access: 'public' }, schema: readiness }, async (_request, reply) => {
    try {
      await ctx.store.ping();
      return { ok: true, database: ctx.store.dialect };
    } catch {
      return reply.code(503).send(errorBody('not_ready', 'the database does not answer'));
    }
  });

  // METRICS_TOKEN set: a scraper presents it as a bearer token (the API keys do not open /metrics).
  const { metricsToken } = ctx;
  const scraperOnly = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (metricsToken === undefined) return;
    const header = request.headers.authorization;
    const presented = header && /^bearer\s+/i.test(header) ? header.replace(/^bearer\s+/i, '').trim() : undefined;
    if (presented !== undefined && sameToken(presented, metricsToken)) return;
    await reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="metrics"')
      .send(errorBody('unauthenticated', presented === undefined ? 'this needs the metrics token: Authorization: Bearer <METRICS_TOKEN>' : 'the metrics token is not valid'));
  };
  const exposition = {
    tags: ['system'],
    summary: 'Prometheus metrics (text exposition format); with METRICS_TOKEN set, only for `Authorization: Bearer <METRICS_TOKEN>`',
    response: { 200: { description: 'The exposition text', content: { 'text/plain': { schema: Type.String() } } }, 401: Type.Ref('Error') },
  };
  app.get('/metrics', { config: { access: 'public' }, onRequest: scraperOnly, schema: exposition }, async (_request, reply) =>
    reply.type(ctx.metrics.contentType).send(await ctx.metrics.render()),
  );
}
