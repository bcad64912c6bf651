/**
 * The control API under /sandbox/api: JSON, for tests, benchmarks and demos. Errors are
 * `{"error": {"code", "message"}}` with a 4xx status (ks-isv's own style, not the platform's).
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { isMessageKey, MAX_TICKET_INTERVAL_S, MAX_TIMER_MS } from '../config.ts';
import type { ComponentConfig } from '../model.ts';
import { parseCapability } from '../rules/capabilities.ts';
import { versionsView } from '../rules/versions.ts';
import type { SandboxRuntime } from '../runtime.ts';
import { SandboxError } from '../sandbox-error.ts';
import { MAX_BULK_MERCHANTS } from '../state.ts';

export class ControlError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function fail(status: number, code: string, message: string): never {
  throw new ControlError(status, code, message);
}

function objectBody(body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) fail(400, 'invalid_body', 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

function appIdOf(body: Record<string, unknown>): string {
  if (typeof body.appId !== 'string' || body.appId === '') fail(400, 'invalid_body', 'appId (string) is required');
  return body.appId;
}

/** Runs a platform action, reporting its rule violations as control-API errors. */
function platform<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof SandboxError) {
      fail(error.httpStatus === 404 ? 404 : 409, error.codeName.toLowerCase(), `${error.message} (platform code ${error.code})`);
    }
    throw error;
  }
}

const COMPONENT_FIELDS: Record<keyof ComponentConfig, 'string' | 'url' | 'hosts' | 'key' | 'integer'> = {
  componentAppId: 'string',
  componentAppSecret: 'string',
  messageToken: 'string',
  messageKey: 'key',
  authEventUrl: 'url',
  messageUrl: 'url',
  serverDomains: 'hosts',
  webviewDomains: 'hosts',
  auditDelayMs: 'integer',
  capabilityDelayMs: 'integer',
  ticketIntervalS: 'integer',
  tokenTtlS: 'integer',
  refreshTokenTtlS: 'integer',
  ticketTtlS: 'integer',
  runtimeUrl: 'url',
};

/** Fields that become timers, which fire at once past their limit. */
const INTEGER_MAX: Partial<Record<keyof ComponentConfig, number>> = {
  auditDelayMs: MAX_TIMER_MS,
  capabilityDelayMs: MAX_TIMER_MS,
  ticketIntervalS: MAX_TICKET_INTERVAL_S,
};

function componentPatch(body: Record<string, unknown>): Partial<ComponentConfig> {
  const patch: Record<string, unknown> = {};
  for (const [field, value] of Object.entries(body)) {
    if (!Object.hasOwn(COMPONENT_FIELDS, field)) fail(400, 'unknown_field', `unknown component field "${field}"`);
    const kind = COMPONENT_FIELDS[field as keyof ComponentConfig];
    let list: unknown[] | undefined;
    if (kind === 'hosts') list = typeof value === 'string' ? value.split(',').map((host) => host.trim()).filter(Boolean) : (value as unknown[]);
    const ok =
      kind === 'string' ? typeof value === 'string' && value !== ''
      : kind === 'key' ? typeof value === 'string' && isMessageKey(value)
      : kind === 'url' ? typeof value === 'string' && (value === '' || /^https?:\/\/[^\s]+$/.test(value))
      : kind === 'integer' ? Number.isInteger(value) && (value as number) >= (field === 'auditDelayMs' ? -1 : field.endsWith('DelayMs') ? 0 : 1)
        && (value as number) <= (INTEGER_MAX[field as keyof ComponentConfig] ?? Number.MAX_SAFE_INTEGER)
      : Array.isArray(list) && list.every((host) => typeof host === 'string' && /^[a-z0-9-]+(\.[a-z0-9-]+)+$/i.test(host));
    if (!ok) fail(400, 'invalid_field', `component field "${field}" has an invalid value`);
    patch[field] = kind === 'hosts' ? (list as string[]).map((host) => host.toLowerCase()) : value;
  }
  return patch;
}

