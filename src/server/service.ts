/**
 * The composition root: from a `ServerConfig` to a running provider service — store (migrated), Kuaishou
 * client and tokens on the durable store, fleet services, Fastify app, background jobs.
 */
import type { FastifyInstance } from 'fastify';
import pino, { type Logger as PinoLogger } from 'pino';
import { BackgroundJobs } from '../fleet/background-jobs.ts';
import { DomainPolicyService } from '../fleet/domain-policy-service.ts';
import { ExtService } from '../fleet/ext-service.ts';
import { MerchantService } from '../fleet/merchant-service.ts';
import { PushService } from '../fleet/push-service.ts';
import { RolloutService } from '../fleet/rollout-service.ts';
import { TemplateService } from '../fleet/template-service.ts';
import { ENDPOINTS, KuaishouClient, KuaishouPlatform, redact, TokenManager, type FetchLike } from '../kuaishou/index.ts';
import { loadSecretKey, openStore, type SqlStore } from '../store/index.ts';
import { bootstrapAdminKey } from './api-keys.ts';
import { buildApp } from './app.ts';
import type { ServerConfig } from './config.ts';
import type { ServerContext } from './context.ts';
import { Metrics } from './metrics.ts';

export interface Service {
  app: FastifyInstance;
  store: SqlStore;
  platform: KuaishouPlatform;
  jobs: BackgroundJobs;
  metrics: Metrics;
  /** The admin key generated on this start (no key existed), to show once. */
  generatedAdminKey: string | undefined;
  url: string;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Overrides the logger built from LOG_LEVEL (tests capture lines with it). */
  logger?: PinoLogger;
  fetch?: FetchLike;
  /** Don't listen: tests use `app.inject`. */
  listen?: boolean;
  publicRateLimit?: number;
  /**
   * Runs once the server listens (its URL known, e.g. on port 0) and before the boot jobs: the place to
   * register the push URLs, so the ticket asked for on boot is pushed to a registered URL.
   */
  onListening?: (url: string) => Promise<void> | void;
  /** The admin console's built files (default `web/dist`). */
  consoleDir?: string;
}

const OPERATION_BY_PATH = new Map(Object.entries(ENDPOINTS).map(([operation, endpoint]) => [endpoint.path, operation]));
const TOKEN_OPERATIONS = new Set(['getComponentAccessToken', 'refreshAuthorizerToken', 'exchangeAuthorizationCode']);

