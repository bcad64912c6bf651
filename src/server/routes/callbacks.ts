/**
 * The platform's pushes (POST /callbacks/auth, /callbacks/events) and the merchant's browser coming back
 * from the authorization page (GET /callbacks/authorize). Pushes are verified over the RAW body, so this
 * plugin parses JSON itself.
 */
import type { FastifyInstance } from 'fastify';
import { FleetError } from '../../fleet/errors.ts';
import { openPush, PUSH_SIGNATURE_HEADER, pushAck, PushError } from '../../kuaishou/index.ts';
import type { ServerContext } from '../context.ts';
import { errorBody } from '../http-errors.ts';

const PUSH_BODY_LIMIT = 256 * 1024;
/** Pushes stamped further from now than this are refused as replays (the platform resends within minutes). */
export const PUSH_MAX_AGE_MS = 60 * 60_000;
const PUSH_MAX_FUTURE_MS = 5 * 60_000;

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function resultPage(title: string, message: string): string {
  return `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;max-width:560px;margin:4rem auto;padding:0 1rem;color:#222}</style></head>
<body><h1>${escapeHtml(title)}</h1><p>${message}</p></body></html>`;
}

export async function callbackRoutes(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  await app.register((scope, _options, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: PUSH_BODY_LIMIT }, (_request, body, next) => next(null, body));

    // Fastify's request lines ("incoming request", "request completed") are at info: a pair per push would
    // fill the log and cost a share of each push's time. At LOG_LEVEL=info pushes log from warn up (refused
    // and unapplied pushes still appear; counts are in /metrics); at debug or trace, everything.
    const logLevel = scope.log.level === 'info' ? { logLevel: 'warn' as const } : {};
    for (const channel of ['auth', 'events'] as const) {
      scope.post(`/callbacks/${channel}`, { ...logLevel, config: { access: 'push' }, schema: { hide: true } }, async (request, reply) => {
        // From the received body to the answer: verification, decryption and the store's commit.
        const started = performance.now();
        const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const signature = request.headers[PUSH_SIGNATURE_HEADER];
        let opened;
        try {
          opened = openPush(raw, typeof signature === 'string' ? signature : undefined, ctx.pushKeys);
        } catch (error) {
          if (!(error instanceof PushError)) throw error;
          ctx.metrics.push('rejected', error.code);
          ctx.metrics.pushHandled('rejected', (performance.now() - started) / 1000);
          request.log.warn({ channel, reason: error.code }, 'push refused');
          return reply.code(error.code === 'bad_signature' ? 401 : 400).send(errorBody(error.code, error.message));
        }
        const age = Date.now() - opened.timestamp;
        if (age > PUSH_MAX_AGE_MS || age < -PUSH_MAX_FUTURE_MS) {
          ctx.metrics.push('rejected', 'stale');
          ctx.metrics.pushHandled('rejected', (performance.now() - started) / 1000);
          request.log.warn({ channel, msgId: opened.msgId }, 'stale push refused');
          return reply.code(400).send(errorBody('stale_push', 'the push timestamp is outside the accepted window (replay?)'));
        }
        try {
          const result = await ctx.pushes.handle(channel, opened);
          ctx.metrics.push(opened.event.type, result);
          ctx.metrics.pushHandled(opened.event.type, (performance.now() - started) / 1000);
          return pushAck(opened.msgId);
        } catch (error) {
          // Not acknowledged: the platform resends, and the next attempt may succeed.
          ctx.metrics.push(opened.event.type, 'retry');
          ctx.metrics.pushHandled(opened.event.type, (performance.now() - started) / 1000);
          const message = error instanceof FleetError ? error.message : 'could not apply the push';
          request.log.warn({ channel, msgId: opened.msgId, event: opened.event.type, error: message }, 'push not applied; left for the platform to resend');
          return reply.code(503).send(errorBody('push_not_applied', message));
        }
      });
    }
    done();
  });

  app.get<{ Querystring: { authorization_code?: string } }>(
    '/callbacks/authorize',
    { config: { access: 'public' }, schema: { hide: true } },
    async (request, reply) => {
      void reply.type('text/html; charset=utf-8');
      const code = request.query.authorization_code;
      if (typeof code !== 'string' || code.length === 0 || code.length > 512) {
        return reply.code(400).send(resultPage('授权未完成', '缺少授权码（authorization_code）。请重新打开服务商提供的授权链接。'));
      }
      try {
        const merchant = await ctx.merchants.completeAuthorization(code, 'redirect');
        // Quick activation: whether this redirect or the push exchanged the code, the merchant is authorized now.
        ctx.onboarding.trigger(merchant.appId, 'redirect');
        return resultPage('授权成功', `小程序 <b>${escapeHtml(merchant.appId)}</b> 已授权给服务商（权限集 ${merchant.permissions.join('、')}）。可以关闭此页面。<br><small>Authorization complete.</small>`);
      } catch (error) {
        const message = error instanceof FleetError ? error.message : 'internal error';
        request.log.warn({ error: message }, 'authorization redirect failed');
        return reply.code(error instanceof FleetError && error.type === 'platform_rejected' ? 400 : 502)
          .send(resultPage('授权未完成', `${escapeHtml(message)}<br>请重新打开授权链接，或联系服务商。`));
      }
    },
  );
}
