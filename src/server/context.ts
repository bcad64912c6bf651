import type { DomainPolicyService } from '../fleet/domain-policy-service.ts';
import type { ExtService } from '../fleet/ext-service.ts';
import type { ChannelService } from '../fleet/channel-service.ts';
import type { Actor, MerchantService } from '../fleet/merchant-service.ts';
import type { OnboardingService } from '../fleet/onboarding-service.ts';
import type { ProbeService } from '../fleet/probe-service.ts';
import type { Role } from '../fleet/model.ts';
import type { Store } from '../fleet/ports.ts';
import type { PushService } from '../fleet/push-service.ts';
import type { RolloutService } from '../fleet/rollout-service.ts';
import type { TemplateService } from '../fleet/template-service.ts';
import type { PushKeys } from '../kuaishou/index.ts';
import type { ActiveSession } from '../runtime/model.ts';
import type { RuntimeService } from '../runtime/runtime-service.ts';
import type { Metrics } from './metrics.ts';

/** What the routes work with: the fleet services and a few server-side facts. */
export interface ServerContext {
  merchants: MerchantService;
  pushes: PushService;
  rollouts: RolloutService;
  domainPolicies: DomainPolicyService;
  templates: TemplateService;
  ext: ExtService;
  channels: ChannelService;
  onboarding: OnboardingService;
  /** The platform this service speaks to (GET /api/v1/platform). */
  platformInfo: { baseUrl: string; componentAppId: string };
  /** The platform probe (POST /api/v1/platform/probe). */
  probe: ProbeService;
  /** The merchants' mini-programs' back end (/runtime/v1). */
  runtime: RuntimeService;
  /** Login limits of POST /runtime/v1/sessions, per client address and per merchant, per minute (0: none). */
  runtimeLoginLimits: { perIp: number; perApp: number };
  store: Store;
  pushKeys: PushKeys;
  metrics: Metrics;
  /** METRICS_TOKEN: the bearer token /metrics wants; undefined: /metrics is public. */
  metricsToken: string | undefined;
  publicUrl: string;
}

/**
 * Who may call a route: a role (`runtime`: exactly that role; the others: that rank or higher), `public`
 * (anyone, rate-limited per IP), `push` (the platform's pushes: authenticated by their signature, not
 * rate-limited, so a burst of audit results is never refused), `session` (a mini-program user's session
 * token), or `login` (a mini-program before it has a session: limited by the route itself).
 */
export type Access = Role | 'public' | 'push' | 'session' | 'login';

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    actor: Actor | undefined;
    /** Set on `session` routes by the auth hook. */
    runtimeSession: ActiveSession | undefined;
  }
}

/** The actor of an authenticated route (the auth hook has run). */
export function actorOf(request: { actor: Actor | undefined }): Actor {
  if (!request.actor) throw new Error('route declared public but reads the actor');
  return request.actor;
}

/** The session of a `session` route (the auth hook has run). */
export function sessionOf(request: { runtimeSession: ActiveSession | undefined }): ActiveSession {
  if (!request.runtimeSession) throw new Error('route is not a session route but reads the session');
  return request.runtimeSession;
}
