import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { invalid } from '../../fleet/errors.ts';
import { actorOf, type ServerContext } from '../context.ts';
import { OnboardingViewSchema } from './channels.ts';
import { AppIdParams, CapabilitySchema, errorResponses, MerchantListQuery, OptionalBody } from '../schemas.ts';

export function merchantRoutes(root: FastifyInstance, ctx: ServerContext): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/api/v1/authorizations',
    {
      config: { access: 'operator' },
      schema: {
        tags: ['merchants'],
        summary: "Creates a merchant's authorization link (授权链接)",
        body: OptionalBody(Type.Object({ redirectUri: Type.Optional(Type.String({ format: 'uri', pattern: '^https?://', maxLength: 1024 })) })),
        response: { 201: Type.Object({ url: Type.String(), expiresAt: Type.Number() }), ...errorResponses },
      },
    },
    async (request, reply) => {
      const redirectUri = request.body?.redirectUri ?? `${ctx.publicUrl}/callbacks/authorize`;
      return reply.code(201).send(await ctx.merchants.createAuthorizationLink(actorOf(request), redirectUri));
    },
  );

  app.get(
    '/api/v1/merchants',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['merchants'],
        summary: 'Lists merchants: search, filters (status, last audit state and version), sorting, cursor pagination; onboarding=stuck: blocked, failed, or onboarding for over 30 min',
        querystring: Type.Object({ ...MerchantListQuery.properties, onboarding: Type.Optional(Type.Literal('stuck')) }),
        response: {
          200: Type.Object({ items: Type.Array(Type.Ref('Merchant')), nextCursor: Type.Union([Type.String(), Type.Null()]), total: Type.Optional(Type.Integer()) }),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const { status, q, auditState, auditVersion, sort, order, limit, cursor, total, onboarding } = request.query;
      if (onboarding === 'stuck') {
        if ([status, q, auditState, auditVersion, sort, order].some((given) => given !== undefined)) throw invalid('onboarding=stuck does not combine with other filters or a sort');
        return ctx.onboarding.stuck({ limit, ...(cursor ? { cursor } : {}) });
      }
      const filter = {
        ...(status ? { status } : {}),
        ...(q ? { q } : {}),
        ...(auditState ? { auditState } : {}),
        ...(auditVersion ? { auditVersion } : {}),
      };
      const page = await ctx.merchants.list({ ...filter, limit, ...(sort ? { sort } : {}), ...(order ? { order } : {}), ...(cursor ? { cursor } : {}) });
      return total ? { ...page, total: await ctx.merchants.count(filter) } : page;
    },
  );

  app.get(
    '/api/v1/merchants/:appId',
    {
      config: { access: 'viewer' },
      schema: {
        tags: ['merchants'],
        summary: 'One merchant, with its capability applications and its onboarding (快速开通) status',
        params: AppIdParams,
        response: {
          200: Type.Intersect([Type.Ref('Merchant'), Type.Object({ capabilities: Type.Array(CapabilitySchema), onboarding: OnboardingViewSchema })]),
          ...errorResponses,
        },
      },
    },
    async (request) => {
      const merchant = await ctx.merchants.get(request.params.appId);
      return { ...merchant, capabilities: await ctx.merchants.capabilities(merchant.appId), onboarding: await ctx.onboarding.view(merchant) };
    },
  );
}
