/** Capability applications (A10/A11): apply → APPLYING → APPROVED or REJECTED after a delay, or by hand. */
import { CAPABILITY_FROM_WIRE, capabilityPermissionSet } from '../../kuaishou/endpoints.ts';
import type { PermissionSetId } from '../../kuaishou/types.ts';
import type { WireCapability, WireCapabilityStatusResponse } from '../../kuaishou/wire.ts';
import type { CapabilityRecord, MiniAppRecord } from '../model.ts';
import { SandboxError } from '../sandbox-error.ts';
import type { SandboxState } from '../state.ts';
import { wantsRejection } from './versions.ts';

export function parseCapability(value: unknown): WireCapability {
  if (typeof value !== 'string' || !Object.hasOwn(CAPABILITY_FROM_WIRE, value)) {
    throw new SandboxError('INVALID_PARAMS', `capability must be one of ${Object.keys(CAPABILITY_FROM_WIRE).join(', ')}`);
  }
  return value as WireCapability;
}

export function permissionSetFor(capability: WireCapability): PermissionSetId {
  return capabilityPermissionSet(CAPABILITY_FROM_WIRE[capability]);
}

/** A10: returns the record whose decision the caller schedules. */
export function applyCapability(state: SandboxState, app: MiniAppRecord, capability: WireCapability, reason: unknown): CapabilityRecord {
  if (reason !== undefined && (typeof reason !== 'string' || reason.length > 500)) {
    throw new SandboxError('INVALID_PARAMS', 'reason must be a string of at most 500 characters');
  }
  const current = app.capabilities[capability];
  if (current?.status === 'APPLYING' || current?.status === 'APPROVED') throw new SandboxError('CAPABILITY_IN_PROGRESS');
  const record: CapabilityRecord = {
    status: 'APPLYING',
    ...(typeof reason === 'string' && reason ? { applyReason: reason } : {}),
    decideAt: Date.now() + state.component.capabilityDelayMs,
  };
  app.capabilities[capability] = record;
  state.changed();
  return record;
}

export function automaticCapabilityDecision(app: MiniAppRecord, record: CapabilityRecord): { approve: boolean; reason?: string } {
  if (record.applyReason?.includes('sandboxReject') || wantsRejection(app.dev?.extJson)) {
    return { approve: false, reason: '沙箱驳回：申请理由或 ext_json 含 sandboxReject' };
  }
  return { approve: true };
}

export function decideCapability(state: SandboxState, app: MiniAppRecord, capability: WireCapability, approve: boolean, reason?: string): CapabilityRecord {
  const record = app.capabilities[capability];
  if (record?.status !== 'APPLYING') throw new SandboxError('INVALID_PARAMS', `${capability} is not being applied for`);
  record.status = approve ? 'APPROVED' : 'REJECTED';
  delete record.decideAt;
  if (reason) record.reason = reason;
  state.changed();
  return record;
}

/** A11 */
export function capabilityStatus(app: MiniAppRecord, capability: WireCapability): Pick<WireCapabilityStatusResponse, 'status' | 'reason'> {
  const record = app.capabilities[capability];
  if (!record) return { status: 'NOT_APPLIED' };
  return { status: record.status, ...(record.reason ? { reason: record.reason } : {}) };
}
