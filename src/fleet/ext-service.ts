/**
 * Ext config: a template's defaults merged with a merchant's overrides (see `mergeExt`) is what every
 * upload of that template to that merchant sends. Both documents are validated, versioned with optimistic
 * concurrency (a write names the version it edits; a stale one is refused) and kept in the history.
 */
import { recordAction, type Actor } from './audit-trail.ts';
import { conflict, FleetError, notFound } from './errors.ts';
import { checkExtDocument, mergeExt } from './ext-document.ts';
import type { ExtDocument, ExtHistoryEntry, ExtRepository, TemplateRecord } from './ext-ports.ts';
import type { Page } from './model.ts';
import type { AuditLogRepository, MerchantRepository } from './ports.ts';
import type { TemplateService } from './template-service.ts';

export interface TemplateExtView {
  templateId: number;
  ext: ExtDocument;
  version: number;
  updatedAt: number | null;
  updatedBy: string | null;
}

export interface MerchantExtView {
  appId: string;
  templateId: number;
  defaults: ExtDocument;
  overrides: ExtDocument;
  /** What an upload of this template to this merchant sends. */
  effective: ExtDocument;
  /** The overrides' version, updatedAt and updatedBy. */
  version: number;
  updatedAt: number | null;
  updatedBy: string | null;
}

export interface ExtServiceOptions {
  ext: ExtRepository;
  merchants: Pick<MerchantRepository, 'get'>;
  auditLog: AuditLogRepository;
  templates: TemplateService;
  now?: () => number;
}

export class ExtService {
  private readonly now: () => number;

  constructor(private readonly options: ExtServiceOptions) {
    this.now = options.now ?? Date.now;
  }

  async templateDefaults(templateId: number): Promise<TemplateExtView> {
    await this.options.templates.get(templateId);
    return this.defaultsView(templateId);
  }

  async putTemplateDefaults(actor: Actor, templateId: number, ext: unknown, baseVersion: number): Promise<TemplateExtView> {
    const document = checkExtDocument(ext, 'ext');
    await this.options.templates.get(templateId);
    await this.write(actor, 'template.ext.update', null, templateId, document, baseVersion);
    return this.defaultsView(templateId);
  }

  async merchantExt(appId: string, templateId?: number): Promise<MerchantExtView> {
    await this.merchant(appId);
    const template = await this.template(templateId);
    return this.merchantView(appId, template.templateId);
  }

  async putMerchantExt(actor: Actor, appId: string, templateId: number, overrides: unknown, baseVersion: number): Promise<MerchantExtView> {
    const document = checkExtDocument(overrides, 'overrides');
    await this.merchant(appId);
    await this.options.templates.get(templateId);
    await this.write(actor, 'merchant.ext.update', appId, templateId, document, baseVersion);
    return this.merchantView(appId, templateId);
  }

  async merchantHistory(appId: string, query: { templateId?: number; limit: number; cursor?: string }): Promise<Page<ExtHistoryEntry>> {
    await this.merchant(appId);
    const template = await this.template(query.templateId);
    return this.options.ext.history({ templateId: template.templateId, appId, limit: query.limit, ...(query.cursor !== undefined ? { cursor: query.cursor } : {}) });
  }

  /**
   * The document an upload of `templateId` to `appId` sends ({} when nothing was configured). `layer` (a
   * release channel's ext defaults, docs/onboarding.md) goes between the template's defaults and the
   * merchant's overrides.
   */
  async effectiveExt(appId: string, templateId: number, layer: ExtDocument | null = null): Promise<ExtDocument> {
    const [defaults, overrides] = await Promise.all([this.options.ext.get(templateId, null), this.options.ext.get(templateId, appId)]);
    return mergeExt(layer ? mergeExt(defaults.document, layer) : defaults.document, overrides.document);
  }

  // ---- Mechanics ---------------------------------------------------------------------------------------

  private async write(actor: Actor, action: string, appId: string | null, templateId: number, document: ExtDocument, baseVersion: number): Promise<void> {
    const summary = { templateId, baseVersion };
    await recordAction(this.options.auditLog, this.now(), { actor, action, appId, summary }, async () => {
      const saved = await this.options.ext.save({ templateId, appId, document, baseVersion, actorKeyId: actor.keyId, at: this.now() });
      if (saved) return;
      const current = await this.options.ext.get(templateId, appId);
      throw conflict('ext_version_conflict', `the document is at version ${current.version}, not ${baseVersion}: read it again and reapply the change`, {
        currentVersion: current.version,
        baseVersion,
      });
    });
  }

  private async defaultsView(templateId: number): Promise<TemplateExtView> {
    const stored = await this.options.ext.get(templateId, null);
    return { templateId, ext: stored.document, version: stored.version, updatedAt: stored.updatedAt, updatedBy: stored.updatedBy };
  }

  private async merchantView(appId: string, templateId: number): Promise<MerchantExtView> {
    const [defaults, overrides] = await Promise.all([this.options.ext.get(templateId, null), this.options.ext.get(templateId, appId)]);
    return {
      appId,
      templateId,
      defaults: defaults.document,
      overrides: overrides.document,
      effective: mergeExt(defaults.document, overrides.document),
      version: overrides.version,
      updatedAt: overrides.updatedAt,
      updatedBy: overrides.updatedBy,
    };
  }

  private async merchant(appId: string): Promise<void> {
    if (!(await this.options.merchants.get(appId))) throw notFound('merchant', appId);
  }

  /** The named template, or the newest synced one. */
  private async template(templateId: number | undefined): Promise<TemplateRecord> {
    if (templateId !== undefined) return this.options.templates.get(templateId);
    const newest = await this.options.templates.newest();
    if (!newest) throw new FleetError('not_found', 'template_not_found', 'no template synced yet (POST /api/v1/templates/sync)');
    return newest;
  }
}
