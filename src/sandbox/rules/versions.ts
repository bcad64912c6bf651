/**
 * The version state machine (contract, A3–A9): upload replaces the development version; one audit at a
 * time; withdraw only while auditing; release only a passed audit (the old online version becomes the
 * rollback target); rollback only to that previous version, never after the first release, once per release.
 */
import type { WireVersionsResponse } from '../../kuaishou/wire.ts';
import type { AuditRecord, MiniAppRecord, OnlineRecord, PackageVersion, TemplateRecord } from '../model.ts';
import { SandboxError } from '../sandbox-error.ts';
import type { SandboxState } from '../state.ts';

export const MAX_EXT_JSON_BYTES = 512 * 1024;
const REJECT_MARKER = 'sandboxReject';

function text(value: unknown, field: string, max: number, required: boolean): string {
  if (value === undefined || value === null) {
    if (required) throw new SandboxError('INVALID_PARAMS', `${field} is required`);
    return '';
  }
  if (typeof value !== 'string') throw new SandboxError('INVALID_PARAMS', `${field} must be a string`);
  if (required && value.trim() === '') throw new SandboxError('INVALID_PARAMS', `${field} must not be empty`);
  if (value.length > max) throw new SandboxError('INVALID_PARAMS', `${field}: at most ${max} characters`);
  return value;
}

/** A3 */
export function uploadCode(state: SandboxState, app: MiniAppRecord, body: Record<string, unknown>): void {
  const templateId = body.template_id;
  if (typeof templateId !== 'number' || !Number.isInteger(templateId)) throw new SandboxError('INVALID_PARAMS', 'template_id must be an integer');
  if (!state.data.templates.some((t) => t.templateId === templateId)) throw new SandboxError('TEMPLATE_NOT_FOUND', `template ${templateId} not found`);
  const userVersion = text(body.user_version, 'user_version', 64, true);
  const userDesc = text(body.user_desc, 'user_desc', 1024, false);
  const extJson = text(body.ext_json, 'ext_json', MAX_EXT_JSON_BYTES, true);
  let ext: unknown;
  try {
    ext = JSON.parse(extJson);
  } catch {
    throw new SandboxError('EXT_JSON_INVALID');
  }
  if (!isObject(ext)) throw new SandboxError('EXT_JSON_INVALID', 'ext_json must be a JSON object');
  checkExtJson(ext, app.appId, state.data.templates.find((t) => t.templateId === templateId)!);
  app.dev = { templateId, userVersion, userDesc, extJson, createdAt: Date.now() };
  state.changed();
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === 'string' && item !== '') && new Set(value).size === value.length;
}

/**
 * What the platform documents of ext.json (devTool.html): without `extEnable: true` an upload does
 * nothing — refused here so it cannot pass unnoticed; `extAppId` names the mini-program the code is for;
 * `pages` and `subPackages` only a subset of the template's; `extPages` only pages it has. The codes are inferred.
 */
function checkExtJson(ext: Record<string, unknown>, appId: string, template: TemplateRecord): void {
  if (ext.extEnable !== true) throw new SandboxError('EXT_NOT_ENABLED');
  if (ext.extAppId !== appId) throw new SandboxError('EXT_APP_ID_MISMATCH', `extAppId must be ${appId}, the calling mini-program (got ${JSON.stringify(ext.extAppId ?? null)})`);
  if (ext.ext !== undefined && !isObject(ext.ext)) throw new SandboxError('EXT_JSON_INVALID', 'ext must be a JSON object');
  for (const field of ['window', 'tabBar', 'networkTimeout', 'extPages'] as const) {
    if (ext[field] !== undefined && !isObject(ext[field])) throw new SandboxError('EXT_JSON_INVALID', `${field} must be a JSON object`);
  }
  const known = template.pages ? new Set(template.pages) : undefined;
  let pages = known;
  if (ext.pages !== undefined) {
    if (!stringList(ext.pages)) throw new SandboxError('EXT_JSON_INVALID', 'pages must be a non-empty list of distinct page paths');
    const unknown = known && ext.pages.find((page) => !known.has(page));
    if (unknown) throw new SandboxError('EXT_PAGES_INVALID', `pages: "${unknown}" is not a page of template ${template.templateId}`);
    pages = new Set(ext.pages);
  }
  if (isObject(ext.extPages) && pages) {
    const unknown = Object.keys(ext.extPages).find((page) => !pages.has(page));
    if (unknown) throw new SandboxError('EXT_PAGES_INVALID', `extPages: "${unknown}" is not among the pages`);
  }
  if (ext.subPackages !== undefined) {
    const list = ext.subPackages;
    if (!Array.isArray(list) || list.length === 0 || !list.every((item) => isObject(item) && typeof item.root === 'string' && stringList(item.pages))) {
      throw new SandboxError('EXT_JSON_INVALID', 'subPackages must be a non-empty list of {root, pages}');
    }
    // A template whose structure is known (seeded, or created with pages) has only the roots it lists.
    const roots = template.pages || template.subPackageRoots ? new Set(template.subPackageRoots ?? []) : undefined;
    const unknown = roots && (list as { root: string }[]).find((item) => !roots.has(item.root));
    if (unknown) throw new SandboxError('EXT_PAGES_INVALID', `subPackages: "${unknown.root}" is not a sub-package of template ${template.templateId}`);
  }
}

