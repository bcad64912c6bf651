/**
 * The sandbox platform at run time: state plus what happens on its own — ticket pushes every interval,
 * audits and capabilities decided after their delay — and the actions that emit pushes (authorize,
 * revoke, decisions). Routes, pages and the control API all act through it.
 */
import type { Logger } from '../kuaishou/logger.ts';
import type { WireCapability } from '../kuaishou/wire.ts';
import { CAPABILITY_FROM_WIRE } from '../kuaishou/endpoints.ts';
import { CallCounter } from './calls.ts';
import { Faults } from './faults.ts';
import type { MiniAppRecord } from './model.ts';
import { PushDeliverer } from './pushes.ts';
import { applyCapability, automaticCapabilityDecision, decideCapability } from './rules/capabilities.ts';
import { authorize, grantedPermissions, issueAuthorizationCode, issueTicket, pruneExpired, reAuthorizationCode, revoke } from './rules/credentials.ts';
import { MessageRateLimit } from './rules/messages.ts';
import { JS_CODE_TTL_MS, pruneJsCodes } from './rules/users.ts';
import { automaticDecision, decideAudit, submitAudit } from './rules/versions.ts';
import { SandboxError } from './sandbox-error.ts';
import type { SandboxState } from './state.ts';


export interface RuntimeOptions {
  publicUrl: string;
  pushRetryDelayMs: number;
  logger: Logger;
  random?: () => number;
  /** Lifetime of a `ks.login` code (300 s on the real platform); shorter in tests. */
  jsCodeTtlMs?: number;
}

