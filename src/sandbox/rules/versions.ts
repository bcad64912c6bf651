/**
 * The version state machine (contract, A3–A9): upload replaces the development version; one audit at a
 * time; withdraw only while auditing; release only a passed audit (the old online version becomes the
 * rollback target); rollback only to that previous version, never after the first release, once per release.
 */
import type { WireVersionsResponse } from '../../kuaishou/wire.ts';
import type { AuditRecord, MiniAppRecord, OnlineRecord, PackageVersion } from '../model.ts';
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
  if (typeof ext !== 'object' || ext === null || Array.isArray(ext)) throw new SandboxError('EXT_JSON_INVALID', 'ext_json must be a JSON object');
  app.dev = { templateId, userVersion, userDesc, extJson, createdAt: Date.now() };
  state.changed();
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

export function wantsRejection(extJson: string | undefined): boolean {
  if (!extJson) return false;
  try {
    const ext = JSON.parse(extJson) as Record<string, unknown>;
    return ext[REJECT_MARKER] === true;
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