/** A4: returns the new audit, whose decision the caller schedules. */
export function submitAudit(state: SandboxState, app: MiniAppRecord, body: Record<string, unknown>): AuditRecord {
  const auditNote = text(body.audit_note, 'audit_note', 1024, false);
  if (!app.dev) throw new SandboxError('NO_DEV_VERSION');
  if (app.audit?.status === 'AUDITING') throw new SandboxError('AUDIT_IN_PROGRESS');
  const now = Date.now();
  const { auditDelayMs } = state.component;
  app.audit = {
    ...app.dev,
    status: 'AUDITING',
    submittedAt: now,
    ...(auditNote ? { auditNote } : {}),
    ...(auditDelayMs >= 0 ? { decideAt: now + auditDelayMs } : {}),
  };
  state.changed();
  return app.audit;
}

/** A5 */
export function withdrawAudit(state: SandboxState, app: MiniAppRecord): void {
  if (app.audit?.status !== 'AUDITING') throw new SandboxError('NOT_AUDITING');
  delete app.audit;
  state.changed();
}

/** What the automatic audit decides: reject when the ext config asks for it. */
export function automaticDecision(version: PackageVersion): { pass: boolean; reason?: string } {
  return wantsRejection(version.extJson)
    ? { pass: false, reason: '沙箱审核驳回：ext_json 含 "sandboxReject": true' }
    : { pass: true };
}

/** The marker in the custom config (`ext.sandboxReject`), or, as before ext.json was modelled, at the top level. */
export function wantsRejection(extJson: string | undefined): boolean {
  if (!extJson) return false;
  try {
    const document = JSON.parse(extJson) as Record<string, unknown>;
    return document[REJECT_MARKER] === true || (isObject(document.ext) && document.ext[REJECT_MARKER] === true);
  } catch {
    return false;
  }
}

/** Decides the audit in progress (automatically or by hand). */
export function decideAudit(state: SandboxState, app: MiniAppRecord, pass: boolean, reason?: string): AuditRecord {
  const audit = app.audit;
  if (audit?.status !== 'AUDITING') throw new SandboxError('NOT_AUDITING');
  audit.status = pass ? 'PASS' : 'REJECT';
  delete audit.decideAt;
  if (reason) audit.reason = reason;
  else delete audit.reason;
  state.changed();
  return audit;
}

/** A8 */
export function release(state: SandboxState, app: MiniAppRecord): void {
  const audit = app.audit;
  if (audit?.status !== 'PASS') throw new SandboxError('NO_PASSED_AUDIT');
  const { templateId, userVersion, userDesc, extJson, createdAt } = audit;
  const online: OnlineRecord = { templateId, userVersion, userDesc, extJson, createdAt, releasedAt: Date.now() };
  if (app.online) app.previousOnline = app.online;
  app.online = online;
  app.canRollback = app.previousOnline !== undefined;
  delete app.audit;
  state.changed();
}

/** A9 */
export function rollback(state: SandboxState, app: MiniAppRecord): void {
  if (!app.canRollback || !app.previousOnline) throw new SandboxError('ROLLBACK_NOT_ALLOWED');
  app.online = { ...app.previousOnline, releasedAt: Date.now() };
  delete app.previousOnline;
  app.canRollback = false;
  state.changed();
}

const unix = (ms: number): number => Math.floor(ms / 1000);

/** A7 */
export function versionsView(app: MiniAppRecord): WireVersionsResponse['data'] {
  const { dev, audit, online } = app;
  return {
    latest: dev
      ? { user_version: dev.userVersion, user_desc: dev.userDesc, template_id: dev.templateId, create_time: unix(dev.createdAt) }
      : null,
    audit: audit
      ? {
          user_version: audit.userVersion,
          user_desc: audit.userDesc,
          template_id: audit.templateId,
          status: audit.status,
          submit_time: unix(audit.submittedAt),
          ...(audit.reason ? { reason: audit.reason } : {}),
        }
      : null,
    current: online
      ? {
          user_version: online.userVersion,
          user_desc: online.userDesc,
          template_id: online.templateId,
          release_time: unix(online.releasedAt),
          rollback: {
            can_rollback: app.canRollback,
            ...(app.canRollback && app.previousOnline ? { last_version: app.previousOnline.userVersion } : {}),
          },
        }
      : null,
  };
}
