/**
 * The platform's template library (A12), kept in the store: synced on start, periodically (background jobs)
 * and on demand; read from the store so listing never waits on the platform once synced.
 */
import type { Logger } from '../kuaishou/logger.ts';
import { recordAction, type Actor } from './audit-trail.ts';
import { FleetError, notFound } from './errors.ts';
import type { TemplateRecord, TemplateRepository } from './ext-ports.ts';
import type { PlatformPort } from './platform-port.ts';
import { onPlatform } from './platform-errors.ts';
import type { AuditLogRepository } from './ports.ts';

export interface TemplateServiceOptions {
  templates: TemplateRepository;
  auditLog: AuditLogRepository;
  platform: Pick<PlatformPort, 'listTemplates'>;
  logger: Logger;
  now?: () => number;
}

export class TemplateService {
  private readonly now: () => number;
  private syncing: Promise<TemplateRecord[]> | undefined;

  constructor(private readonly options: TemplateServiceOptions) {
    this.now = options.now ?? Date.now;
  }

  /** The synced templates; when none was ever synced, syncs first (so a fresh service lists the library). */
  async list(): Promise<TemplateRecord[]> {
    const stored = await this.options.templates.list();
    return stored.length > 0 ? stored : this.sync();
  }

  async get(templateId: number): Promise<TemplateRecord> {
    return (await this.options.templates.get(templateId)) ?? Promise.reject(notFound('template', String(templateId)));
  }

  /** The newest synced template (latest platform creation time, then highest id), if any. */
  async newest(): Promise<TemplateRecord | undefined> {
    const templates = await this.options.templates.list();
    return templates.reduce<TemplateRecord | undefined>(
      (best, t) => (!best || t.createdAt > best.createdAt || (t.createdAt === best.createdAt && t.templateId > best.templateId) ? t : best),
      undefined,
    );
  }

  /** Fetches the library from the platform and stores it; concurrent calls share one fetch. */
  sync(): Promise<TemplateRecord[]> {
    this.syncing ??= (async () => {
      const templates = await onPlatform(() => this.options.platform.listTemplates());
      return this.options.templates.replaceAll(templates, this.now());
    })().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  /** An operator's "sync now", recorded in the audit log. */
  syncBy(actor: Actor): Promise<TemplateRecord[]> {
    return recordAction(this.options.auditLog, this.now(), { actor, action: 'templates.sync', appId: null, summary: {} }, async () => this.sync());
  }

  /** For background jobs: a failure is logged, not thrown; returns whether the sync succeeded. */
  async syncQuietly(): Promise<boolean> {
    try {
      const templates = await this.sync();
      this.options.logger.debug({ templates: templates.length }, 'template library synced');
      return true;
    } catch (error) {
      // Right after a first start the ticket is not there yet; the sync runs again when it arrives.
      if (error instanceof FleetError && error.code === 'no_component_ticket') {
        this.options.logger.info({}, 'template library sync waits for the first component ticket');
        return false;
      }
      this.options.logger.warn({ error: error instanceof Error ? error.message : String(error) }, 'could not sync the template library');
      return false;
    }
  }
}
