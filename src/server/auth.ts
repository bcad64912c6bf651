/**
 * Bearer API keys with roles (viewer < operator < admin) on every route that does not declare itself
 * public, and a per-IP rate limit on the public ones.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Role } from '../fleet/model.ts';
import type { ApiKeyRepository } from '../fleet/ports.ts';
import { verifyApiKey } from './api-keys.ts';
import type { Access } from './context.ts';
import { HttpError } from './http-errors.ts';

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

export interface AuthOptions {
  keys: ApiKeyRepository;
  /** Requests per minute per IP on public routes. */
  publicRateLimit?: number;
}

export function registerAuth(app: FastifyInstance, options: AuthOptions): void {
  const lastTouched = new Map<string, number>();
  const windows = new Map<string, { start: number; count: number }>();
  const limit = options.publicRateLimit ?? 600;

  app.decorateRequest('actor', undefined);
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const access: Access | undefined = request.routeOptions.config.access;
    if (access === undefined || access === 'push') return; // not-found and static routes; signed pushes
    if (access === 'public') {
      const now = Date.now();
      const window = windows.get(request.ip);
      if (!window || now - window.start >= 60_000) {
        if (windows.size > 10_000) windows.clear();
        windows.set(request.ip, { start: now, count: 1 });
      } else if (++window.count > limit) {
        void reply.header('retry-after', String(Math.ceil((window.start + 60_000 - now) / 1000)));
        throw new HttpError(429, 'rate_limited', 'too many requests; slow down');
      }
      return;
    }
    const header = request.headers.authorization;
    // The scheme name is case-insensitive (RFC 7235).
    const presented = header && /^bearer\s+/i.test(header) ? header.replace(/^bearer\s+/i, '').trim() : undefined;
    if (!presented) throw new HttpError(401, 'unauthenticated', 'an API key is required: Authorization: Bearer <key>');
    const key = await verifyApiKey(options.keys, presented);
    if (!key) throw new HttpError(401, 'unauthenticated', 'the API key is not valid (unknown or revoked)');
    if (RANK[key.role] < RANK[access]) {
      throw new HttpError(403, 'forbidden', `this needs the ${access} role; the key has ${key.role}`, { required: access, role: key.role });
    }
    request.actor = { keyId: key.id, role: key.role };
    const now = Date.now();
    if (now - (lastTouched.get(key.id) ?? 0) > 60_000) {
      lastTouched.set(key.id, now);
      await options.keys.touch(key.id, now);
    }
  });
}
