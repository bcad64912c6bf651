/**
 * Ext config: a template's defaults merged with a merchant's overrides is what every upload of that
 * template to that merchant sends — the custom config (`mergeExt`) as the ext.json's `ext`, the app config
 * (`mergeAppConfig`) as its app.json fields. Each level's two parts are validated, versioned together with
 * optimistic concurrency (a write names the version it edits; a stale one is refused; a write may change
 * one part and keep the other) and kept in the history.
 */
import { recordAction, type Actor } from './audit-trail.ts';
import { conflict, FleetError, notFound } from './errors.ts';
import { buildExtJson, type ExtJsonDocument, type MerchantExt } from '../kuaishou/index.ts';
import { checkAppConfig, checkAssembledAppConfig, mergeAppConfig, type AppConfig, type AppConfigLayer } from './app-config.ts';
import { checkExtDocument, mergeExt } from './ext-document.ts';
import type { ExtDocument, ExtHistoryEntry, ExtRepository, TemplateRecord } from './ext-ports.ts';
import type { Page } from './model.ts';
import type { AuditLogRepository, MerchantRepository } from './ports.ts';
import type { TemplateService } from './template-service.ts';

export interface TemplateExtView {
  templateId: number;
  ext: ExtDocument;
  appConfig: AppConfigLayer;
  version: number;
  updatedAt: number | null;
  updatedBy: string | null;
}

export interface MerchantExtView {
  appId: string;
  templateId: number;
  defaults: ExtDocument;
  overrides: ExtDocument;
  /** The custom config an upload of this template to this merchant sends. */
  effective: ExtDocument;
  appConfigDefaults: AppConfigLayer;
  appConfigOverrides: AppConfigLayer;
  /** The app config it sends. */
  effectiveAppConfig: AppConfig;
  /** The overrides' version, updatedAt and updatedBy. */
  version: number;
  updatedAt: number | null;
  updatedBy: string | null;
}

/** A write of one level: either part may be left out (it is kept); at least one is given. */
export interface ExtLevelWrite {
  ext?: unknown;
  appConfig?: unknown;
  baseVersion: number;
}

export interface ExtPreview {
  appId: string;
  templateId: number;
  /** Exactly what an upload of this template to this merchant sends as ext_json, now. */
  extJson: ExtJsonDocument;
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

  async putTemplateDefaults(actor: Actor, templateId: number, change: ExtLevelWrite): Promise<TemplateExtView> {
    const parts = this.checkParts(change, 'ext');
    await this.options.templates.get(templateId);
    await this.write(actor, 'template.ext.update', null, templateId, parts, change.baseVersion);
    return this.defaultsView(templateId);
  }

  async merchantExt(appId: string, templateId?: number): Promise<MerchantExtView> {
    await this.merchant(appId);
    const template = await this.template(templateId);
    return this.merchantView(appId, template.templateId);
  }

  async putMerchantExt(actor: Actor, appId: string, templateId: number, change: ExtLevelWrite): Promise<MerchantExtView> {
    const parts = this.checkParts(change, 'overrides');
    await this.merchant(appId);
    await this.options.templates.get(templateId);
    await this.write(actor, 'merchant.ext.update', appId, templateId, parts, change.baseVersion);
    return this.merchantView(appId, templateId);
  }

  /** The ext.json an upload of `templateId` (default: the newest) to `appId` would send now. */
  async preview(appId: string, templateId?: number): Promise<ExtPreview> {
    await this.merchant(appId);
    const template = await this.template(templateId);
    return { appId, templateId: template.templateId, extJson: buildExtJson(appId, await this.effectiveUpload(appId, template.templateId)) };
  }

  async merchantHistory(appId: string, query: { templateId?: number; limit: number; cursor?: string }): Promise<Page<ExtHistoryEntry>> {
    await this.merchant(appId);
    const template = await this.template(query.templateId);
    return this.options.ext.history({ templateId: template.templateId, appId, limit: query.limit, ...(query.cursor !== undefined ? { cursor: query.cursor } : {}) });
  }

