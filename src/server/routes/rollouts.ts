/** Rollouts: create (with the plan), list, progress, targets, lifecycle commands, and SSE progress. */
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { CHANNEL_NAME_PATTERN } from '../../fleet/channel-model.ts';
import { TARGET_STATES, type RolloutStatus } from '../../fleet/rollout-model.ts';
import type { Actor } from '../../fleet/audit-trail.ts';
import type { RolloutService } from '../../fleet/rollout-service.ts';
import { actorOf } from '../context.ts';
import { errorResponses, Nullable, OptionalBody, StringEnum } from '../schemas.ts';

const ROLLOUT_STATUSES = ['running', 'paused', 'completed', 'aborted', 'rolling_back', 'rolled_back'] as const satisfies readonly RolloutStatus[];

const Counts = Type.Record(Type.String(), Type.Integer());

const DomainList = Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { maxItems: 200 });

/** A list given is the whole set wanted; a list left out is left alone. */
export const DomainPolicySchema = Type.Object(
  {
    server: Type.Optional(
      Type.Object(
        { request: Type.Optional(DomainList), socket: Type.Optional(DomainList), uploadFile: Type.Optional(DomainList), downloadFile: Type.Optional(DomainList), udp: Type.Optional(DomainList) },
        { additionalProperties: false },
      ),
    ),
    webview: Type.Optional(DomainList),
  },
  { additionalProperties: false },
);

const RolloutSchema = Type.Object({
  id: Type.String(),
  origin: Type.Union([Type.Literal('operator'), Type.Literal('onboarding')]),
  promoteTo: Nullable(Type.String()),
  kind: Type.Union([Type.Literal('template'), Type.Literal('domains')]),
  templateId: Nullable(Type.Integer()),
  userVersion: Nullable(Type.String()),
  userDesc: Nullable(Type.String()),
  domains: Nullable(DomainPolicySchema),
  status: StringEnum(ROLLOUT_STATUSES),
  autoRelease: Type.Boolean(),
  maxFailureRate: Type.Number(),
  failuresAcknowledged: Type.Integer(),
  concurrency: Type.Integer(),
  waves: Type.Array(Type.Object({ wave: Type.Integer(), size: Type.Integer() })),
  currentWave: Type.Integer(),
  pauseReason: Nullable(Type.String()),
  createdBy: Nullable(Type.String()),
  createdAt: Type.Number(),
  updatedAt: Type.Number(),
  finishedAt: Nullable(Type.Number()),
});

const ProgressSchema = Type.Object({
  total: Type.Integer(),
  byState: Counts,
  byWave: Type.Array(Type.Object({ wave: Type.Integer(), size: Type.Integer(), byState: Counts })),
});

export const RolloutWithProgress = Type.Object({ rollout: RolloutSchema, progress: ProgressSchema });
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) });
const AppIds = Type.Array(Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }), { minItems: 1, maxItems: 100_000 });

/** Which merchants a batch takes (rollouts and domain policies alike). */
export const TargetsSchema = Type.Union([
  Type.Object({ all: Type.Literal(true) }, { additionalProperties: false }),
  Type.Object({ appIds: AppIds }, { additionalProperties: false }),
  Type.Object({ status: Type.Optional(Type.Literal('authorized')), q: Type.Optional(Type.String({ maxLength: 100 })) }, { additionalProperties: false }),
]);

/** How a batch runs: waves, the failure brake, the concurrency cap. */
export const BatchFields = {
  waves: Type.Optional(
    Type.Array(
      Type.Union([
        Type.Object({ count: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }),
        Type.Object({ percent: Type.Number({ exclusiveMinimum: 0, maximum: 100 }) }, { additionalProperties: false }),
      ]),
      { maxItems: 20 },
    ),
  ),
  maxFailureRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
};

const CreateBody = Type.Object(
  {
    templateId: Type.Integer({ minimum: 0 }),
    userVersion: Type.String({ minLength: 1, maxLength: 64 }),
    userDesc: Type.String({ maxLength: 1024, default: '' }),
    targets: TargetsSchema,
    ...BatchFields,
    autoRelease: Type.Optional(Type.Boolean()),
    /** Applied to each merchant before its upload (onboarding). */
    domains: Type.Optional(Nullable(DomainPolicySchema)),
    promoteTo: Type.Optional(Type.String({ pattern: CHANNEL_NAME_PATTERN, maxLength: 32, description: 'When the rollout completes, this release channel takes its template and version' })),
  },
  { additionalProperties: false },
);

