/** Templates (synced from the platform) and ext config: template defaults, merchant overrides, history. */
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { actorOf, type ServerContext } from '../context.ts';
import { AppIdParams, errorResponses, Nullable } from '../schemas.ts';

const TemplateId = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const ExtObject = Type.Record(Type.String(), Type.Unknown(), { description: 'a JSON object (at most 32 KiB serialized, 10 levels deep)' });
const BaseVersion = Type.Integer({ minimum: 0, maximum: 2_147_483_647, description: 'the version this write edits (0: never written); a stale one → 409 ext_version_conflict' });
const Cursor = Nullable(Type.String());

const Loose = { additionalProperties: true } as const;
const PageList = Type.Array(Type.String(), { description: 'page paths, a subset of the template\'s' });
/**
 * The app.json fields an upload's ext.json sets (Kuaishou: docs/saas/develop/devTool.html); in a write,
 * `null` removes a field (or a key inside window / networkTimeout / extPages) inherited from the level above.
 * The fleet names any unknown field and checks the rest (docs/templates-ext.md).
 */
const AppConfigObject = Type.Object(
  {
    pages: Type.Optional(Nullable(PageList)),
    extPages: Type.Optional(Nullable(Type.Record(Type.String(), Nullable(Type.Record(Type.String(), Type.Unknown())), { description: 'page path → page.json overrides' }))),
    subPackages: Type.Optional(Nullable(Type.Array(Type.Object({ root: Type.String(), pages: PageList }, Loose), { description: 'replaces the template\'s whole' }))),
    window: Type.Optional(Nullable(Type.Record(Type.String(), Type.Unknown()))),
    tabBar: Type.Optional(Nullable(Type.Object({ list: Type.Optional(Type.Array(Type.Object({ pagePath: Type.String(), text: Type.Optional(Type.String()) }, Loose))) }, Loose))),
    networkTimeout: Type.Optional(Nullable(Type.Record(Type.String(), Nullable(Type.Integer())))),
  },
  { ...Loose, description: 'app config: the ext.json fields beside `ext` (pages, extPages, subPackages, window, tabBar, networkTimeout)' },
);

const TemplateList = Type.Object({ items: Type.Array(Type.Ref('Template')) });

const TemplateExt = Type.Object({
  templateId: Type.Integer(),
  ext: ExtObject,
  appConfig: AppConfigObject,
  version: Type.Integer(),
  updatedAt: Nullable(Type.Number()),
  updatedBy: Nullable(Type.String()),
});

const MerchantExt = Type.Object({
  appId: Type.String(),
  templateId: Type.Integer(),
  defaults: ExtObject,
  overrides: ExtObject,
  effective: ExtObject,
  appConfigDefaults: AppConfigObject,
  appConfigOverrides: AppConfigObject,
  effectiveAppConfig: AppConfigObject,
  version: Type.Integer(),
  updatedAt: Nullable(Type.Number()),
  updatedBy: Nullable(Type.String()),
});

const ExtPreview = Type.Object({
  appId: Type.String(),
  templateId: Type.Integer(),
  extJson: Type.Object(
    { extEnable: Type.Literal(true), extAppId: Type.String(), ext: ExtObject },
    { ...Loose, description: 'the whole ext.json an upload sends now: extEnable, extAppId (this merchant), ext (the effective custom config) and the effective app config' },
  ),
});

const ExtHistory = Type.Object({
  items: Type.Array(
    Type.Object({
      templateId: Type.Integer(),
      appId: Nullable(Type.String()),
      version: Type.Integer(),
      document: ExtObject,
      appConfig: AppConfigObject,
      actorKeyId: Nullable(Type.String()),
      at: Type.Number(),
    }),
  ),
  nextCursor: Cursor,
});