export function controlRoutes(app: FastifyInstance, runtime: SandboxRuntime): void {
  const { state } = runtime;
  const created = (reply: FastifyReply, body: unknown): FastifyReply => reply.code(201).send(body);

  app.get('/sandbox/api/state', () => ({
    component: state.component,
    merchants: Object.values(state.data.merchants).map((merchant) => ({
      merchantId: merchant.merchantId,
      name: merchant.name,
      apps: merchant.appIds.map((appId) => {
        const mini = state.app(appId)!;
        const versions = versionsView(mini);
        return {
          appId,
          name: mini.name,
          authorized: mini.authorization !== undefined,
          permissions: mini.authorization?.permissions ?? [],
          // With each version's ext_json, so tests can see what an upload sent.
          versions: {
            dev: versions.latest ? { ...versions.latest, ext_json: mini.dev?.extJson ?? null } : null,
            audit: versions.audit ? { ...versions.audit, ext_json: mini.audit?.extJson ?? null } : null,
            online: versions.current ? { ...versions.current, ext_json: mini.online?.extJson ?? null } : null,
          },
          serverDomains: mini.serverDomains,
          webviewDomains: mini.webviewDomains,
          capabilities: mini.capabilities,
        };
      }),
    })),
    templates: state.data.templates.map((t) => ({
      templateId: t.templateId,
      userVersion: t.userVersion,
      userDesc: t.userDesc,
      ...(t.pages && { pages: t.pages }),
      ...(t.subPackageRoots && { subPackageRoots: t.subPackageRoots }),
    })),
  }));

  app.post('/sandbox/api/merchants', (request, reply) => {
    const body = objectBody(request.body);
    const count = body.count ?? 1;
    if (!Number.isInteger(count) || (count as number) < 1 || (count as number) > MAX_BULK_MERCHANTS) {
      fail(400, 'invalid_count', `count must be an integer from 1 to ${MAX_BULK_MERCHANTS}`);
    }
    const prefix = typeof body.namePrefix === 'string' && body.namePrefix.trim() ? body.namePrefix.trim().slice(0, 40) : '商家';
    return created(reply, { merchants: state.createMerchants(count as number, prefix) });
  });

  app.post('/sandbox/api/authorizations', (request, reply) => {
    const body = objectBody(request.body);
    const appId = appIdOf(body);
    const permissions = body.permissions ?? [1, 2, 3, 4];
    if (!Array.isArray(permissions) || !permissions.every((id) => Number.isInteger(id))) {
      fail(400, 'invalid_body', 'permissions must be an array of permission set ids (1–4)');
    }
    // Checked before authorizing: a refused request must leave no authorization and send no push.
    let redirect: URL | undefined;
    if (body.redirectUri !== undefined) {
      if (typeof body.redirectUri !== 'string' || !/^https?:\/\//.test(body.redirectUri) || !URL.canParse(body.redirectUri)) {
        fail(400, 'invalid_body', 'redirectUri must be an http(s) URL');
      }
      redirect = new URL(body.redirectUri);
    }
    const granted = platform(() => {
      runtime.requireApp(appId);
      return runtime.authorize(appId, permissions as number[]);
    });
    let redirectUrl: string | undefined;
    if (redirect) {
      redirect.searchParams.set('authorization_code', granted.code);
      redirect.searchParams.set('expires_in', String(granted.expiresInS));
      redirectUrl = redirect.toString();
    }
    return created(reply, { appId, authorizationCode: granted.code, expiresIn: granted.expiresInS, updated: granted.updated, ...(redirectUrl ? { redirectUrl } : {}) });
  });

  app.post('/sandbox/api/revocations', (request) => {
    const appId = appIdOf(objectBody(request.body));
    platform(() => {
      runtime.requireApp(appId);
      runtime.revoke(appId);
    });
    return { appId, authorized: false };
  });

  app.post('/sandbox/api/reauthorization-codes', (request, reply) => {
    const appId = appIdOf(objectBody(request.body));
    const granted = platform(() => runtime.pushReauthorizationCode(appId));
    return created(reply, { appId, authorizationCode: granted.code, expiresIn: granted.expiresInS });
  });

  app.post<{ Params: { appId: string } }>('/sandbox/api/audits/:appId', (request) => {
    const body = objectBody(request.body);
    if (body.decision !== 'pass' && body.decision !== 'reject') fail(400, 'invalid_body', 'decision must be "pass" or "reject"');
    if (body.reason !== undefined && typeof body.reason !== 'string') fail(400, 'invalid_body', 'reason must be a string');
    const { appId } = request.params;
    platform(() => runtime.decideAudit(appId, body.decision === 'pass', body.reason as string | undefined));
    return { appId, decision: body.decision };
  });

  app.post<{ Params: { appId: string } }>('/sandbox/api/capabilities/:appId', (request) => {
    const body = objectBody(request.body);
    if (body.decision !== 'approve' && body.decision !== 'reject') fail(400, 'invalid_body', 'decision must be "approve" or "reject"');
    if (body.reason !== undefined && typeof body.reason !== 'string') fail(400, 'invalid_body', 'reason must be a string');
    const { appId } = request.params;
    platform(() => runtime.decideCapability(appId, parseCapability(body.capability), body.decision === 'approve', body.reason as string | undefined));
    return { appId, capability: body.capability, decision: body.decision };
  });

  app.post('/sandbox/api/templates', (request, reply) => {
    const body = objectBody(request.body);
    if (typeof body.userVersion !== 'string' || !body.userVersion.trim() || body.userVersion.length > 64) {
      fail(400, 'invalid_body', 'userVersion (string, 1–64 characters) is required');
    }
    const userDesc = typeof body.userDesc === 'string' ? body.userDesc.slice(0, 1024) : '';
    const list = (field: 'pages' | 'subPackageRoots'): string[] | undefined => {
      const value = body[field];
      if (value === undefined) return undefined;
      if (!Array.isArray(value) || value.length > 200 || !value.every((item) => typeof item === 'string' && item.length > 0 && item.length <= 256)) {
        fail(400, 'invalid_body', `${field} must be a list of 1–256-character strings (at most 200)`);
      }
      return [...new Set(value as string[])];
    };
    const pages = list('pages');
    const subPackageRoots = list('subPackageRoots');
    return created(reply, state.addTemplate(body.userVersion, userDesc, { ...(pages && { pages }), ...(subPackageRoots && { subPackageRoots }) }));
  });

  app.post('/sandbox/api/tickets', (_request, reply) => {
    runtime.pushTicket();
    return created(reply, { pushed: true });
  });

  app.get('/sandbox/api/faults', () => runtime.faults.config);
  app.put('/sandbox/api/faults', (request) => {
    const problem = runtime.faults.update(objectBody(request.body));
    if (problem) fail(400, 'invalid_faults', problem);
    return runtime.faults.config;
  });

  app.get('/sandbox/api/component', () => state.component);
  app.put('/sandbox/api/component', (request) => {
    Object.assign(state.data.component, componentPatch(objectBody(request.body)));
    state.changed();
    return state.component;
  });

  app.get('/sandbox/api/calls', () => runtime.calls.snapshot());

  app.get<{ Querystring: { limit?: string; event?: string; appId?: string } }>('/sandbox/api/pushes', (request) => {
    const limit = Math.min(Math.max(Number(request.query.limit ?? 500) || 500, 1), 5000);
    const { event, appId } = request.query;
    const items = runtime.pushes
      .records()
      .filter((record) => (event === undefined || record.event === event) && (appId === undefined || record.appId === appId));
    return { items: items.slice(-limit), total: items.length };
  });

  app.post('/sandbox/api/reset', () => {
    runtime.reset();
    return { reset: true };
  });
}
