/**
 * Bearer API keys with roles (viewer < operator < admin) on every route that does not declare itself
 * public (the public ones are rate-limited per IP: public-rate-limit.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Role } from '../fleet/model.ts';
import type { ApiKeyRepository } from '../fleet/ports.ts';
import { verifyApiKey } from './api-keys.ts';
import type { ActiveSession } from '../runtime/model.ts';
import type { Access } from './context.ts';
import { HttpError } from './http-errors.ts';

// A runtime key ranks below every /api/v1 route; the runtime-key routes take that role only.
const RANK: Record<Role, number> = { runtime: 0, viewer: 1, operator: 2, admin: 3 };

export interface AuthOptions {
  keys: ApiKeyRepository;
  /** Opens session tokens on `session` routes (401 session_invalid / 403 merchant_not_authorized). */
  sessions: { authenticate(token: string): Promise<ActiveSession> };
}

function bearer(header: string | undefined): string | undefined {
  // The scheme name is case-insensitive (RFC 7235).
  return header && /^bearer\s+/i.test(header) ? header.replace(/^bearer\s+/i, '').trim() : undefined;
}

export function registerAuth(app: FastifyInstance, options: AuthOptions): void {
  const lastTouched = new Map<string, number>();

  app.decorateRequest('actor', undefined);
  app.decorateRequest('runtimeSession', undefined);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const access: Access | undefined = request.routeOptions.config.access;
    // Not-found and static routes; signed pushes; public routes (rate-limited by their own hook); logins.
    if (access === undefined || access === 'push' || access === 'public' || access === 'login') return;
    const presented = bearer(request.headers.authorization);
    if (access === 'session') {
      if (!presented) throw new HttpError(401, 'session_invalid', 'a session is required: Authorization: Bearer <sessionToken>');
      request.runtimeSession = await options.sessions.authenticate(presented);
      return;
    }
    if (!presented) throw new HttpError(401, 'unauthenticated', 'an API key is required: Authorization: Bearer <key>');
    const key = await verifyApiKey(options.keys, presented);
    if (!key) throw new HttpError(401, 'unauthenticated', 'the API key is not valid (unknown or revoked)');
    const allowed = access === 'runtime' ? key.role === 'runtime' : RANK[key.role] >= RANK[access];
    if (!allowed) {
      const needs = access === 'runtime' ? 'a runtime key (the provider\'s business back end)' : `the ${access} role`;
      throw new HttpError(403, 'forbidden', `this needs ${needs}; the key has ${key.role}`, { required: access, role: key.role });
    }
    request.actor = { keyId: key.id, role: key.role };
    const now = Date.now();
    if (now - (lastTouched.get(key.id) ?? 0) > 60_000) {
      lastTouched.set(key.id, now);
      await options.keys.touch(key.id, now);
    }
  });
}
