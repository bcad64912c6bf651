import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import type { ServerContext } from '../context.ts';
import { errorBody } from '../http-errors.ts';

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

  app.get('/metrics', { config: { access: 'public' }, schema: { tags: ['system'], summary: 'Prometheus metrics' } }, (_request, reply) =>
    reply.type('text/plain; version=0.0.4').send(ctx.metrics.render()),
  );
}