export function rolloutRoutes(root: FastifyInstance, rollouts: RolloutService): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['rollouts'];

  app.post('/api/v1/rollouts', {
    config: { access: 'operator' },
    schema: { tags, summary: 'Starts a rollout of a template version to many merchants (批量发布)', body: CreateBody, response: { 201: RolloutWithProgress, ...errorResponses } },
  }, async (request, reply) => reply.code(201).send(await rollouts.create(actorOf(request), request.body)));

  app.get('/api/v1/rollouts', {
    config: { access: 'viewer' },
    schema: {
      tags,
      summary: 'Rollouts, newest first',
      querystring: Type.Object({
        status: Type.Optional(Type.Union(ROLLOUT_STATUSES.map((s) => Type.Literal(s)))),
        limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
        cursor: Type.Optional(Type.String({ maxLength: 200 })),
      }),
      response: { 200: Type.Object({ items: Type.Array(RolloutSchema), nextCursor: Nullable(Type.String()) }), ...errorResponses },
    },
  }, (request) => {
    const { status, limit, cursor } = request.query;
    return rollouts.list({ limit, ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) });
  });

  app.get('/api/v1/rollouts/:id', {
    config: { access: 'viewer' },
    schema: { tags, summary: 'A rollout with its counts per state and per wave', params: IdParams, response: { 200: RolloutWithProgress, ...errorResponses } },
  }, (request) => rollouts.get(request.params.id));

  app.get('/api/v1/rollouts/:id/targets', {
    config: { access: 'viewer' },
    schema: {
      tags,
      summary: 'Per merchant: state, attempts, last error with the platform code',
      params: IdParams,
      querystring: Type.Object({
        state: Type.Optional(Type.Union(TARGET_STATES.map((s) => Type.Literal(s)))),
        limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
        cursor: Type.Optional(Type.String({ maxLength: 200 })),
      }),
      response: {
        200: Type.Object({
          items: Type.Array(Type.Object({
            appId: Type.String(), wave: Type.Integer(), state: StringEnum(TARGET_STATES), attempts: Type.Integer(), nextRunAt: Type.Number(),
            lastErrorCode: Nullable(Type.String()), lastError: Nullable(Type.String()), updatedAt: Type.Number(),
          })),
          nextCursor: Nullable(Type.String()),
        }),
        ...errorResponses,
      },
    },
  }, async (request) => {
    await rollouts.get(request.params.id);
    const { state, limit, cursor } = request.query;
    return rollouts.targets({ rolloutId: request.params.id, limit, ...(state ? { state } : {}), ...(cursor ? { cursor } : {}) });
  });

  const command = (name: 'pause' | 'resume' | 'abort' | 'rollback' | 'release', summary: string, run: (actor: Actor, id: string) => Promise<unknown>): void => {
    app.post(`/api/v1/rollouts/:id/${name}`, {
      config: { access: 'operator' },
      schema: { tags, summary, params: IdParams, body: OptionalBody(Type.Object({}, { additionalProperties: false })), response: { 200: RolloutWithProgress, ...errorResponses } },
    }, async (request) => {
      await run(actorOf(request), request.params.id);
      return rollouts.get(request.params.id);
    });
  };
  command('pause', 'Pauses a running rollout', (actor, id) => rollouts.pause(actor, id));
  command('resume', 'Resumes a paused rollout', (actor, id) => rollouts.resume(actor, id));
  command('abort', 'Aborts: pending merchants are skipped, merchants in flight finish their step', (actor, id) => rollouts.abort(actor, id));
  command('rollback', 'Rolls back every merchant this rollout released', (actor, id) => rollouts.rollback(actor, id));
  command('release', 'Releases every merchant whose audit passed (rollouts without autoRelease)', (actor, id) => rollouts.releasePassed(actor, id));

  app.get('/api/v1/rollouts/:id/events', {
    config: { access: 'viewer' },
    schema: {
      tags,
      summary: 'Server-Sent Events: a `progress` event whenever counts change, `end` when the rollout is finished',
      params: IdParams,
      response: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } }, ...errorResponses },
    },
  }, async (request, reply) => {
    const first = await rollouts.get(request.params.id);
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    let last = '';
    let closed = false;
    request.raw.on('close', () => (closed = true));
    const send = (event: string, data: unknown): void => {
      raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    let snapshot = first;
    for (let beat = 0; !closed; beat++) {
      const text = JSON.stringify(snapshot);
      if (text !== last) {
        send('progress', snapshot);
        last = text;
      } else if (beat % 30 === 0) raw.write(': keep-alive\n\n');
      if (['completed', 'aborted', 'rolled_back'].includes(snapshot.rollout.status)) {
        send('end', { status: snapshot.rollout.status });
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
      if (closed) break;
      snapshot = await rollouts.get(request.params.id).catch(() => snapshot);
    }
    raw.end();
  });
}
