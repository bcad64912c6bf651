/**
 * /runtime/v1 (docs/runtime.md): the back end of every merchant's mini-program (session routes) and of the
 * provider's business back end (runtime-key routes); its own schemas, tag `runtime`. One-line handlers
 * over `RuntimeService`.
 */
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sessionOf, type ServerContext } from '../context.ts';
import { HttpError } from '../http-errors.ts';
import { AppIdParams, Nullable } from '../schemas.ts';
import { WindowLimiter } from '../window-limiter.ts';

const errors = {
  400: Type.Ref('Error'),
  401: Type.Ref('Error'),
  403: Type.Ref('Error'),
  404: Type.Ref('Error'),
  422: Type.Ref('Error'),
  429: Type.Ref('Error'),
  502: Type.Ref('Error'),
};
const sessionSecurity = [{ runtimeSession: [] }];
const keySecurity = [{ runtimeKey: [] }];

const OpenId = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' });
// Base64 text of the button's answer: bounded, so a huge body is refused by its schema before any work.
const Base64 = (maxLength: number) => Type.String({ minLength: 1, maxLength, pattern: '^[A-Za-z0-9+/]+={0,2}$' });

const Session = Type.Object({ sessionToken: Type.String(), openId: Type.String(), expiresAt: Type.Integer() }, { $id: 'RuntimeSession' });
const Me = Type.Object(
  {
    appId: Type.String(),
    openId: Type.String(),
    merchant: Type.Object({ name: Nullable(Type.String()) }),
    ext: Type.Record(Type.String(), Type.Unknown()),
    phone: Nullable(Type.String({ description: 'masked, e.g. 138****8000' })),
  },
  { $id: 'RuntimeMe' },
);
const Phone = Type.Object({ phoneNumber: Type.String(), purePhoneNumber: Type.String(), countryCode: Type.String() }, { $id: 'RuntimePhoneNumber' });
const Introspection = Type.Object(
  { active: Type.Boolean(), appId: Type.Optional(Type.String()), openId: Type.Optional(Type.String()), expiresAt: Type.Optional(Type.Integer()) },
  { $id: 'RuntimeIntrospection' },
);
export const RuntimeUserSchema = Type.Object(
  { openId: Type.String(), firstSeenAt: Type.Integer(), lastSeenAt: Type.Integer(), hasPhone: Type.Boolean(), phoneBoundAt: Nullable(Type.Integer()) },
  { $id: 'RuntimeUser' },
);
export const RuntimeUserPage = Type.Object({ items: Type.Array(Type.Ref('RuntimeUser')), nextCursor: Nullable(Type.String()) });
export const UsersQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
});

/** Schemas the runtime routes refer to by $id (registered with the shared ones). */
export const RUNTIME_SCHEMAS = [Session, Me, Phone, Introspection, RuntimeUserSchema];

function limited(reply: FastifyReply, retryAfterS: number, limit: number, per: string): never {
  void reply.header('retry-after', String(retryAfterS));
  throw new HttpError(429, 'rate_limited', `too many logins ${per}; retry in ${retryAfterS} s`, { limit, per, retryAfterS });
}

