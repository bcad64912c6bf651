/**
 * Release channels: what new merchants get (template, version, ext defaults, domain policy, autoRelease).
 * Validated before anything is stored, versioned for optimistic concurrency, audit-logged; and the
 * promotion of a completed rollout's version to its `promoteTo` channel, exactly once.
 */
import type { Logger } from '../kuaishou/logger.ts';
import { recordAction, type Actor } from './audit-trail.ts';
import { CHANNEL_NAME_PATTERN, type Channel, type ChannelInput } from './channel-model.ts';
import type { ChannelRepository, Promotion } from './channel-ports.ts';
import { checkDomainPolicy } from './domain-policy.ts';
import type { RegisteredDomains } from './domain-rules.ts';
import { conflict, invalid, notFound } from './errors.ts';
import { checkExtDocument } from './ext-document.ts';
import type { AuditLogRepository } from './ports.ts';

const NAME = new RegExp(CHANNEL_NAME_PATTERN);

export interface ChannelServiceOptions {
  channels: ChannelRepository;
  auditLog: AuditLogRepository;
  registeredDomains: RegisteredDomains;
  /** Whether a template id is one of the synced templates; undefined when that cannot be told. */
  templateExists?: (templateId: number) => Promise<boolean | undefined>;
  logger: Logger;
  now?: () => number;
}

export type ChannelPut = ChannelInput & { baseVersion?: number };

export function checkChannelName(name: string): void {
  if (!NAME.test(name)) throw invalid(`channel name "${name.slice(0, 40)}" must match ${CHANNEL_NAME_PATTERN}`);
}

export class ChannelService {
  private readonly now: () => number;

  constructor(private readonly options: ChannelServiceOptions) {
    this.now = options.now ?? Date.now;
  }

  list(): Promise<Channel[]> {
    return this.options.channels.list();
  }

  async get(name: string): Promise<Channel> {
    checkChannelName(name);
    return (await this.options.channels.get(name)) ?? Promise.reject(notFound('channel', name));
  }

  /** Bad input is refused before anything is recorded; a stale `baseVersion` is a recorded 409. */
  async put(actor: Actor, name: string, input: ChannelPut): Promise<Channel> {
    await this.validate(name, input);
    const { baseVersion, ...given } = input;
    // Domains in the platform's form (scheme and host, lower case, no duplicates), as the domain step sends them.
    const channel = { ...given, domainPolicy: given.domainPolicy && checkDomainPolicy(given.domainPolicy, this.options.registeredDomains) };
    const summary = { name, templateId: channel.templateId, userVersion: channel.userVersion, ...(baseVersion !== undefined ? { baseVersion } : {}) };
    return recordAction(this.options.auditLog, this.now(), { actor, action: 'channel.put', appId: null, summary }, async () => {
      const stored = await this.options.channels.put(name, channel, baseVersion, actor.keyId, this.now());
      if (stored) return stored;
      const current = await this.options.channels.get(name);
      throw conflict('channel_version_conflict', current ? `channel ${name} is at version ${current.version}, not ${baseVersion}` : `channel ${name} does not exist (baseVersion ${baseVersion})`, {
        currentVersion: current?.version ?? 0,
      });
    });
  }

  private async validate(name: string, input: ChannelPut): Promise<void> {
    checkChannelName(name);
    if (!Number.isSafeInteger(input.templateId) || input.templateId < 0) throw invalid('templateId must be a non-negative integer');
    if (input.baseVersion !== undefined && (!Number.isSafeInteger(input.baseVersion) || input.baseVersion < 0)) throw invalid('baseVersion must be a non-negative integer');
    // The same rules as every ext document (size, depth, JSON values only, no prototype keys).
    if (input.extDefaults !== null) checkExtDocument(input.extDefaults, 'extDefaults');
    if (input.domainPolicy !== null) checkDomainPolicy(input.domainPolicy, this.options.registeredDomains);
    const exists = await this.options.templateExists?.(input.templateId);
    if (exists === false) throw invalid(`template ${input.templateId} is not among the platform's templates (GET /api/v1/templates)`, { templateId: input.templateId });
  }

  /** Moves `promotion.channel` to the rollout's version, once per rollout (no-op when already done). */
  async promote(promotion: Promotion): Promise<Channel | undefined> {
    const at = this.now();
    const promoted = await this.options.channels.promote(promotion, at, (before, after) => ({
      at,
      actorKeyId: null,
      actorRole: 'system',
      action: 'channel.promote',
      appId: null,
      summary: {
        channel: promotion.channel,
        rolloutId: promotion.rolloutId,
        templateId: promotion.templateId,
        userVersion: promotion.userVersion,
        version: after.version,
        ...(before ? { previous: { templateId: before.templateId, userVersion: before.userVersion } } : { created: true }),
      },
      result: 'ok',
      errorCode: null,
    }));
    if (promoted) this.options.logger.info({ channel: promotion.channel, rolloutId: promotion.rolloutId, userVersion: promotion.userVersion }, 'channel promoted');
    return promoted;
  }

  /** Promotes every completed rollout whose promotion has not happened (a crash, or another instance). */
  async promotePending(): Promise<number> {
    let promoted = 0;
    for (const promotion of await this.options.channels.pendingPromotions(100)) {
      if (await this.promote(promotion)) promoted++;
    }
    return promoted;
  }
}
