/**
 * A loopback Fastify server that answers the session routes of docs/runtime.md (`/runtime/v1`) the way
 * ks-isv does, with switches for the failure paths the client must handle. Not ks-isv's server: only
 * the HTTP contract, so the client is tested against real HTTP through each transport.
 */
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';

export const APP_ID = 'ks0000000000000001';
/** An appId whose POST /sessions answers 502 with an HTML body (a proxy in front of ks-isv failing). */
export const BROKEN_APP = 'ks0000000000000502';
/** An appId whose POST /sessions answers 429 rate_limited with `retry-after: 7`. */
export const LIMITED_APP = 'ks0000000000000429';

export interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: unknown;
}

export interface MimicServer {
  baseUrl: string;
  seen: Seen[];
  /** Ends every session (as expiry or the merchant's revocation would). */
  expireAll(): void;
  /** When true, every session route answers 401 session_invalid, even for a fresh token. */
  alwaysInvalid: boolean;
  close(): Promise<void>;
}

const fail = (reply: FastifyReply, status: number, code: string, message: string, details: Record<string, unknown> = {}) =>
  reply.code(status).send({ error: { code, message, details } });

export async function startMimicServer(): Promise<MimicServer> {
  const app = Fastify();
  // Fastify's own JSON parser, as ks-isv's server: an empty body with `content-type: application/json`
  // is refused (400), which the fake ks.request's default content type would provoke on a bodyless call.
  app.setErrorHandler((error: { statusCode?: number; code?: string; message: string }, _request, reply) =>
    fail(reply, error.statusCode ?? 500, 'invalid_request', error.message, { fastifyCode: error.code }),
  );

  const sessions = new Map<string, { appId: string; openId: string }>();
  let issued = 0;
  const state: MimicServer = {
    baseUrl: '',
    seen: [],
    expireAll: () => sessions.clear(),
    alwaysInvalid: false,
    close: () => app.close(),
  };

  app.addHook('onRequest', (request, _reply, done) => {
    state.seen.push({ method: request.method, url: request.url, authorization: request.headers.authorization, contentType: request.headers['content-type'], body: undefined });
    done();
  });
  app.addHook('preHandler', (request, _reply, done) => {
    const last = state.seen[state.seen.length - 1];
    if (last) last.body = request.body;
    done();
  });

  const session = (request: FastifyRequest, reply: FastifyReply) => {
    const match = /^Bearer (kss_\w+)$/.exec(request.headers.authorization ?? '');
    const found = match ? sessions.get(match[1]!) : undefined;
    if (!match || !found || state.alwaysInvalid) {
      void fail(reply, 401, 'session_invalid', 'the session is not valid (unknown, expired or logged out): log in again');
      return undefined;
    }
    return { token: match[1]!, ...found };
  };

  app.post('/runtime/v1/sessions', async (request, reply) => {
    const body = request.body as { appId?: unknown; code?: unknown } | undefined;
    if (typeof body?.appId !== 'string' || typeof body.code !== 'string') return fail(reply, 400, 'invalid_request', 'appId and code are required');
    if (body.appId === BROKEN_APP) return reply.code(502).type('text/html').send('<html><body>502 Bad Gateway</body></html>');
    if (body.appId === LIMITED_APP) return reply.code(429).header('retry-after', '7').send({ error: { code: 'rate_limited', message: 'too many logins', details: { limit: 10 } } });
    if (body.code === 'bad-code') return fail(reply, 401, 'code_invalid', 'the code is not valid for this mini-program');
    issued += 1;
    const token = `kss_token${issued}`;
    sessions.set(token, { appId: body.appId, openId: 'open_user_1' });
    return reply.code(201).send({ sessionToken: token, openId: 'open_user_1', expiresAt: 1_900_000_000_000 });
  });

  app.get('/runtime/v1/me', async (request, reply) => {
    const found = session(request, reply);
    if (!found) return reply;
    return { appId: found.appId, openId: found.openId, merchant: { name: '川味小馆' }, ext: { shopName: '川味小馆', theme: 'red' }, phone: null };
  });

  app.post('/runtime/v1/me/phone', async (request, reply) => {
    const found = session(request, reply);
    if (!found) return reply;
    const body = request.body as { encryptedData?: unknown; iv?: unknown } | undefined;
    if (typeof body?.encryptedData !== 'string' || typeof body.iv !== 'string') return fail(reply, 400, 'invalid_request', 'encryptedData and iv are required');
    if (body.encryptedData === 'garbage') return fail(reply, 422, 'phone_data_invalid', 'the phone data could not be opened with this session');
    return { phoneNumber: '+86 13800138000', purePhoneNumber: '13800138000', countryCode: '86' };
  });

  app.delete('/runtime/v1/sessions/current', async (request, reply) => {
    const found = session(request, reply);
    if (!found) return reply;
    sessions.delete(found.token);
    return reply.code(204).send();
  });

  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  state.baseUrl = `${address}/runtime/v1`;
  return state;
}
