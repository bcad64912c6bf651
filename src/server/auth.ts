/**
 * Bearer API keys with roles (viewer < operator < admin) on every route that does not declare itself
 * public (the public ones are rate-limited per IP: public-rate-limit.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Role } from '../fleet/model.ts';
import type { ApiKeyRepository } from '../fleet/ports.ts';
import { verifyApiKey } from './api-keys.ts';
import type { Access } from './context.ts';
import { HttpError } from './http-errors.ts';

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

export interface AuthOptions {
  keys: ApiKeyRepository;
}

export function registerAuth(app: FastifyInstance, options: AuthOptions): void {
  const lastTouched = new Map<string, number>();

  app.decorateRequest('actor', undefined);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    const access: Access | undefined = request.routeOptions.config.access;
    // Not-found and static routes; signed pushes; public routes (rate-limited by their own hook).
    if (access === undefined || access === 'push' || access === 'public') return;
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
