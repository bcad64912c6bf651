/**
 * Request and response schemas of the REST API (TypeBox → JSON Schema): validated on the way in, used to
 * serialise on the way out (unknown fields never leak), and published as OpenAPI.
 */
import { Type, type Static, type TSchema } from 'typebox';
import { CAPABILITY_NAMES } from '../fleet/model.ts';
import { MERCHANT_SORTS } from '../fleet/ports.ts';

export const ErrorSchema = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Record(Type.String(), Type.Unknown()),
    }),
  },
  { $id: 'Error' },
);

export const errorResponses = {
  400: Type.Ref('Error'),
  401: Type.Ref('Error'),
  403: Type.Ref('Error'),
  404: Type.Ref('Error'),
  409: Type.Ref('Error'),
  422: Type.Ref('Error'),
  502: Type.Ref('Error'),
  503: Type.Ref('Error'),
};

export const AppIdParams = Type.Object({ appId: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }) });

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/**
 * A response field that is one of `values`: published as a string `enum`, so the generated client types
 * get the union, and serialised as the plain string it was. (A `Type.Union` of literals would make the
 * serializer check the value against each branch and throw on any other.)
 */
export const StringEnum = <const T extends readonly string[]>(values: T) => Type.Unsafe<T[number]>({ type: 'string', enum: [...values] });

/** Marks an `OptionalBody` so that `unrequireOptionalBodies` can find it in the OpenAPI document. */
const OPTIONAL_BODY = 'x-optional-body';

/**
 * A body that may be left out. Fastify validates a missing body as `null`, so `Type.Optional` (which only
 * means something inside an object) would still demand one. `const: null` rather than `type: 'null'`:
 * type coercion would turn a body of `false`, `0` or `""` into null.
 */
export const OptionalBody = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Unsafe<null>({ const: null })], { [OPTIONAL_BODY]: true });

type OpenApiMedia = { schema?: Record<string, unknown> };
type OpenApiParameter = { in?: string; required?: boolean; schema?: Record<string, unknown> };
type OpenApiOperation = { parameters?: OpenApiParameter[]; requestBody?: { required?: boolean; content?: Record<string, OpenApiMedia> } };

/**
 * What a client may leave out, published as such (used as the swagger plugin's `transformObject`, so
 * /openapi.json and the client types generated from it, `npm run gen:api`, say the same):
 * - @fastify/swagger declares every body schema `required: true`; an `OptionalBody` is published with
 *   `required: false` (its schema kept: the object, or `null`).
 * - A query parameter with a default (`limit`) is required in its TypeBox object, so that handlers see
 *   it filled in, but a request may omit it: it is published `required: false`.
 */
export function unrequireOptionalBodies<T extends object>(document: T): T {
  const paths = (document as { paths?: Record<string, Record<string, OpenApiOperation>> }).paths ?? {};
  for (const operations of Object.values(paths)) {
    for (const operation of Object.values(operations)) {
      for (const parameter of operation.parameters ?? []) {
        if (parameter.in === 'query' && parameter.schema !== undefined && 'default' in parameter.schema) parameter.required = false;
      }
      const body = operation.requestBody;
      for (const media of Object.values(body?.content ?? {})) {
        if (body === undefined || media.schema?.[OPTIONAL_BODY] !== true) continue;
        body.required = false;
        const { [OPTIONAL_BODY]: _marker, ...schema } = media.schema;
        media.schema = schema;
      }
    }
  }
  return document;
}

export const MerchantSchema = Type.Object(
  {
    appId: Type.String(),
    name: Nullable(Type.String()),
    status: Type.Union([Type.Literal('authorized'), Type.Literal('revoked')]),
    permissions: Type.Array(Type.Integer()),
    authorizedAt: Type.Number(),
    revokedAt: Nullable(Type.Number()),
    createdAt: Type.Number(),
    updatedAt: Type.Number(),
    lastAudit: Nullable(
      Type.Object({
        userVersion: Type.String(),
        state: Type.String(),
        reason: Type.Optional(Type.String()),
        at: Type.Number(),
      }),
    ),
  },
  { $id: 'Merchant' },
);

export const CapabilitySchema = Type.Object(
  {
    appId: Type.String(),
    capability: Type.String(),
    status: Type.String(),
    reason: Nullable(Type.String()),
    updatedAt: Type.Number(),
  },
  { $id: 'Capability' },
);

export const MerchantListQuery = Type.Object({
  status: Type.Optional(Type.Union([Type.Literal('authorized'), Type.Literal('revoked')])),
  q: Type.Optional(Type.String({ maxLength: 100 })),
  auditState: Type.Optional(Type.Union(['auditing', 'passed', 'rejected', 'withdrawn', 'none'].map((state) => Type.Literal(state)))),
  auditVersion: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  sort: Type.Optional(Type.Union(MERCHANT_SORTS.map((sort) => Type.Literal(sort)))),
  order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
  /** Also count every merchant the filters match (a second query). */
  total: Type.Optional(Type.Boolean()),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
});