export function createLogger(level: ServerConfig['logLevel'], destination?: pino.DestinationStream): PinoLogger {
  const options: pino.LoggerOptions = {
    level,
    redact: { paths: ['req.headers.authorization', 'req.headers.kwaisign', 'req.headers.cookie', '*.secret', '*.token', '*.key'], censor: '[REDACTED]' },
    serializers: {
      // Query strings may carry authorization codes and tokens.
      req: (req: { method: string; url: string }) => ({ method: req.method, url: redact(req.url) }),
    },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** fetch that counts upstream calls by operation and result. */
function countingFetch(metrics: Metrics, inner: FetchLike): FetchLike {
  return async (input, init) => {
    const operation = OPERATION_BY_PATH.get(new URL(input).pathname) ?? 'unknown';
    if (TOKEN_OPERATIONS.has(operation)) metrics.tokenRefreshes.inc({ operation });
    try {
      const response = await inner(input, init);
      metrics.upstreamCalls.inc({ operation, result: response.ok ? 'http_2xx' : `http_${response.status}` });
      return response;
    } catch (error) {
      metrics.upstreamCalls.inc({ operation, result: 'no_answer' });
      throw error;
    }
  };
}

export async function startService(config: ServerConfig, options: StartOptions = {}): Promise<Service> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = new Metrics();
  const secretKey = await loadSecretKey({ env: config.secretKey, keyFile: config.secretKeyFile });
  const store = await openStore({ url: config.databaseUrl, secretKey, componentAppId: config.kuaishou.componentAppId });
  const { kuaishou } = config;
  const client = new KuaishouClient({
    componentAppId: kuaishou.componentAppId,
    componentAppSecret: kuaishou.componentAppSecret,
    baseUrl: kuaishou.baseUrl,
    logger,
    fetch: countingFetch(metrics, options.fetch ?? ((input, init) => fetch(input, init))),
  });
  const platform = new KuaishouPlatform(client, new TokenManager({ client, store: store.tokenStore, logger }));
  const merchants = new MerchantService({
    store,
    platform,
    logger,
    registeredDomains: { server: kuaishou.serverDomains, webview: kuaishou.webviewDomains },
  });
  const templates = new TemplateService({ templates: store.templates, auditLog: store.auditLog, platform, logger });
  const ext = new ExtService({ ext: store.ext, merchants: store.merchants, auditLog: store.auditLog, templates });
  const rollouts = new RolloutService({
    rollouts: store.rollouts,
    merchants: store.merchants,
    auditLog: store.auditLog,
    platform,
    logger,
    registeredDomains: { server: kuaishou.serverDomains, webview: kuaishou.webviewDomains },
    // Every upload sends the merchant's effective ext (template defaults merged with its overrides).
    extFor: (appId, templateId) => ext.effectiveExt(appId, templateId),
    ...(config.rateLimitPerSec !== undefined ? { rateLimitPerSec: config.rateLimitPerSec } : {}),
    ...(config.rollout.leaseMs !== undefined ? { leaseMs: config.rollout.leaseMs } : {}),
    ...(config.rollout.auditPollMs !== undefined ? { auditPollMs: config.rollout.auditPollMs } : {}),
  });
  const pushes = new PushService({
    store,
    platform,
    logger,
    // An audit result wakes the rollout targets waiting for it (polling is only the fallback).
    onApplied: (event) => {
      // The first ticket makes the boot-time template sync possible.
      if (event.type === 'ticket') jobs.ticketArrived();
      if (event.type !== 'auditResult') return;
      store.rollouts
        .wake(event.appId, ['pending', 'uploaded', 'auditing'], Date.now(), event.passed ? event.userVersion : undefined)
        .then((woken) => {
          if (woken > 0) rollouts.kick();
        })
        // Polling picks the target up anyway; a failed wake only delays it.
        .catch((error: unknown) => logger.warn({ appId: event.appId, error: error instanceof Error ? error.message : String(error) }, 'could not wake rollout targets'));
    },
  });
  const jobs = new BackgroundJobs({ store, platform, logger, syncTemplates: () => templates.syncQuietly() });
  const ctx: ServerContext = {
    merchants,
    pushes,
    rollouts,
    domainPolicies: new DomainPolicyService({ rollouts, platform, auditLog: store.auditLog }),
    templates,
    ext,
    store,
    metrics,
    publicUrl: config.publicUrl,
    pushKeys: { token: kuaishou.messageToken, key: kuaishou.messageKey, componentAppId: kuaishou.componentAppId },
  };
  const app = await buildApp(
    ctx,
    {
      logger,
      trustProxy: config.trustProxy,
      ...(options.publicRateLimit ? { publicRateLimit: options.publicRateLimit } : {}),
      ...(options.consoleDir ? { consoleDir: options.consoleDir } : {}),
    },
  );
  const generatedAdminKey = await bootstrapAdminKey(store.apiKeys, config.adminKey);
  let url = '';
  if (options.listen !== false) {
    try {
      url = (await app.listen({ port: config.port, host: config.host })).replace('[::1]', '127.0.0.1');
    } catch (error) {
      await app.close();
      await store.close();
      throw error;
    }
    // Port 0 (tests): the public URL is only known now.
    if (config.port === 0) ctx.publicUrl = url;
    try {
      await options.onListening?.(url);
    } catch (error) {
      await app.close();
      await store.close();
      throw error;
    }
    await jobs.ensureTicket();
    jobs.start();
    rollouts.start();
  }
  return {
    app,
    store,
    platform,
    jobs,
    metrics,
    generatedAdminKey,
    get url() {
      return url;
    },
    async close() {
      await rollouts.stop();
      await jobs.stop();
      await app.close();
      await store.close();
    },
  };
}
