/**
 * The composition root: from a `ServerConfig` to a running provider service — store (migrated), Kuaishou
 * client and tokens on the durable store, fleet services, Fastify app, background jobs.
 */
import type { FastifyInstance } from 'fastify';
import pino, { type Logger as PinoLogger } from 'pino';
import { BackgroundJobs } from '../fleet/background-jobs.ts';
import { ChannelService } from '../fleet/channel-service.ts';
import { OnboardingService } from '../fleet/onboarding-service.ts';
import { DomainPolicyService } from '../fleet/domain-policy-service.ts';
import { ExtService } from '../fleet/ext-service.ts';
import { MerchantService } from '../fleet/merchant-service.ts';
import { GroupCommit } from '../fleet/group-commit.ts';
import { PushService } from '../fleet/push-service.ts';
import { RateLimiter, throttledPort } from '../fleet/rate-limiter.ts';
import type { AuditWake } from '../fleet/rollout-ports.ts';
import { RolloutService } from '../fleet/rollout-service.ts';
import type { ExtFor } from '../fleet/rollout-steps.ts';
import { TemplateService } from '../fleet/template-service.ts';
import { ProbeService } from '../fleet/probe-service.ts';
import type { MerchantFacts } from '../runtime/ports.ts';
import { RuntimeService } from '../runtime/runtime-service.ts';
import { KuaishouClient, KuaishouPlatform, overriddenRows, probePlatform, redact, TokenManager, type EndpointTable, type FetchLike } from '../kuaishou/index.ts';
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

const TRIGGER_OF = { authorized: 'authorized', authorizationUpdated: 'authorization_updated', reauthorizationCode: 'reauthorization_code' } as const;

/** Operation by path, in the table this instance's client speaks (overridden rows at their own paths). */
function operationsByPath(table: EndpointTable): Map<string, string> {
  return new Map(Object.entries(table).map(([operation, endpoint]) => [endpoint.path, operation]));
}
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

/** fetch that counts and times upstream calls by operation and result (until the answer's headers). */
function countingFetch(metrics: Metrics, table: () => EndpointTable, inner: FetchLike): FetchLike {
  let byPath: Map<string, string> | undefined;
  return async (input, init) => {
    byPath ??= operationsByPath(table());
    const operation = byPath.get(new URL(input).pathname) ?? 'unknown';
    if (TOKEN_OPERATIONS.has(operation)) metrics.tokenRefresh(operation);
    const started = performance.now();
    try {
      const response = await inner(input, init);
      metrics.upstreamCall(operation, response.ok ? 'http_2xx' : `http_${response.status}`, (performance.now() - started) / 1000);
      return response;
    } catch (error) {
      metrics.upstreamCall(operation, 'no_answer', (performance.now() - started) / 1000);
      throw error;
    }
  };
}

