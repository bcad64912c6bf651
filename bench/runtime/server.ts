/**
 * The runtime bench's child process, one script for both servers so they are started and measured the same
 * way (`node --import tsx bench/runtime/server.ts <mode>`, loopback, PORT from the environment):
 *
 *   service  the provider server exactly as `npm run serve` starts it (src/server/main.ts): config from the
 *            environment, `startService`, closed on SIGTERM.
 *   bare     a bare Fastify app with one route, `POST /bare`: parses the JSON body (the bench sends the
 *            introspection request's body and headers, byte for byte the same size) and answers an object
 *            of the introspection answer's shape and size. Nothing else: no hooks, no schema, no logger.
 *
 * Either tells the parent its URL over the IPC channel once it listens: `{ready: url}`.
 */
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { serverConfigFromEnv } from '../../src/server/config.ts';
import { startService } from '../../src/server/service.ts';

const mode = process.argv[2];

function ready(url: string, close: () => Promise<void>): void {
  process.send?.({ ready: url });
  const stop = (): void => {
    void close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  // The parent went away without a signal: leave too.
  process.once('disconnect', stop);
}

if (mode === 'service') {
  const service = await startService(serverConfigFromEnv());
  ready(service.url, () => service.close());
} else if (mode === 'bare') {
  const app = Fastify({ logger: false });
  // What an introspection answers for a live session: {active, appId, openId, expiresAt}.
  const appId = `ks${'0'.repeat(14)}01`;
  const openId = randomBytes(16).toString('hex');
  app.post<{ Body: { sessionToken?: unknown } }>('/bare', (request) => ({
    active: typeof request.body.sessionToken === 'string',
    appId,
    openId,
    expiresAt: Date.now() + 604_800_000,
  }));
  const url = (await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' })).replace('[::1]', '127.0.0.1');
  ready(url, () => app.close());
} else {
  process.stderr.write(`usage: server.ts service|bare (got ${String(mode)})\n`);
  process.exit(2);
}
