/** Release channels, the onboarding policy, and the onboarding dry run of one merchant (docs/onboarding.md). */
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { CHANNEL_NAME_PATTERN, ONBOARDING_STATUSES, TIMELINE_STEPS } from '../../fleet/channel-model.ts';
import { actorOf, type ServerContext } from '../context.ts';
import { AppIdParams, errorResponses, Nullable } from '../schemas.ts';
import { DomainPolicySchema } from './rollouts.ts';

const ExtObject = Type.Record(Type.String(), Type.Unknown());
const ChannelName = Type.String({ pattern: CHANNEL_NAME_PATTERN, maxLength: 32 });

const ChannelSchema = Type.Object({
  name: Type.String(),
  templateId: Type.Integer(),
  userVersion: Type.String(),
  userDesc: Type.String(),
  extDefaults: Nullable(ExtObject),
  domainPolicy: Nullable(DomainPolicySchema),
  autoRelease: Type.Boolean(),
  version: Type.Integer(),
  updatedAt: Type.Number(),
  updatedBy: Nullable(Type.String()),
});

const ChannelBody = Type.Object(
  {
    templateId: Type.Integer({ minimum: 0 }),
    userVersion: Type.String({ minLength: 1, maxLength: 64 }),
    userDesc: Type.String({ maxLength: 1024, default: '' }),
    extDefaults: Type.Optional(Nullable(ExtObject)),
    domainPolicy: Type.Optional(Nullable(DomainPolicySchema)),
    autoRelease: Type.Boolean({ default: true }),
    baseVersion: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);

const PolicyBody = Type.Object(
  { enabled: Type.Boolean(), channel: ChannelName, autoRelease: Type.Optional(Nullable(Type.Boolean())) },
  { additionalProperties: false },
);
const PolicySchema = Type.Object({ enabled: Type.Boolean(), channel: Type.String(), autoRelease: Nullable(Type.Boolean()), forcedOff: Type.Boolean() });

export const OnboardingViewSchema = Type.Object({
  status: Type.Union(ONBOARDING_STATUSES.map((s) => Type.Literal(s))),
  channel: Nullable(Type.String()),
  rolloutId: Nullable(Type.String()),
  reason: Nullable(Type.String()),
  missingPermissions: Type.Array(Type.Integer()),
  timeline: Type.Array(Type.Object({ step: Type.Union(TIMELINE_STEPS.map((s) => Type.Literal(s))), at: Nullable(Type.Number()), done: Type.Boolean() })),
});

const StartSchema = Type.Object({
  outcome: Type.Union(['started', 'up_to_date', 'blocked', 'nothing'].map((o) => Type.Literal(o))),
  reason: Nullable(Type.String()),
  rolloutId: Nullable(Type.String()),
  onboarding: OnboardingViewSchema,
});

const PlanSchema = Type.Object({
  appId: Type.String(),
  policy: PolicySchema,
  channel: Nullable(ChannelSchema),
  current: OnboardingViewSchema,
  wouldStart: Type.Boolean(),
  // Each step names itself; what else it carries depends on the step (an open object, serialised whole as before).
  steps: Type.Array(Type.Object({ step: Type.String() }, { additionalProperties: true })),
  blockers: Type.Array(Type.Object({ code: Type.String(), message: Type.String() })),
  warnings: Type.Array(Type.Object({ code: Type.String(), message: Type.String() })),
});

export function channelRoutes(root: FastifyInstance, ctx: ServerContext): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['onboarding'];

  app.get('/api/v1/channels', {
    config: { access: 'viewer' },
    schema: { tags, summary: 'Release channels: what new merchants get', response: { 200: Type.Object({ items: Type.Array(ChannelSchema) }), ...errorResponses } },
  }, async () => ({ items: await ctx.channels.list() }));

  app.get('/api/v1/channels/:name', {
    config: { access: 'viewer' },
    schema: { tags, summary: 'One release channel', params: Type.Object({ name: ChannelName }), response: { 200: ChannelSchema, ...errorResponses } },
  }, (request) => ctx.channels.get(request.params.name));

  app.put('/api/v1/channels/:name', {
    config: { access: 'operator' },
    schema: {
      tags,
      summary: 'Creates or replaces a release channel (baseVersion: 0 = create only; n = only over version n, else 409)',
      params: Type.Object({ name: ChannelName }),
      body: ChannelBody,
      response: { 200: ChannelSchema, ...errorResponses },
    },
  }, (request) => {
    const { extDefaults, domainPolicy, ...rest } = request.body;
    return ctx.channels.put(actorOf(request), request.params.name, { ...rest, extDefaults: extDefaults ?? null, domainPolicy: domainPolicy ?? null });
  });

  app.get('/api/v1/onboarding', {
    config: { access: 'viewer' },
    schema: { tags, summary: 'The onboarding (quick activation, 快速开通) policy', response: { 200: PolicySchema, ...errorResponses } },
  }, () => ctx.onboarding.policy());

  app.put('/api/v1/onboarding', {
    config: { access: 'admin' },
    schema: { tags, summary: 'Sets the onboarding policy: on/off, which channel, autoRelease (null: the channel decides)', body: PolicyBody, response: { 200: PolicySchema, ...errorResponses } },
  }, (request) => {
    const { enabled, channel, autoRelease } = request.body;
    return ctx.onboarding.setPolicy(actorOf(request), { enabled, channel, autoRelease: autoRelease ?? null });
  });

  app.post('/api/v1/merchants/:appId/onboarding/start', {
    config: { access: 'operator' },
    schema: {
      tags,
      summary: 'Onboards the merchant now, as an authorization would: a failed onboarding starts again; one in progress or live is left alone (outcome nothing, with the reason)',
      params: AppIdParams,
      response: { 200: StartSchema, ...errorResponses },
    },
  }, async (request) => {
    const { result, onboarding } = await ctx.onboarding.startBy(actorOf(request), request.params.appId);
    return { outcome: result.outcome, reason: result.reason ?? null, rolloutId: result.rolloutId ?? null, onboarding };
  });

  app.get('/api/v1/merchants/:appId/onboarding/plan', {
    config: { access: 'viewer' },
    schema: { tags, summary: 'Dry run: the onboarding steps that would run for this merchant, and what blocks them (no platform writes)', params: AppIdParams, response: { 200: PlanSchema, ...errorResponses } },
  }, (request) => ctx.onboarding.plan(request.params.appId));
}