export async function startService(config: ServerConfig, options: StartOptions = {}): Promise<Service> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = new Metrics({ logger });
  const secretKey = await loadSecretKey({ env: config.secretKey, keyFile: config.secretKeyFile });
  const store = await openStore({ url: config.databaseUrl, secretKey, componentAppId: config.kuaishou.componentAppId });
  const { kuaishou } = config;
  // The fetch is built before the client whose table it reads: late-bound (it runs only at the first call).
  const client: KuaishouClient = new KuaishouClient({
    componentAppId: kuaishou.componentAppId,
    componentAppSecret: kuaishou.componentAppSecret,
    baseUrl: kuaishou.baseUrl,
    endpoints: kuaishou.endpointOverrides,
    logger,
    fetch: countingFetch(metrics, () => client.endpoints, options.fetch ?? ((input, init) => fetch(input, init))),
  });
  const overridden = overriddenRows(client.endpoints);
  if (overridden.length > 0) logger.info({ rows: overridden }, 'endpoint rows overridden by KS_ENDPOINTS_FILE');
  const platform = new KuaishouPlatform(client, new TokenManager({ client, store: store.tokenStore, logger }));
  // One platform rate limit per instance: rollout steps, onboarding's reads and authorization code
  // exchanges (a burst of authorizations) all wait for it; exchanges first.
  const limiter = new RateLimiter(config.rateLimitPerSec ?? 20);
  const beforeExchange = (): Promise<void> => limiter.acquire('finish');
  // An operator's one-off operations (and template syncs) wait for it too, ahead of rollout steps.
  const operatorPlatform = throttledPort(platform, () => limiter.acquire('finish'));
  const merchants = new MerchantService({
    store,
    platform: operatorPlatform,
    logger,
    beforeExchange,
    registeredDomains: { server: kuaishou.serverDomains, webview: kuaishou.webviewDomains },
  });
  const templates = new TemplateService({ templates: store.templates, auditLog: store.auditLog, platform: operatorPlatform, logger });
  const ext = new ExtService({ ext: store.ext, merchants: store.merchants, auditLog: store.auditLog, templates });
  const registeredDomains = { server: kuaishou.serverDomains, webview: kuaishou.webviewDomains };
  // What an upload sends: the template's defaults ← a layer (a channel's ext defaults, for onboarding) ← the merchant's overrides.
  const extFor: ExtFor = (appId, templateId, layer) => ext.effectiveUpload(appId, templateId, layer);
  const channels = new ChannelService({
    channels: store.channels,
    auditLog: store.auditLog,
    registeredDomains,
    // Among the synced templates (synced on boot; the first listing syncs when none ever was).
    templateExists: async (templateId) => (await templates.list()).some((t) => t.templateId === templateId),
    logger,
  });
  // The rollout engine's hooks reach onboarding, which is built on the engine: late-bound.
  const late: { onboarding?: OnboardingService } = {};
  const rollouts = new RolloutService({
    rollouts: store.rollouts,
    merchants: store.merchants,
    auditLog: store.auditLog,
    platform,
    logger,
    registeredDomains,
    extFor,
    limiter,
    ...(config.rollout.leaseMs !== undefined ? { leaseMs: config.rollout.leaseMs } : {}),
    ...(config.rollout.auditPollMs !== undefined ? { auditPollMs: config.rollout.auditPollMs } : {}),
    ...(config.rollout.maxInFlight !== undefined ? { maxInFlight: config.rollout.maxInFlight } : {}),
    // Onboarding's timeline, and channel promotion when a rollout completes (the sweep catches up after a crash).
    onTargetMoved: (rollout, appId, state, at) => {
      late.onboarding?.targetMoved(rollout, appId, state, at).catch((error: unknown) => logger.warn({ appId, error: error instanceof Error ? error.message : String(error) }, 'could not record an onboarding step'));
    },
    onStepFinished: (step, outcome, ms) => metrics.rolloutStep(step, outcome, ms),
    onCompleted: (rollout) => {
      if (rollout.promoteTo === null) return;
      channels.promotePending().catch((error: unknown) => logger.warn({ rolloutId: rollout.id, error: error instanceof Error ? error.message : String(error) }, 'could not promote a rollout to its channel; the sweep retries'));
    },
  });
  const onboardingService = new OnboardingService({
    channels: store.channels,
    channelService: channels,
    onboardings: store.onboardings,
    merchants: store.merchants,
    rollouts: store.rollouts,
    starter: rollouts,
    // Its versions reads share the instance's platform rate limit with the rollouts (50 merchants authorizing
    // at once must not burst past it).
    platform: {
      getVersions: async (appId: string) => {
        await limiter.acquire('step');
        return platform.getVersions(appId);
      },
    },
    auditLog: store.auditLog,
    extFor,
    logger,
    forcedOff: config.onboardingForcedOff,
    runtimeUrl: () => ctx.publicUrl,
  });
  late.onboarding = onboardingService;
  // Read when /metrics is scraped: one grouped query each (the credentials' expiry times, never their values).
  metrics.watch({
    rollouts: () => store.rollouts.countByStatus(),
    rolloutTargets: (statuses) => store.rollouts.countTargetsByState(statuses),
    onboardings: () => onboardingService.counts(),
    merchants: () => store.merchants.countByStatus(),
    componentExpiries: () => store.credentialExpiries.componentExpiries(),
  });
  // Audit results arriving together wake their merchants' targets in one statement (group commit).
  const auditWakes = new GroupCommit<AuditWake, number>(async (results) => {
    const woken = await store.rollouts.wakeMany(results, ['pending', 'uploaded', 'auditing'], Date.now());
    return results.map(() => woken);
  });
  const pushes = new PushService({
    store,
    platform,
    logger,
    beforeExchange,
    onBatchStored: (stored) => metrics.pushBatch(stored),
    // An audit result wakes the rollout targets waiting for it (polling is only the fallback).
    onApplied: (event, result) => {
      // Quick activation: an authorization (new, updated, or recovered) may start or resume an onboarding.
      if ((event.type === 'authorized' || event.type === 'authorizationUpdated' || event.type === 'reauthorizationCode') && result !== 'failed') {
        onboardingService.trigger(event.appId, TRIGGER_OF[event.type]);
        return;
      }
      // The first ticket makes the boot-time template sync possible.
      if (event.type === 'ticket') jobs.ticketArrived();
      // A revoked merchant's sessions end (every use also checks the merchant, so they stop at once anyway).
      if (event.type === 'unauthorized' && result !== 'failed') {
        runtime.merchantRevoked(event.appId).catch((error: unknown) => logger.warn({ appId: event.appId, error: error instanceof Error ? error.message : String(error) }, 'could not end a revoked merchant\'s sessions'));
        return;
      }
      if (event.type !== 'auditResult') return;
      auditWakes
        .submit({ appId: event.appId, ...(event.passed && { passedVersion: event.userVersion }) })
        .then((woken) => {
          if (woken > 0) rollouts.kick();
        })
        // Polling picks the target up anyway; a failed wake only delays it.
        .catch((error: unknown) => logger.warn({ appId: event.appId, error: error instanceof Error ? error.message : String(error) }, 'could not wake rollout targets'));
    },
  });
  const jobs = new BackgroundJobs({ store, platform, logger, syncTemplates: () => templates.syncQuietly() });
  // The runtime reads fleet's records: status and name, the phone capability, the ext a page reads
  // (the merchant's effective custom config for the newest synced template: what its next upload sends).
  const facts: MerchantFacts = {
    merchant: async (appId) => {
      const merchant = await store.merchants.get(appId);
      return merchant && { status: merchant.status, name: merchant.name };
    },
    phoneNumberApproved: async (appId) => (await store.capabilities.get(appId, 'phone-number'))?.status === 'approved',
    effectiveExt: async (appId) => {
      const newest = await templates.newest();
      return newest ? ext.effectiveExt(appId, newest.templateId) : {};
    },
  };
  // Code exchanges and messages are on behalf of one merchant each, at the user's pace: not behind the
  // rollouts' rate limit (a login must not wait for a wave of uploads).
  const runtime = new RuntimeService({ repository: store.runtime, platform, facts, sessionTtlS: config.runtime.sessionTtlS });
  const ctx: ServerContext = {
    merchants,
    pushes,
    rollouts,
    domainPolicies: new DomainPolicyService({ rollouts, platform, auditLog: store.auditLog, runtimeUrl: () => ctx.publicUrl }),
    templates,
    ext,
    channels,
    onboarding: onboardingService,
    platformInfo: { baseUrl: kuaishou.baseUrl, componentAppId: kuaishou.componentAppId },
    // Read-only platform calls (the probe), paced by the instance's rate limit like an operator's calls.
    probe: new ProbeService({
      merchants: store.merchants,
      auditLog: store.auditLog,
      probe: (appId) => probePlatform({ client, tokens: platform.tokens, store: store.tokenStore }, { ...(appId === undefined ? {} : { appId }), beforeCall: () => limiter.acquire('finish') }),
    }),
    runtime,
    runtimeLoginLimits: { perIp: config.runtime.loginsPerIpPerMin, perApp: config.runtime.loginsPerAppPerMin },
    store,
    metrics,
    metricsToken: config.metricsToken,
    publicUrl: config.publicUrl,
    pushKeys: { token: kuaishou.messageToken, key: kuaishou.messageKey, componentAppId: kuaishou.componentAppId },
  };
  const app = await buildApp(
    ctx,
    {
      logger,
      trustProxy: config.trustProxy,
      publicRateLimit: options.publicRateLimit ?? config.publicRateLimitPerMin,
      ...(options.consoleDir ? { consoleDir: options.consoleDir } : {}),
    },
  );
  const generatedAdminKey = await bootstrapAdminKey(store.apiKeys, config.adminKey);
  let url = '';
  let pruneTimer: NodeJS.Timeout | undefined;
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
    pruneTimer = setInterval(() => {
      runtime.prune().catch((error: unknown) => logger.warn({ error: error instanceof Error ? error.message : String(error) }, 'could not prune runtime sessions'));
    }, 3600_000);
    pruneTimer.unref();
    rollouts.start();
    onboardingService.start();
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
      clearInterval(pruneTimer);
      await onboardingService.stop();
      await rollouts.stop();
      await jobs.stop();
      await app.close();
      await store.close();
    },
  };
}
