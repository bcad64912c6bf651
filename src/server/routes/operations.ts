/** The seed's per-merchant operations: domains, code, audit, QR code, versions, release, rollback, capabilities. */
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import type { ServerDomainsChange, Versions } from '../../fleet/platform-port.ts';
import { invalid } from '../../fleet/errors.ts';
import { actorOf, type ServerContext } from '../context.ts';
import {
  AppIdParams,
  AuditBody,
  CapabilityBody,
  CapabilityParams,
  errorResponses,
  OptionalBody,
  QrQuery,
  ServerDomainsBody,
  UploadBody,
  WebviewDomainsBody,
} from '../schemas.ts';

const Accepted = Type.Object({ ok: Type.Literal(true) });
const ok = { ok: true as const };

function versionsBody(versions: Versions) {
  return { dev: versions.development ?? null, audit: versions.audit ?? null, online: versions.online ?? null };
}

export function operationRoutes(root: FastifyInstance, ctx: ServerContext): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const m = ctx.merchants;
  const tags = ['operations'];

  app.get('/api/v1/merchants/:appId/domains/server', {
    config: { access: 'viewer' },
    schema: { tags, summary: 'Server domains (服务器域名)', params: AppIdParams, response: { 200: Type.Ref('ServerDomains'), ...errorResponses } },
  }, (request) => m.serverDomains(actorOf(request), request.params.appId, { action: 'get' }));

  app.post('/api/v1/merchants/:appId/domains/server', {
    config: { access: 'operator' },
    schema: { tags, summary: 'Adds, replaces, deletes or gets server domains', params: AppIdParams, body: ServerDomainsBody, response: { 200: Type.Ref('ServerDomains'), ...errorResponses } },
  }, (request) => {
    const { action, ...lists } = request.body;
    const change: ServerDomainsChange = action === 'get' ? { action } : { action, ...lists };
    if (action !== 'get' && action !== 'set' && Object.values(lists).every((list) => !list?.length)) {
      throw invalid(`${action} needs at least one domain in request, socket, uploadFile, downloadFile or udp`);
    }
    return m.serverDomains(actorOf(request), request.params.appId, change);
  });

  app.get('/api/v1/merchants/:appId/domains/webview', {
    config: { access: 'viewer' },
    schema: { tags, summary: 'Webview (business) domains (业务域名)', params: AppIdParams, response: { 200: Type.Object({ domains: Type.Array(Type.String()) }), ...errorResponses } },
  }, async (request) => ({ domains: await m.webviewDomains(actorOf(request), request.params.appId, { action: 'get' }) }));

  app.post('/api/v1/merchants/:appId/domains/webview', {
    config: { access: 'operator' },
    schema: { tags, summary: 'Adds, replaces, deletes or gets webview domains', params: AppIdParams, body: WebviewDomainsBody, response: { 200: Type.Object({ domains: Type.Array(Type.String()) }), ...errorResponses } },
  }, async (request) => {
    const { action, domains } = request.body;
    if (action !== 'get' && action !== 'set' && !domains?.length) throw invalid(`${action} needs at least one domain`);
    const change = action === 'get' ? { action } : { action, domains: domains ?? [] };
    return { domains: await m.webviewDomains(actorOf(request), request.params.appId, change) };
  });

  app.post('/api/v1/merchants/:appId/code', {
    config: { access: 'operator' },
    schema: { tags, summary: 'Uploads the template with ext config (上传代码)', params: AppIdParams, body: UploadBody, response: { 200: Accepted, ...errorResponses } },
  }, async (request) => {
    const { templateId, userVersion, userDesc, extJson } = request.body;
    // extJson: this upload's custom config (the ext.json's `ext`), as an object or its JSON text; absent: the merchant's effective one.
    let given: Record<string, unknown> | undefined;
    if (typeof extJson === 'string') {
      try {
        const parsed: unknown = JSON.parse(extJson);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        given = parsed as Record<string, unknown>;
      } catch {
        throw invalid('extJson must be a JSON object (or its JSON text)');
      }
    } else given = extJson;
    const { appId } = request.params;
    // The app config is always the merchant's effective one.
    const effective = await ctx.ext.effectiveUpload(appId, templateId);
    await m.uploadCode(actorOf(request), appId, { templateId, userVersion, userDesc, ...effective, ...(given && { ext: given }) });
    return ok;
  });

  app.post('/api/v1/merchants/:appId/audit', {
    config: { access: 'operator' },
    schema: { tags, summary: 'Submits the development version for audit (提交审核)', params: AppIdParams, body: OptionalBody(AuditBody), response: { 200: Accepted, ...errorResponses } },
  }, async (request) => {
    await m.submitAudit(actorOf(request), request.params.appId, request.body?.note);
    return ok;
  });

  app.post('/api/v1/merchants/:appId/audit/withdraw', {
    config: { access: 'operator' },
    schema: { tags, summary: 'Withdraws the version under audit (审核撤回)', params: AppIdParams, response: { 200: Accepted, ...errorResponses } },
  }, async (request) => {
    await m.withdrawAudit(actorOf(request), request.params.appId);
    return ok;
  });

  app.get('/api/v1/merchants/:appId/qrcode', {
    config: { access: 'viewer' },
    schema: {
      tags,
      summary: 'Experience QR code as image/png (体验二维码)',
      params: AppIdParams,
      querystring: QrQuery,
      response: { 200: { description: 'PNG image', content: { 'image/png': { schema: { type: 'string', format: 'binary' } } } }, ...errorResponses },
    },
  }, async (request, reply) => {
    const qr = await m.qrCode(request.params.appId, request.query.version, request.query.path);
    return reply.type('image/png').header('cache-control', 'no-store').send(Buffer.from(qr.png));
  });

  app.get('/api/v1/merchants/:appId/versions', {
    config: { access: 'viewer' },
    schema: { tags, summary: 'Development, audit and online versions (查看版本)', params: AppIdParams, response: { 200: Type.Ref('Versions'), ...errorResponses } },
  }, async (request) => versionsBody(await m.versions(request.params.appId)));

  app.post('/api/v1/merchants/:appId/release', {
    config: { access: 'operator' },
    schema: { tags, summary: 'Releases the passed audit version (发布)', params: AppIdParams, response: { 200: Accepted, ...errorResponses } },
  }, async (request) => {
    await m.release(actorOf(request), request.params.appId);
    return ok;
  });

  app.post('/api/v1/merchants/:appId/rollback', {
    config: { access: 'operator' },
    schema: { tags, summary: 'Rolls back to the previous online version (版本回退)', params: AppIdParams, response: { 200: Accepted, ...errorResponses } },
  }, async (request) => {
    await m.rollback(actorOf(request), request.params.appId);
    return ok;
  });

  app.post('/api/v1/merchants/:appId/capabilities/:capability', {
    config: { access: 'operator' },
    schema: { tags, summary: 'Applies for a capability (短视频挂载/直播挂载/发快手/获取手机号)', params: CapabilityParams, body: OptionalBody(CapabilityBody), response: { 200: Type.Ref('Capability'), ...errorResponses } },
  }, (request) => m.applyCapability(actorOf(request), request.params.appId, request.params.capability, request.body?.reason));

  app.get('/api/v1/merchants/:appId/capabilities/:capability', {
    config: { access: 'viewer' },
    schema: { tags, summary: "A capability application's status", params: CapabilityParams, response: { 200: Type.Ref('Capability'), ...errorResponses } },
  }, (request) => m.capabilityStatus(request.params.appId, request.params.capability));
}