export function templateRoutes(root: FastifyInstance, ctx: ServerContext): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  const tags = ['templates'];

  app.get('/api/v1/templates', {
    config: { access: 'viewer' },
    schema: { tags, summary: "The component's template library, as last synced from the platform", response: { 200: TemplateList, ...errorResponses } },
  }, async () => ({ items: await ctx.templates.list() }));

  app.post('/api/v1/templates/sync', {
    config: { access: 'operator' },
    schema: { tags, summary: 'Syncs the template library from the platform now', response: { 200: TemplateList, ...errorResponses } },
  }, async (request) => ({ items: await ctx.templates.syncBy(actorOf(request)) }));

  const TemplateParams = Type.Object({ templateId: TemplateId });

  app.get('/api/v1/templates/:templateId/ext', {
    config: { access: 'viewer' },
    schema: { tags, summary: "A template's ext defaults", params: TemplateParams, response: { 200: TemplateExt, ...errorResponses } },
  }, (request) => ctx.ext.templateDefaults(request.params.templateId));

  app.put('/api/v1/templates/:templateId/ext', {
    config: { access: 'operator' },
    schema: {
      tags,
      summary: "Replaces a template's ext defaults: its custom config, its app config, or both (a part left out is kept)",
      params: TemplateParams,
      body: Type.Object({ ext: Type.Optional(ExtObject), appConfig: Type.Optional(AppConfigObject), baseVersion: BaseVersion }, { additionalProperties: false }),
      response: { 200: TemplateExt, ...errorResponses },
    },
  }, (request) => ctx.ext.putTemplateDefaults(actorOf(request), request.params.templateId, request.body));

  app.get('/api/v1/merchants/:appId/ext', {
    config: { access: 'viewer' },
    schema: {
      tags,
      summary: "A merchant's ext: the template's defaults, its overrides, and the effective (merged) document",
      params: AppIdParams,
      querystring: Type.Object({ templateId: Type.Optional(TemplateId) }),
      response: { 200: MerchantExt, ...errorResponses },
    },
  }, (request) => ctx.ext.merchantExt(request.params.appId, request.query.templateId));

  app.put('/api/v1/merchants/:appId/ext', {
    config: { access: 'operator' },
    schema: {
      tags,
      summary: "Replaces a merchant's ext overrides for a template: custom config, app config, or both (null removes a default key)",
      params: AppIdParams,
      body: Type.Object(
        { templateId: TemplateId, overrides: Type.Optional(ExtObject), appConfig: Type.Optional(AppConfigObject), baseVersion: BaseVersion },
        { additionalProperties: false },
      ),
      response: { 200: MerchantExt, ...errorResponses },
    },
  }, (request) => {
    const { templateId, overrides, appConfig, baseVersion } = request.body;
    return ctx.ext.putMerchantExt(actorOf(request), request.params.appId, templateId, { ext: overrides, appConfig, baseVersion });
  });

  app.get('/api/v1/merchants/:appId/ext/preview', {
    config: { access: 'viewer' },
    schema: {
      tags,
      summary: 'The ext.json an upload of the template to this merchant would send now (nothing is called)',
      params: AppIdParams,
      querystring: Type.Object({ templateId: Type.Optional(TemplateId) }),
      response: { 200: ExtPreview, ...errorResponses },
    },
  }, (request) => ctx.ext.preview(request.params.appId, request.query.templateId));

  app.get('/api/v1/merchants/:appId/ext/history', {
    config: { access: 'viewer' },
    schema: {
      tags,
      summary: "Every version of a merchant's ext overrides, newest first",
      params: AppIdParams,
      querystring: Type.Object({
        templateId: Type.Optional(TemplateId),
        limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
        cursor: Type.Optional(Type.String({ maxLength: 200 })),
      }),
      response: { 200: ExtHistory, ...errorResponses },
    },
  }, (request) => {
    const { templateId, limit, cursor } = request.query;
    return ctx.ext.merchantHistory(request.params.appId, { limit, ...(templateId !== undefined ? { templateId } : {}), ...(cursor !== undefined ? { cursor } : {}) });
  });
}
