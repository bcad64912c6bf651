/**
 * Every per-merchant operation of the seed (domains, code, audit, QR code, versions, release, rollback,
 * capabilities), on behalf of an actor: checks the merchant, calls the platform, records the outcome in
 * the audit log. No HTTP, no SQL.
 */
import type { Logger } from '../kuaishou/logger.ts';
import { recordAction, type Actor } from './audit-trail.ts';
import { FleetError, notFound } from './errors.ts';
import type { AuditLogEntry, CapabilityName, CapabilityRecord, CapabilityStatusName, Merchant, Page } from './model.ts';
import { onPlatform } from './platform-errors.ts';
import type { Capability, PlatformPort, QrCode, ServerDomains, ServerDomainsChange, MerchantUploadInput, Versions, WebviewDomainsChange } from './platform-port.ts';
import type { AuditLogQuery, MerchantFilter, MerchantListQuery, Store } from './ports.ts';
import { checkServerDomains, checkWebviewDomains, type RegisteredDomains } from './domain-rules.ts';

export type { Actor } from './audit-trail.ts';

export const SYSTEM_ACTOR: Actor = { keyId: null, role: 'admin' };

const CAPABILITY_OF: Record<CapabilityName, Capability> = {
  'short-video-mount': 'shortVideoMount',
  'live-mount': 'liveMount',
  'publish-kuaishou': 'publishKuaishou',
  'phone-number': 'phoneNumber',
};

const STATUS_NAME: Record<string, CapabilityStatusName> = {
  notApplied: 'not_applied',
  applying: 'applying',
  approved: 'approved',
  rejected: 'rejected',
};

export interface MerchantServiceOptions {
  store: Store;
  platform: PlatformPort;
  registeredDomains: RegisteredDomains;
  logger: Logger;
  /** Waits for the instance's platform rate limit before an authorization code is exchanged. */
  beforeExchange?: () => Promise<void>;
  now?: () => number;
}

export class MerchantService {
  private readonly beforeExchange: (() => Promise<void>) | undefined;
  private readonly store: Store;
  private readonly platform: PlatformPort;
  private readonly registered: RegisteredDomains;
  private readonly now: () => number;

  constructor(options: MerchantServiceOptions) {
    this.store = options.store;
    this.platform = options.platform;
    this.registered = options.registeredDomains;
    this.now = options.now ?? Date.now;
    this.beforeExchange = options.beforeExchange;
  }

  // ---- Reading ---------------------------------------------------------------------------------------

  list(query: MerchantListQuery): Promise<Page<Merchant>> {
    return this.store.merchants.list(query);
  }

  count(query: MerchantFilter): Promise<number> {
    return this.store.merchants.count(query);
  }

  async get(appId: string): Promise<Merchant> {
    return (await this.store.merchants.get(appId)) ?? Promise.reject(notFound('merchant', appId));
  }

  async capabilities(appId: string): Promise<CapabilityRecord[]> {
    await this.get(appId);
    return this.store.capabilities.list(appId);
  }

  auditLog(query: AuditLogQuery): Promise<Page<AuditLogEntry>> {
    return this.store.auditLog.list(query);
  }

  // ---- Authorization ---------------------------------------------------------------------------------

  async createAuthorizationLink(actor: Actor, redirectUri: string): Promise<{ url: string; expiresAt: number }> {
    return this.audited(actor, 'authorization.link', null, {}, () => onPlatform(() => this.platform.createAuthorizationLink(redirectUri)));
  }

  /**
   * Exchanges an authorization code (from the redirect, a push, or a re-authorization) and upserts the
   * merchant. Codes are single-use: when the other path got there first, the merchant is already stored.
   */
  async completeAuthorization(authorizationCode: string, via: 'redirect' | 'push'): Promise<Merchant> {
    await this.beforeExchange?.();
    const grant = await onPlatform(() => this.platform.tokens.exchangeAuthorizationCode(authorizationCode));
    const at = this.now();
    return this.store.transaction(async (tx) => {
      const merchant = await tx.merchants.upsertAuthorized(grant.appId, grant.permissions.map((p) => p.id), at);
      // The push and the redirect carry the same code: only the path that exchanged it records it.
      if (!grant.exchangedHere) return merchant;
      await tx.auditLog.append({
        at,
        actorKeyId: null,
        actorRole: 'system',
        action: 'merchant.authorized',
        appId: grant.appId,
        summary: { via, permissions: merchant.permissions },
        result: 'ok',
        errorCode: null,
      });
      return merchant;
    });
  }

  // ---- Operations --------------------------------------------------------------------------------------

  async serverDomains(actor: Actor, appId: string, change: ServerDomainsChange): Promise<ServerDomains> {
    if (change.action !== 'get') checkServerDomains(change, this.registered.server);
    const run = (): Promise<ServerDomains> => this.onMerchant(appId, () => this.platform.serverDomains(appId, change));
    return change.action === 'get' ? run() : this.audited(actor, 'domains.server', appId, { ...change }, run);
  }