const DomainList = Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { maxItems: 200 });

export const ServerDomainsSchema = Type.Object(
  { request: DomainList, socket: DomainList, uploadFile: DomainList, downloadFile: DomainList, udp: DomainList },
  { $id: 'ServerDomains' },
);

// Closed: a misspelt list name must not be ignored (with `set`, it would clear every list).
export const ServerDomainsBody = Type.Object(
  {
    action: Type.Union([Type.Literal('add'), Type.Literal('set'), Type.Literal('delete'), Type.Literal('get')]),
    request: Type.Optional(DomainList),
    socket: Type.Optional(DomainList),
    uploadFile: Type.Optional(DomainList),
    downloadFile: Type.Optional(DomainList),
    udp: Type.Optional(DomainList),
  },
  { additionalProperties: false },
);

export const WebviewDomainsBody = Type.Object(
  {
    action: Type.Union([Type.Literal('add'), Type.Literal('set'), Type.Literal('delete'), Type.Literal('get')]),
    domains: Type.Optional(DomainList),
  },
  { additionalProperties: false },
);

export const UploadBody = Type.Object({
  templateId: Type.Integer({ minimum: 0 }),
  userVersion: Type.String({ minLength: 1, maxLength: 64 }),
  userDesc: Type.String({ maxLength: 1024, default: '' }),
  /** Left out: the merchant's effective ext for this template (defaults merged with its overrides). */
  extJson: Type.Optional(Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.String({ maxLength: 512 * 1024 })])),
});

export const AuditBody = Type.Object({ note: Type.Optional(Type.String({ maxLength: 1024 })) });

const VersionBase = {
  userVersion: Type.String(),
  userDesc: Type.String(),
  templateId: Type.Number(),
};

export const VersionsSchema = Type.Object(
  {
    dev: Nullable(Type.Object({ ...VersionBase, createdAt: Type.Number() })),
    audit: Nullable(Type.Object({ ...VersionBase, status: Type.String(), reason: Type.Optional(Type.String()), submittedAt: Type.Number() })),
    online: Nullable(
      Type.Object({ ...VersionBase, releasedAt: Type.Number(), canRollback: Type.Boolean(), rollbackVersion: Type.Optional(Type.String()) }),
    ),
  },
  { $id: 'Versions' },
);

export const QrQuery = Type.Object({
  version: Type.Union([Type.Literal('latest'), Type.Literal('audit')], { default: 'latest' }),
  path: Type.Optional(Type.String({ maxLength: 512 })),
});

export const CapabilityParams = Type.Object({
  appId: AppIdParams.properties.appId,
  capability: Type.Union(CAPABILITY_NAMES.map((name) => Type.Literal(name))),
});

export const CapabilityBody = Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) });

export const AuditLogQuery = Type.Object({
  appId: Type.Optional(Type.String({ maxLength: 64 })),
  actor: Type.Optional(Type.String({ maxLength: 64 })),
  action: Type.Optional(Type.String({ maxLength: 64 })),
  limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
});

export const AuditLogEntrySchema = Type.Object(
  {
    id: Type.String(),
    at: Type.Number(),
    actorKeyId: Nullable(Type.String()),
    actorRole: Nullable(Type.String()),
    action: Type.String(),
    appId: Nullable(Type.String()),
    summary: Type.Record(Type.String(), Type.Unknown()),
    result: Type.String(),
    errorCode: Nullable(Type.String()),
  },
  { $id: 'AuditLogEntry' },
);

export const TemplateSchema = Type.Object(
  {
    templateId: Type.Number(),
    userVersion: Type.String(),
    userDesc: Type.String(),
    createdAt: Type.Number(),
    /** When a sync last saw it on the platform. */
    syncedAt: Type.Number(),
  },
  { $id: 'Template' },
);

export const RoleSchema = Type.Union([Type.Literal('viewer'), Type.Literal('operator'), Type.Literal('admin'), Type.Literal('runtime')]);

export const ApiKeySchema = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    role: Type.String(),
    createdAt: Type.Number(),
    lastUsedAt: Nullable(Type.Number()),
    revokedAt: Nullable(Type.Number()),
  },
  { $id: 'ApiKey' },
);

export const SHARED_SCHEMAS = [ErrorSchema, MerchantSchema, CapabilitySchema, ServerDomainsSchema, VersionsSchema, AuditLogEntrySchema, TemplateSchema, ApiKeySchema];

export type MerchantListQueryType = Static<typeof MerchantListQuery>;
