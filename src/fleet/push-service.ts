/**
 * Applies verified pushes. The event is stored by msgId in the same atomic unit as its database effect,
 * so a resend (same msgId) is acknowledged with no second effect. Effects that need only the database
 * (audit and capability results) are handed to the store as data (`PushEffect`), which applies them with
 * the event in one statement where it can; the others run as one transaction over the repositories.
 * Platform calls an event needs (code exchange) happen before; when they fail transiently, nothing is
 * stored and the push is not acknowledged, so the platform resends it.
 */
import type { OpenedPush, PushEvent } from '../kuaishou/index.ts';
import type { Logger } from '../kuaishou/logger.ts';
import { FleetError } from './errors.ts';
import type { CapabilityName, LastAudit, PushEventRecord, PushOutcome } from './model.ts';
import type { PlatformPort } from './platform-port.ts';
import { translatePlatformError } from './platform-errors.ts';
import { GroupCommit } from './group-commit.ts';
import type { PushEffect, PushRecording, Repositories, Store } from './ports.ts';

export type PushResult = 'applied' | 'duplicate' | 'ignored' | 'failed';

const CAPABILITY_NAME: Record<string, CapabilityName> = {
  shortVideoMount: 'short-video-mount',
  liveMount: 'live-mount',
  publishKuaishou: 'publish-kuaishou',
  phoneNumber: 'phone-number',
};

/** Events whose preparation acts beyond the database transaction: platform calls, the token store. */
const ACTS_OUTSIDE_TRANSACTION: ReadonlySet<PushEvent['type']> = new Set(['ticket', 'authorized', 'authorizationUpdated', 'reauthorizationCode']);

interface Prepared {
  outcome: PushOutcome;
  summary: Record<string, unknown>;
  /** A database-only effect, applied by the store with the event. */
  effect?: PushEffect;
  /** An effect over several repositories, run in one transaction with the event's insert. */
  apply?: (tx: Repositories) => Promise<void>;
  error?: string;
  /**
   * Apply `effect` even when the msgId is already stored: this caller exchanged the code, so it alone
   * records the authorization, whichever delivery (e.g. on another instance) stored the push first.
   */
  applyEvenIfStored?: boolean;
}

export interface PushServiceOptions {
  store: Store;
  platform: PlatformPort;
  logger: Logger;
  now?: () => number;
  /** Waits for the instance's platform rate limit before an authorization code is exchanged (a burst of authorizations). */
  beforeExchange?: () => Promise<void>;
  /** Most pushes stored in one commit (default 64). */
  maxBatch?: number;
  /** Called after each group commit that stored new pushes, with their number (resends found stored not counted). */
  onBatchStored?: (pushes: number) => void;
  /** Called after an event's effect is committed (metrics, SSE…). */
  onApplied?: (event: PushEvent, result: PushResult) => void;
}

export class PushService {
  private readonly now: () => number;
  /** Deliveries of one msgId being handled in this process: concurrent resends share the first one's work. */
  private readonly inFlight = new Map<string, Promise<PushResult>>();
  /**
   * Pushes with a database-only effect (audit and capability results, unknown events: nearly all of them)
   * are stored by group commit: those arriving while a batch is being written share the next batch's one
   * commit, which is what a push costs most.
   */
  private readonly recorder: GroupCommit<PushRecording, boolean>;

  constructor(private readonly options: PushServiceOptions) {
    this.now = options.now ?? Date.now;
    this.recorder = new GroupCommit((pushes) => options.store.pushEvents.recordMany(pushes), options.maxBatch ?? 64, (results) => {
      const stored = results.filter(Boolean).length;
      if (stored > 0) options.onBatchStored?.(stored);
    });
  }

  handle(channel: 'auth' | 'events', push: OpenedPush): Promise<PushResult> {
    const running = this.inFlight.get(push.msgId);
    if (running) return running;
    const started = this.handleOnce(channel, push).finally(() => this.inFlight.delete(push.msgId));
    this.inFlight.set(push.msgId, started);
    return started;
  }