  async webviewDomains(actor: Actor, appId: string, change: WebviewDomainsChange): Promise<string[]> {
    if (change.action !== 'get') checkWebviewDomains(change.domains, this.registered.webview);
    const run = (): Promise<string[]> => this.onMerchant(appId, () => this.platform.webviewDomains(appId, change));
    return change.action === 'get' ? run() : this.audited(actor, 'domains.webview', appId, { ...change }, run);
  }

  async uploadCode(actor: Actor, appId: string, input: MerchantUploadInput): Promise<void> {
    const summary = { templateId: input.templateId, userVersion: input.userVersion };
    await this.audited(actor, 'code.upload', appId, summary, () => this.onMerchant(appId, () => this.platform.uploadCode(appId, input)));
  }

  async submitAudit(actor: Actor, appId: string, note?: string): Promise<void> {
    await this.audited(actor, 'audit.submit', appId, note ? { note } : {}, async () => {
      const submittedAt = this.now();
      await this.onMerchant(appId, () => this.platform.submitAudit(appId, note === undefined ? {} : { auditNote: note }));
      const versions = await onPlatform(() => this.platform.getVersions(appId), appId).catch(() => undefined);
      if (!versions?.audit) return;
      // The audit result may already have arrived by push while we asked: never overwrite it with "auditing".
      const seen = (await this.store.merchants.get(appId))?.lastAudit;
      const decided = seen?.userVersion === versions.audit.userVersion && seen.at >= submittedAt && seen.state !== 'auditing';
      if (!decided) await this.store.merchants.setLastAudit(appId, { userVersion: versions.audit.userVersion, state: 'auditing', at: submittedAt });
    });
  }

  async withdrawAudit(actor: Actor, appId: string): Promise<void> {
    await this.audited(actor, 'audit.withdraw', appId, {}, async () => {
      const before = await this.onMerchant(appId, () => this.platform.getVersions(appId));
      await this.onMerchant(appId, () => this.platform.withdrawAudit(appId));
      if (before.audit) await this.store.merchants.setLastAudit(appId, { userVersion: before.audit.userVersion, state: 'withdrawn', at: this.now() });
    });
  }

  qrCode(appId: string, version: 'latest' | 'audit', path?: string): Promise<QrCode> {
    return this.onMerchant(appId, () =>
      this.platform.getQrCode(appId, { version: version === 'audit' ? 'audit' : 'development', ...(path ? { path } : {}) }),
    );
  }

  versions(appId: string): Promise<Versions> {
    return this.onMerchant(appId, () => this.platform.getVersions(appId));
  }

  async release(actor: Actor, appId: string): Promise<void> {
    await this.audited(actor, 'release', appId, {}, () => this.onMerchant(appId, () => this.platform.release(appId)));
  }

  async rollback(actor: Actor, appId: string): Promise<void> {
    await this.audited(actor, 'rollback', appId, {}, () => this.onMerchant(appId, () => this.platform.rollback(appId)));
  }

  async applyCapability(actor: Actor, appId: string, capability: CapabilityName, reason?: string): Promise<CapabilityRecord> {
    return this.audited(actor, 'capability.apply', appId, { capability }, async () => {
      await this.onMerchant(appId, () =>
        this.platform.applyCapability(appId, { capability: CAPABILITY_OF[capability], ...(reason ? { reason } : {}) }),
      );
      const record: CapabilityRecord = { appId, capability, status: 'applying', reason: null, updatedAt: this.now() };
      await this.store.capabilities.upsert(record);
      return record;
    });
  }

  /** Asks the platform (the source of truth) and refreshes our copy. */
  async capabilityStatus(appId: string, capability: CapabilityName): Promise<CapabilityRecord> {
    const state = await this.onMerchant(appId, () => this.platform.getCapabilityStatus(appId, CAPABILITY_OF[capability]));
    const record: CapabilityRecord = {
      appId,
      capability,
      status: STATUS_NAME[state.status] ?? 'not_applied',
      reason: state.reason ?? null,
      updatedAt: this.now(),
    };
    await this.store.capabilities.upsert(record);
    return record;
  }

  // ---- Mechanics ---------------------------------------------------------------------------------------

  /** A call for an authorized merchant we know. */
  private async onMerchant<T>(appId: string, call: () => Promise<T>): Promise<T> {
    const merchant = await this.get(appId);
    if (merchant.status !== 'authorized') {
      throw new FleetError('conflict', 'merchant_not_authorized', `${appId} revoked its authorization; it must authorize again`);
    }
    return onPlatform(call, appId);
  }

  /** Runs a mutating action and records it, with its outcome, in the audit log. */
  private audited<T>(actor: Actor, action: string, appId: string | null, summary: Record<string, unknown>, run: () => Promise<T>): Promise<T> {
    return recordAction(this.store.auditLog, this.now(), { actor, action, appId, summary }, run);
  }
}

