/** The audit log's one write path for operator actions: who, what, which merchant, the outcome. */
import { FleetError } from './errors.ts';
import type { Role } from './model.ts';
import type { AuditLogRepository } from './ports.ts';

export interface Actor {
  keyId: string | null;
  role: Role;
}

export interface ActionRecord {
  actor: Actor;
  action: string;
  appId: string | null;
  summary: Record<string, unknown>;
}

/** The most specific code of a failure, for the audit log: the platform's name for it when there is one. */
export function errorCodeOf(error: FleetError): string {
  const { platformCodeName, platformCode } = error.details;
  if (typeof platformCodeName === 'string') return platformCodeName;
  if (typeof platformCode === 'number') return String(platformCode);
  return error.code;
}

/** Runs a mutating action and appends it, with its outcome, to the audit log. */
export async function recordAction<T>(auditLog: AuditLogRepository, at: number, record: ActionRecord, run: () => Promise<T>): Promise<T> {
  const entry = { at, actorKeyId: record.actor.keyId, actorRole: record.actor.role, action: record.action, appId: record.appId, summary: record.summary };
  try {
    const result = await run();
    await auditLog.append({ ...entry, result: 'ok', errorCode: null });
    return result;
  } catch (error) {
    const errorCode = error instanceof FleetError ? errorCodeOf(error) : 'internal';
    await auditLog.append({ ...entry, result: 'error', errorCode }).catch(() => undefined);
    throw error;
  }
}