export class SandboxRuntime {
  readonly pushes: PushDeliverer;
  readonly faults: Faults;
  readonly calls = new CallCounter();
  /** R2's 100 sends per second per app: in memory, like the fault windows. */
  readonly messageRate = new MessageRateLimit();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private ticketTimer: NodeJS.Timeout | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly state: SandboxState,
    readonly options: RuntimeOptions,
  ) {
    this.pushes = new PushDeliverer(state, { retryDelayMs: options.pushRetryDelayMs });
    this.faults = new Faults(options.random);
  }

  get publicUrl(): string {
    return this.options.publicUrl;
  }

  get jsCodeTtlMs(): number {
    return this.options.jsCodeTtlMs ?? JS_CODE_TTL_MS;
  }

  /** Re-arms what was pending when the state was saved: ticket pushes and undecided audits/capabilities. */
  resume(): void {
    clearInterval(this.pruneTimer);
    this.pruneTimer = setInterval(() => {
      pruneExpired(this.state);
      pruneJsCodes(this.state);
    }, 60_000);
    this.pruneTimer.unref();
    if (this.state.data.ticketPushStarted) this.scheduleTickets(1000);
    for (const app of Object.values(this.state.data.apps)) {
      if (app.audit?.decideAt !== undefined) this.scheduleAudit(app);
      for (const capability of Object.keys(app.capabilities) as WireCapability[]) {
        if (app.capabilities[capability]?.decideAt !== undefined) this.scheduleCapability(app, capability);
      }
    }
  }

  close(): void {
    clearInterval(this.pruneTimer);
    clearTimeout(this.ticketTimer);
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    this.pushes.close();
  }

  /** Back to the seeded state (component configuration kept), with no pending work and no logs. */
  reset(): void {
    this.close();
    this.state.reset();
    this.calls.reset();
    this.messageRate.reset();
    this.pushes.clear();
    this.faults.update({ latencyMs: 0, errorRate: 0, timeoutRate: 0, rateLimitPerSec: 0 });
    this.resume();
  }

  // ---- Tickets --------------------------------------------------------------------------------------

  /** T1: push a ticket now and every interval from then on. */
  startTicketPushes(): void {
    this.state.data.ticketPushStarted = true;
    this.state.changed();
    this.scheduleTickets(10);
  }

  pushTicket(): void {
    const { ticket, expiresInS } = issueTicket(this.state);
    this.pushes.send('authEvent', {
      type: 'ticket',
      componentAppId: this.state.component.componentAppId,
      ticket,
      expiresInS,
      eventTime: Date.now(),
    });
  }

  /** The interval may change at run time, so each push schedules the next one. */
  private scheduleTickets(firstInMs: number): void {
    clearTimeout(this.ticketTimer);
    this.ticketTimer = setTimeout(() => {
      this.pushTicket();
      this.scheduleTickets(this.state.component.ticketIntervalS * 1000);
    }, firstInMs);
    this.ticketTimer.unref();
  }

  // ---- Authorization --------------------------------------------------------------------------------

  /** The merchant confirms on the authorization page (or the control API does it for them). */
  authorize(appId: string, permissions: readonly number[]): { code: string; expiresInS: number; updated: boolean } {
    const granted = authorize(this.state, appId, permissions);
    const app = this.state.app(appId)!;
    this.pushes.send(
      'authEvent',
      {
        type: granted.updated ? 'authorizationUpdated' : 'authorized',
        appId,
        authorizationCode: granted.code,
        codeExpiresInS: granted.expiresInS,
        permissions: grantedPermissions(app),
        eventTime: Date.now(),
      },
      appId,
    );
    return granted;
  }

  revoke(appId: string): void {
    revoke(this.state, appId);
    this.pushes.send('authEvent', { type: 'unauthorized', appId, eventTime: Date.now() }, appId);
  }

  /** Pushes RE_AUTHORIZATION_CODE with a fresh code (the platform's "authorization code recovered" event). */
  pushReauthorizationCode(appId: string): { code: string; expiresInS: number } {
    const granted = reAuthorizationCode(this.state, appId);
    this.pushes.send(
      'authEvent',
      { type: 'reauthorizationCode', appId, authorizationCode: granted.code, codeExpiresInS: granted.expiresInS, eventTime: Date.now() },
      appId,
    );
    return granted;
  }

  /** A fresh code without a push (T5 answers with it directly). */
  authorizationCode(appId: string): { code: string; expiresInS: number } {
    return issueAuthorizationCode(this.state, appId);
  }

  // ---- Audits and capabilities ------------------------------------------------------------------------

  submitAudit(app: MiniAppRecord, body: Record<string, unknown>): void {
    submitAudit(this.state, app, body);
    this.scheduleAudit(app);
  }

  cancelAudit(appId: string): void {
    clearTimeout(this.timers.get(`audit:${appId}`));
    this.timers.delete(`audit:${appId}`);
  }

  decideAudit(appId: string, pass: boolean, reason?: string): void {
    const app = this.requireApp(appId);
    this.cancelAudit(appId);
    const audit = decideAudit(this.state, app, pass, reason);
    this.pushes.send(
      'message',
      {
        type: 'auditResult',
        appId,
        userVersion: audit.userVersion,
        passed: pass,
        ...(audit.reason ? { reason: audit.reason } : {}),
        eventTime: Date.now(),
      },
      appId,
    );
  }

  applyCapability(app: MiniAppRecord, capability: WireCapability, reason: unknown): void {
    applyCapability(this.state, app, capability, reason);
    this.scheduleCapability(app, capability);
  }

  decideCapability(appId: string, capability: WireCapability, approve: boolean, reason?: string): void {
    const app = this.requireApp(appId);
    clearTimeout(this.timers.get(`capability:${appId}:${capability}`));
    this.timers.delete(`capability:${appId}:${capability}`);
    const record = decideCapability(this.state, app, capability, approve, reason);
    this.pushes.send(
      'message',
      {
        type: 'capabilityResult',
        appId,
        capability: CAPABILITY_FROM_WIRE[capability],
        status: approve ? 'approved' : 'rejected',
        ...(record.reason ? { reason: record.reason } : {}),
        eventTime: Date.now(),
      },
      appId,
    );
  }

  requireApp(appId: string): MiniAppRecord {
    const app = this.state.app(appId);
    if (!app) throw new SandboxError('INVALID_PARAMS', `unknown mini-program ${appId}`, 404);
    return app;
  }

  private scheduleAudit(app: MiniAppRecord): void {
    const decideAt = app.audit?.decideAt;
    if (decideAt === undefined) return;
    const submittedAt = app.audit!.submittedAt;
    this.arm(`audit:${app.appId}`, decideAt, () => {
      const audit = app.audit;
      if (audit?.status !== 'AUDITING' || audit.submittedAt !== submittedAt) return;
      const decision = automaticDecision(audit);
      this.decideAudit(app.appId, decision.pass, decision.reason);
    });
  }

  private scheduleCapability(app: MiniAppRecord, capability: WireCapability): void {
    const record = app.capabilities[capability];
    if (record?.decideAt === undefined) return;
    this.arm(`capability:${app.appId}:${capability}`, record.decideAt, () => {
      const current = app.capabilities[capability];
      if (current?.status !== 'APPLYING') return;
      const decision = automaticCapabilityDecision(app, current);
      this.decideCapability(app.appId, capability, decision.approve, decision.reason);
    });
  }

  private arm(key: string, at: number, run: () => void): void {
    clearTimeout(this.timers.get(key));
    const timer = setTimeout(() => {
      this.timers.delete(key);
      try {
        run();
      } catch (error) {
        this.options.logger.error({ key, error: error instanceof Error ? error.message : String(error) }, 'sandbox decision failed');
      }
    }, Math.max(0, at - Date.now()));
    timer.unref();
    this.timers.set(key, timer);
  }
}
