/** The platform itself: the probe of the endpoint table (docs/kuaishou-client.md, "The probe"). */
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { KUAISHOU_BASE_URL, PROBE_OUTCOMES } from '../../kuaishou/index.ts';
import { actorOf, type ServerContext } from '../context.ts';
import { AppIdParams, errorResponses, Nullable, OptionalBody, StringEnum } from '../schemas.ts';

export const ProbeBody = OptionalBody(Type.Object({ appId: Type.Optional(AppIdParams.properties.appId) }, { additionalProperties: false }));

const Names = Nullable(Type.Array(Type.String()));

/** Property order here is the JSON's order (the serializer follows the schema): keep it as the report type's. */
export const ProbeRowSchema = Type.Object(
  {
    id: Type.String({ description: 'row id of the endpoint table (T2, A1…A12)' }),
    operation: Type.String(),
    variant: Nullable(Type.String({ description: 'A11: the capability probed' })),
    method: StringEnum(['GET', 'POST'] as const),
    path: Type.String(),
    source: StringEnum(['doc', 'code', 'inferred'] as const),
    overridden: Type.Boolean({ description: 'path or method from KS_ENDPOINTS_FILE' }),
    outcome: StringEnum(PROBE_OUTCOMES),
    details: Type.Object({
      httpStatus: Nullable(Type.Integer()),
      reason: Nullable(Type.String()),
      seenFields: Names,
      expectedFields: Names,
      mismatchedFields: Names,
      code: Nullable(Type.Integer()),
      codeName: Nullable(Type.String()),
      message: Nullable(Type.String()),
    }),
  },
  { $id: 'ProbeRow' },
);

export const ProbeReportSchema = Type.Object(
  {
    baseUrl: Type.String(),
    componentAppId: Type.String(),
    appId: Nullable(Type.String()),
    overriddenRows: Type.Array(Type.String()),
    ok: Type.Boolean({ description: 'every row that was tried is confirmed' }),
    summary: Type.Object({ confirmed: Type.Integer(), differs: Type.Integer(), refused: Type.Integer(), notTried: Type.Integer() }),
    rows: Type.Array(Type.Ref('ProbeRow')),
  },
  { $id: 'ProbeReport' },
);

export function platformRoutes(root: FastifyInstance, ctx: ServerContext): void {
  const app = root.withTypeProvider<TypeBoxTypeProvider>();
  app.addSchema(ProbeRowSchema);
  app.addSchema(ProbeReportSchema);

  // The console links to the sandbox's pages (the mini-program simulator) only when the platform is one.
  app.get('/api/v1/platform', {
    config: { access: 'viewer' },
    schema: {
      tags: ['platform'],
      summary: 'Which platform this service speaks to: its base URL, and whether it is a sandbox (then the URL of its mini-program simulator)',
      response: {
        200: Type.Object({
          baseUrl: Type.String(),
          componentAppId: Type.String(),
          sandbox: Type.Boolean({ description: 'KS_BASE_URL is not the real Kuaishou Open Platform' }),
          simulatorUrl: Nullable(Type.String({ description: 'with {appId} to fill in, e.g. http://127.0.0.1:4400/sandbox/apps/{appId}' })),
        }),
        ...errorResponses,
      },
    },
  }, () => {
    const { baseUrl, componentAppId } = ctx.platformInfo;
    const sandbox = new URL(baseUrl).host !== new URL(KUAISHOU_BASE_URL).host;
    return { baseUrl, componentAppId, sandbox, simulatorUrl: sandbox ? `${baseUrl.replace(/\/+$/, '')}/sandbox/apps/{appId}` : null };
  });

  app.post('/api/v1/platform/probe', {
    config: { access: 'admin' },
    schema: {
      tags: ['platform'],
      summary: 'Which endpoint rows hold on the platform, from calls that change nothing there (T2, A12; with appId: A1/A2 get, A6, A7, A11)',
      description: 'An appId the service does not know: 404 merchant_not_found. A known merchant without a usable authorization is probed: its rows come back not_tried with the reason.',
      body: ProbeBody,
      response: { 200: Type.Ref('ProbeReport'), ...errorResponses },
    },
  }, (request) => ctx.probe.probe(actorOf(request), request.body?.appId));
}
