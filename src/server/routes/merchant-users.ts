/** The runtime as operators see it (API keys, viewer and up): a merchant's users and their numbers. */
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { notFound } from '../../fleet/errors.ts';
import type { ServerContext } from '../context.ts';
import { AppIdParams, errorResponses, Nullable } from '../schemas.ts';
import { RuntimeUserPage, UsersQuery } from './runtime.ts';

export function merchantUserRoutes(root: FastifyInstance, ctx: ServerContext): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const known = async (appId: string): Promise<void> => {
    if (!(await ctx.store.merchants.get(appId))) throw notFound('merchant', appId);
  };

  app.get(
    '/api/v1/merchants/:appId/runtime',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['merchants'],
        summary: "The merchant's mini-program users: how many, how many bound a phone, active sessions, last login",
        params: AppIdParams,
        response: {
          200: Type.Object({ users: Type.Integer(), withPhone: Type.Integer(), activeSessions: Type.Integer(), lastLoginAt: Nullable(Type.Integer()) }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      await known(request.params.appId);
      return ctx.runtime.stats(request.params.appId);
    },
  );

  app.get(
    '/api/v1/merchants/:appId/users',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['merchants'],
        summary: "The merchant's mini-program users by openId, cursor-paged (no phone numbers: whether one is bound)",
        params: AppIdParams,
        querystring: UsersQuery,
        response: { 200: RuntimeUserPage, ...errorResponses },
      },
    },
    async (request) => {
      await known(request.params.appId);
      return ctx.runtime.userPage(request.params.appId, { limit: request.query.limit, ...(request.query.cursor ? { cursor: request.query.cursor } : {}) });
    },
  );
}
