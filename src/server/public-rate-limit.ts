/**
 * The per-IP rate limit of the routes anyone may call (`config: { access: 'public' }`: probes, documents,
 * the authorization redirect, and the runtime API to come) with @fastify/rate-limit: a fixed window per
 * client address, kept in a bounded LRU, answered 429 with `retry-after` in the API's error shape. Signed
 * pushes (`access: 'push'`) and the console's files are never limited; API-key routes are limited by their
 * keys' roles, not here.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance } from 'fastify';
import { HttpError } from './http-errors.ts';

/** Requests per minute per client address when nothing is configured. */
export const DEFAULT_PUBLIC_RATE_LIMIT = 600;
const WINDOW_MS = 60_000;
/** Client addresses remembered at once; the least recently seen is forgotten first. */
const TRACKED_CLIENTS = 10_000;

/**
 * Registers the limit; must run before the routes it covers are declared (it attaches to them as they are).
 * `perMinute` 0: no limit at all (benches).
 */
export async function registerPublicRateLimit(app: FastifyInstance, perMinute: number = DEFAULT_PUBLIC_RATE_LIMIT): Promise<void> {
  if (perMinute <= 0) return;
  await app.register(rateLimit, {
    // Only the routes below; every other route has no limit and no hook, so the push receivers pay nothing for it.
    global: false,
    max: perMinute,
    timeWindow: WINDOW_MS,
    cache: TRACKED_CLIENTS,
    // request.ip: the socket's address, or X-Forwarded-For's only when TRUST_PROXY says a proxy sets it.
    errorResponseBuilder: (_request, context) =>
      new HttpError(429, 'rate_limited', 'too many requests; slow down', { limit: context.max, retryAfterS: Math.max(1, Math.ceil(context.ttl / 1000)) }),
  });
  // One handler on the plugin's own store: an address has ONE allowance over all public routes (a
  // route-level `config.rateLimit` would give each route a store, and so an allowance, of its own).
  const limit = app.rateLimit();
  app.addHook('onRoute', (route) => {
    if (route.config?.access !== 'public') return;
    route.onRequest = [limit, ...(route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest])];
  });
}
