/** Keys, the audit log and received pushes. */
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { notFound } from '../../fleet/errors.ts';
import { newApiKey } from '../api-keys.ts';
import { actorOf, type ServerContext } from '../context.ts';
import { AuditLogQuery, errorResponses, Nullable, RoleSchema } from '../schemas.ts';

const Cursor = Type.Union([Type.String(), Type.Null()]);

export function adminRoutes(root: FastifyInstance, ctx: ServerContext): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const { store } = ctx;

  app.get('/api/v1/audit-log', {
    config: { access: 'viewer' },
    schema: { tags: ['audit'], summary: 'Every mutating call: who, what, which merchant, result', querystring: AuditLogQuery, response: { 200: Type.Object({ items: Type.Array(Type.Ref('AuditLogEntry')), nextCursor: Cursor }), ...errorResponses } },
  }, (request) => {
    const { appId, actor, action, limit, cursor } = request.query;
    return ctx.merchants.auditLog({ limit, ...(appId ? { appId } : {}), ...(actor ? { actor } : {}), ...(action ? { action } : {}), ...(cursor ? { cursor } : {}) });
  });

  app.get('/api/v1/push-events', {
    config: { access: 'viewer' },
    schema: {
      tags: ['audit'],
      summary: 'Pushes received from the platform (without codes or tickets)',
      querystring: Type.Object({ eventType: Type.Optional(Type.String({ maxLength: 64 })), limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }), cursor: Type.Optional(Type.String({ maxLength: 200 })) }),
      response: {
        200: Type.Object({
          items: Type.Array(Type.Object({
            msgId: Type.String(), channel: Type.String(), eventType: Type.String(), appId: Type.Union([Type.String(), Type.Null()]),
            receivedAt: Type.Number(), outcome: Type.String(), summary: Type.Record(Type.String(), Type.Unknown()), error: Type.Union([Type.String(), Type.Null()]),
          })),
          nextCursor: Cursor,
        }),
        ...errorResponses,
      },
    },
  }, (request) => {
    const { eventType, limit, cursor } = request.query;
    return store.pushEvents.list({ limit, ...(eventType ? { eventType } : {}), ...(cursor ? { cursor } : {}) });
  });

  app.get('/api/v1/me', {
    config: { access: 'viewer' },
    schema: { tags: ['keys'], summary: 'The calling key: its id and role (what the console may show)', response: { 200: Type.Object({ keyId: Nullable(Type.String()), role: RoleSchema }), ...errorResponses } },
  }, (request) => {
    const { keyId, role } = actorOf(request);
    return { keyId, role };
  });

  app.get('/api/v1/keys', {
    config: { access: 'admin' },
    schema: { tags: ['keys'], summary: 'API keys (never their secret)', response: { 200: Type.Object({ items: Type.Array(Type.Ref('ApiKey')) }), ...errorResponses } },
  }, async () => ({ items: await store.apiKeys.list() }));

  app.post('/api/v1/keys', {
    config: { access: 'admin' },
    schema: {
      tags: ['keys'],
      summary: 'Creates an API key; its secret is shown only in this answer',
      body: Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }), role: RoleSchema }),
      response: { 201: Type.Object({ id: Type.String(), name: Type.String(), role: Type.String(), key: Type.String() }), ...errorResponses },
    },
  }, async (request, reply) => {
    const { key, record } = newApiKey(request.body.name, request.body.role);
    await store.apiKeys.insert(record);
    await store.auditLog.append({ at: Date.now(), actorKeyId: actorOf(request).keyId, actorRole: 'admin', action: 'key.create', appId: null, summary: { id: record.id, role: record.role, name: record.name }, result: 'ok', errorCode: null });
    return reply.code(201).send({ id: record.id, name: record.name, role: record.role, key });
  });

  app.delete('/api/v1/keys/:id', {
    config: { access: 'admin' },
    schema: { tags: ['keys'], summary: 'Revokes an API key', params: Type.Object({ id: Type.String({ maxLength: 64 }) }), response: { 200: Type.Object({ id: Type.String(), revoked: Type.Boolean() }), ...errorResponses } },
  }, async (request) => {
    if (!(await store.apiKeys.revoke(request.params.id, Date.now()))) throw notFound('key', request.params.id);
    await store.auditLog.append({ at: Date.now(), actorKeyId: actorOf(request).keyId, actorRole: 'admin', action: 'key.revoke', appId: null, summary: { id: request.params.id }, result: 'ok', errorCode: null });
    return { id: request.params.id, revoked: true };
  });
}
