/** Domain policies: a dry run answers the per-merchant diff (drift report); applying one starts a rollout of kind `domains`. */
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { DomainPolicyService } from '../../fleet/domain-policy-service.ts';
import { invalid } from '../../fleet/errors.ts';
import type { DomainPolicySpec } from '../../fleet/rollout-model.ts';
import { actorOf } from '../context.ts';
import { errorResponses, Nullable } from '../schemas.ts';
import { BatchFields, DomainPolicySchema, RolloutWithProgress, TargetsSchema } from './rollouts.ts';

const ListDiff = Type.Object({ add: Type.Array(Type.String()), remove: Type.Array(Type.String()) });

const DriftReportSchema = Type.Object({
  policy: DomainPolicySchema,
  summary: Type.Object({
    targets: Type.Integer(),
    checked: Type.Integer(),
    inSync: Type.Integer(),
    drifting: Type.Integer(),
    unreadable: Type.Integer(),
    errors: Type.Record(Type.String(), Type.Integer()),
  }),
  items: Type.Array(
    Type.Object({
      appId: Type.String(),
      inSync: Type.Boolean(),
      server: Type.Optional(Type.Record(Type.String(), ListDiff)),
      webview: Type.Optional(Nullable(ListDiff)),
      error: Nullable(Type.Object({ code: Type.String(), message: Type.String() })),
    }),
  ),
  warnings: Type.Array(Type.Object({ code: Type.String(), message: Type.String() })),
  nextCursor: Nullable(Type.String()),
});

const Body = Type.Object(
  {
    targets: TargetsSchema,
    /** Server domains (服务器域名): each list given is the whole set wanted; lists left out are left alone. */
    serverDomains: Type.Optional(DomainPolicySchema.properties.server),
    /** Webview domains (业务域名): the whole set wanted. */
    webviewDomains: Type.Optional(DomainPolicySchema.properties.webview),
    /** true: only report the diff; false: apply it as a rollout. */
    dryRun: Type.Boolean(),
    /** Dry run: merchants read per page, and the app id to continue after. */
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    ...BatchFields,
  },
  { additionalProperties: false },
);

export function domainPolicyRoutes(root: FastifyInstance, policies: DomainPolicyService): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();

  app.post('/api/v1/domain-policies', {
    config: { access: 'operator' },
    schema: {
      tags: ['rollouts'],
      summary: 'A domain policy for many merchants: dryRun answers the per-merchant diff; otherwise it is applied as a rollout (kind domains)',
      body: Body,
      response: { 200: DriftReportSchema, 201: RolloutWithProgress, ...errorResponses },
    },
  }, async (request, reply) => {
    const { targets, serverDomains, webviewDomains, dryRun, limit, cursor, ...batch } = request.body;
    const domains: DomainPolicySpec = { ...(serverDomains ? { server: serverDomains } : {}), ...(webviewDomains ? { webview: webviewDomains } : {}) };
    if (dryRun) return policies.dryRun(actorOf(request), { targets, domains, ...(limit !== undefined ? { limit } : {}), ...(cursor !== undefined ? { cursor } : {}) });
    if (limit !== undefined || cursor !== undefined) throw invalid('limit and cursor page a dry run; a policy is applied to every target');
    return reply.code(201).send(await policies.apply(actorOf(request), { targets, domains, ...batch }));
  });
}