  private async handleOnce(channel: 'auth' | 'events', push: OpenedPush): Promise<PushResult> {
    const { store, logger } = this.options;
    // A resend of an event that acts outside the transaction is caught before it acts again; for the others
    // the insert below (ON CONFLICT DO NOTHING) is the check, one query less per push.
    if (ACTS_OUTSIDE_TRANSACTION.has(push.event.type) && (await store.pushEvents.exists(push.msgId))) return this.done(push.event, 'duplicate');
    const prepared = await this.prepare(push.event);
    const record: PushEventRecord = {
      msgId: push.msgId,
      channel,
      eventType: push.event.type,
      appId: 'appId' in push.event ? push.event.appId : null,
      receivedAt: this.now(),
      outcome: prepared.outcome,
      summary: prepared.summary,
      error: prepared.error ?? null,
    };
    const { apply } = prepared;
    const inserted =
      apply === undefined
        ? await this.recorder.submit({ event: record, ...(prepared.effect && { effect: prepared.effect }) })
        : await store.transaction(async (tx) => {
            const fresh = await tx.pushEvents.insert(record);
            if (fresh || prepared.applyEvenIfStored) await apply(tx);
            return fresh;
          });
    if (!inserted) return this.done(push.event, 'duplicate');
    if (prepared.outcome === 'failed') logger.warn({ msgId: push.msgId, event: push.event.type, error: prepared.error }, 'push could not be applied');
    return this.done(push.event, prepared.outcome);
  }

  private done(event: PushEvent, result: PushResult): PushResult {
    this.options.onApplied?.(event, result);
    return result;
  }

  /** Does the platform part of an event; returns its database effect. Throws to refuse the push. */
  private async prepare(event: PushEvent): Promise<Prepared> {
    const { platform } = this.options;
    const at = this.now();
    switch (event.type) {
      case 'ticket':
        await platform.tokens.storeTicket(event.ticket, event.expiresInS);
        return { outcome: 'applied', summary: { expiresInS: event.expiresInS } };
      case 'authorized':
      case 'authorizationUpdated':
      case 'reauthorizationCode':
        return this.exchange(event.appId, event.authorizationCode, event.type, at);
      case 'unauthorized':
        return {
          outcome: 'applied',
          summary: {},
          // The tokens go with the revocation, in its transaction: a failure keeps both, and the resend retries.
          apply: async (tx) => {
            const merchant = await tx.merchants.markRevoked(event.appId, at);
            await tx.merchantTokens.forget(event.appId);
            await tx.auditLog.append(systemEntry(at, 'merchant.revoked', event.appId, { known: merchant !== undefined }));
          },
        };
      case 'auditResult': {
        const audit: LastAudit = { userVersion: event.userVersion, state: event.passed ? 'passed' : 'rejected', at, ...(event.reason ? { reason: event.reason } : {}) };
        return {
          outcome: 'applied',
          summary: { userVersion: event.userVersion, passed: event.passed, ...(event.reason ? { reason: event.reason } : {}) },
          effect: { type: 'lastAudit', appId: event.appId, audit, at }, // changes nothing for a merchant we do not know
        };
      }
      case 'capabilityResult': {
        const capability = CAPABILITY_NAME[event.capability] ?? 'short-video-mount';
        return {
          outcome: 'applied',
          summary: { capability, status: event.status, ...(event.reason ? { reason: event.reason } : {}) },
          effect: { type: 'capability', record: { appId: event.appId, capability, status: event.status, reason: event.reason ?? null, updatedAt: at } },
        };
      }
      case 'unknown':
        return { outcome: 'ignored', summary: { event: event.event } };
    }
  }

  private async exchange(appId: string, code: string, type: string, at: number): Promise<Prepared> {
    const { platform, store } = this.options;
    try {
      await this.options.beforeExchange?.();
      const grant = await platform.tokens.exchangeAuthorizationCode(code);
      const permissions = grant.permissions.map((p) => p.id);
      return {
        outcome: grant.exchangedHere ? 'applied' : 'ignored',
        summary: grant.exchangedHere ? { permissions } : { permissions, reason: 'code already exchanged (authorization redirect or another delivery)' },
        applyEvenIfStored: grant.exchangedHere,
        apply: async (tx) => {
          await tx.merchants.upsertAuthorized(grant.appId, permissions, at);
          if (grant.exchangedHere) await tx.auditLog.append(systemEntry(at, 'merchant.authorized', grant.appId, { via: type, permissions }));
        },
      };
    } catch (error) {
      const translated = translatePlatformError(error, appId);
      if (translated instanceof FleetError && translated.type === 'platform_rejected') {
        // A single-use code the redirect handler already exchanged: the merchant is there, nothing to do.
        const merchant = await store.merchants.get(appId);
        if (merchant?.status === 'authorized') return { outcome: 'ignored', summary: { reason: 'already exchanged' } };
        return { outcome: 'failed', summary: {}, error: translated.message };
      }
      throw translated;
    }
  }
}

function systemEntry(at: number, action: string, appId: string, summary: Record<string, unknown>) {
  return { at, actorKeyId: null, actorRole: 'system', action, appId, summary, result: 'ok' as const, errorCode: null };
}