export function runtimeRoutes(root: FastifyInstance, ctx: ServerContext): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const perIp = new WindowLimiter(ctx.runtimeLoginLimits.perIp);
  const perApp = new WindowLimiter(ctx.runtimeLoginLimits.perApp);

  // ---- The merchant's mini-program --------------------------------------------------------------------

  app.post(
    '/runtime/v1/sessions',
    {
      config: { access: 'login' },
      // Counted before the body is read (per address) and once it names the merchant (per merchant).
      onRequest: async (request: FastifyRequest, reply: FastifyReply) => {
        const verdict = perIp.hit(request.ip);
        if (!verdict.allowed) limited(reply, verdict.retryAfterS, perIp.max, 'from this address');
      },
      schema: {
        tags: ['runtime'],
        summary: "Logs a mini-program user in: exchanges a ks.login code through the merchant's code2session (no credential)",
        security: [],
        body: Type.Object({ appId: AppIdParams.properties.appId, code: Type.String({ minLength: 1, maxLength: 256 }) }),
        response: { 201: Type.Ref('RuntimeSession'), ...errors },
      },
    },
    async (request, reply) => {
      const verdict = perApp.hit(request.body.appId);
      if (!verdict.allowed) limited(reply, verdict.retryAfterS, perApp.max, 'for this mini-program');
      return reply.code(201).send(await ctx.runtime.createSession(request.body.appId, request.body.code));
    },
  );

  app.get(
    '/runtime/v1/me',
    {
      config: { access: 'session' },
      schema: { tags: ['runtime'], summary: "The session's user: merchant, its ext config, masked phone", security: sessionSecurity, response: { 200: Type.Ref('RuntimeMe'), ...errors } },
    },
    (request) => ctx.runtime.me(sessionOf(request)),
  );

  app.post(
    '/runtime/v1/me/phone',
    {
      config: { access: 'session' },
      schema: {
        tags: ['runtime'],
        summary: 'Binds the phone number the getPhoneNumber button gave (encryptedData, iv); the one answer with the number',
        security: sessionSecurity,
        body: Type.Object({ encryptedData: Base64(4096), iv: Base64(64) }),
        response: { 200: Type.Ref('RuntimePhoneNumber'), ...errors },
      },
    },
    (request) => ctx.runtime.bindPhone(sessionOf(request), request.body),
  );

  app.delete(
    '/runtime/v1/sessions/current',
    {
      config: { access: 'session' },
      schema: { tags: ['runtime'], summary: 'Logs out: the session ends on every instance', security: sessionSecurity, response: { 204: Type.Null(), ...errors } },
    },
    async (request, reply) => {
      await ctx.runtime.logout(sessionOf(request));
      return reply.code(204).send(null);
    },
  );

  // ---- The provider's business back end (runtime keys) -------------------------------------------------

  app.post(
    '/runtime/v1/introspect',
    {
      config: { access: 'runtime' },
      schema: {
        tags: ['runtime'],
        summary: 'Who a session token is (RFC 7662): active, appId, openId, expiresAt',
        security: keySecurity,
        body: Type.Object({ sessionToken: Type.String({ minLength: 1, maxLength: 512 }) }),
        response: { 200: Type.Ref('RuntimeIntrospection'), ...errors },
      },
    },
    (request) => ctx.runtime.introspect(request.body.sessionToken),
  );

  app.post(
    '/runtime/v1/merchants/:appId/messages',
    {
      config: { access: 'runtime' },
      schema: {
        tags: ['runtime'],
        summary: "Sends a subscription message to one of the merchant's users, on the merchant's behalf",
        security: keySecurity,
        params: AppIdParams,
        body: Type.Object({
          openId: OpenId,
          templateId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
          page: Type.Optional(Type.String({ maxLength: 512 })),
          data: Type.Record(Type.String({ maxLength: 64 }), Type.Unknown(), { maxProperties: 50 }),
        }),
        response: { 201: Type.Object({ messageId: Type.String(), sentAt: Type.Integer() }), ...errors },
      },
    },
    async (request, reply) => reply.code(201).send(await ctx.runtime.sendMessage(request.params.appId, request.body)),
  );

  app.get(
    '/runtime/v1/merchants/:appId/users',
    {
      config: { access: 'runtime' },
      schema: {
        tags: ['runtime'],
        summary: "The merchant's users (openId, first/last seen, has phone), by openId, cursor-paged",
        security: keySecurity,
        params: AppIdParams,
        querystring: UsersQuery,
        response: { 200: RuntimeUserPage, ...errors },
      },
    },
    (request) => ctx.runtime.users(request.params.appId, { limit: request.query.limit, ...(request.query.cursor ? { cursor: request.query.cursor } : {}) }),
  );
}