  /**
   * The custom config an upload of `templateId` to `appId` sends ({} when nothing was configured). `layer`
   * (a release channel's ext defaults, docs/onboarding.md) goes between the template's defaults and the
   * merchant's overrides.
   */
  async effectiveExt(appId: string, templateId: number, layer: ExtDocument | null = null): Promise<ExtDocument> {
    return (await this.effectiveUpload(appId, templateId, layer)).ext;
  }

  /** What an upload sends for `appId`: its custom config and app config (none when no level has one), checked whole. */
  async effectiveUpload(appId: string, templateId: number, layer: ExtDocument | null = null): Promise<MerchantExt> {
    const [defaults, overrides] = await Promise.all([this.options.ext.get(templateId, null), this.options.ext.get(templateId, appId)]);
    const ext = mergeExt(layer ? mergeExt(defaults.document, layer) : defaults.document, overrides.document);
    const appConfig = checkAssembledAppConfig(mergeAppConfig(mergeAppConfig({}, defaults.appConfig), overrides.appConfig));
    return Object.keys(appConfig).length === 0 ? { ext } : { ext, appConfig };
  }

  // ---- Mechanics ---------------------------------------------------------------------------------------

  /** Both parts of a level's write checked before anything is read or written. */
  private checkParts(change: ExtLevelWrite, what: string): { document?: ExtDocument; appConfig?: AppConfigLayer } {
    if (change.ext === undefined && change.appConfig === undefined) {
      throw new FleetError('invalid_data', 'ext_invalid', `give ${what}, appConfig, or both`, { path: '/' });
    }
    return {
      ...(change.ext !== undefined && { document: checkExtDocument(change.ext, what) }),
      ...(change.appConfig !== undefined && { appConfig: checkAppConfig(change.appConfig, 'appConfig') }),
    };
  }

  private async write(
    actor: Actor,
    action: string,
    appId: string | null,
    templateId: number,
    parts: { document?: ExtDocument; appConfig?: AppConfigLayer },
    baseVersion: number,
  ): Promise<void> {
    const summary = { templateId, baseVersion, parts: [...(parts.document ? ['ext'] : []), ...(parts.appConfig ? ['appConfig'] : [])] };
    await recordAction(this.options.auditLog, this.now(), { actor, action, appId, summary }, async () => {
      // The part left out is kept as the version being edited has it (a stale base fails the write below anyway).
      const current = parts.document && parts.appConfig ? undefined : await this.options.ext.get(templateId, appId);
      const document = parts.document ?? current?.document ?? {};
      const appConfig = parts.appConfig ?? current?.appConfig ?? {};
      const saved = await this.options.ext.save({ templateId, appId, document, appConfig, baseVersion, actorKeyId: actor.keyId, at: this.now() });
      if (saved) return;
      const now = await this.options.ext.get(templateId, appId);
      throw conflict('ext_version_conflict', `the document is at version ${now.version}, not ${baseVersion}: read it again and reapply the change`, {
        currentVersion: now.version,
        baseVersion,
      });
    });
  }

  private async defaultsView(templateId: number): Promise<TemplateExtView> {
    const stored = await this.options.ext.get(templateId, null);
    return { templateId, ext: stored.document, appConfig: stored.appConfig, version: stored.version, updatedAt: stored.updatedAt, updatedBy: stored.updatedBy };
  }

  private async merchantView(appId: string, templateId: number): Promise<MerchantExtView> {
    const [defaults, overrides] = await Promise.all([this.options.ext.get(templateId, null), this.options.ext.get(templateId, appId)]);
    return {
      appId,
      templateId,
      defaults: defaults.document,
      overrides: overrides.document,
      effective: mergeExt(defaults.document, overrides.document),
      appConfigDefaults: defaults.appConfig,
      appConfigOverrides: overrides.appConfig,
      effectiveAppConfig: mergeAppConfig(mergeAppConfig({}, defaults.appConfig), overrides.appConfig),
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
