/** A1–A12: calls on behalf of an authorized mini-program (and the component's template list). */
import type { FastifyInstance } from 'fastify';
import QRCode from 'qrcode';
import type { Operation } from '../../kuaishou/endpoints.ts';
import type { WireServerDomainLists, WireTemplate } from '../../kuaishou/wire.ts';
import type { ServerDomainRecord } from '../model.ts';
import { capabilityStatus, parseCapability, permissionSetFor } from '../rules/capabilities.ts';
import { checkComponentToken, requirePermission } from '../rules/credentials.ts';
import { changeServerDomains, changeWebviewDomains } from '../rules/domains.ts';
import { release, rollback, uploadCode, versionsView, withdrawAudit } from '../rules/versions.ts';
import type { SandboxRuntime } from '../runtime.ts';
import { SandboxError } from '../sandbox-error.ts';
import { registerAuthorizedRoute, registerPlatformRoute } from './platform-route.ts';


function serverDomainAnswer(domains: ServerDomainRecord): WireServerDomainLists {
  return {
    request: domains.request,
    socket: domains.socket,
    upload_file: domains.uploadFile,
    download_file: domains.downloadFile,
    udp: domains.udp,
  };
}

export function openapiRoutes(app: FastifyInstance, runtime: SandboxRuntime): void {
  const { state } = runtime;

  const authorized = (operation: Operation, handler: Parameters<typeof registerAuthorizedRoute>[3]): void =>
    registerAuthorizedRoute(app, runtime, operation, handler);

  // The domain rules change the app record without the state: mark it changed here, or a state file misses it.
  authorized('serverDomains', (target, { body }) => {
    const domains = changeServerDomains(target, body, state.component.serverDomains);
    state.changed();
    return { ...serverDomainAnswer(domains) };
  });

  authorized('webviewDomains', (target, { body }) => {
    const domains = changeWebviewDomains(target, body, state.component.webviewDomains);
    state.changed();
    return { webview_domain: domains };
  });

  authorized('uploadCode', (target, { body }) => {
    uploadCode(state, target, body);
    return {};
  });

  authorized('submitAudit', (target, { body }) => {
    runtime.submitAudit(target, body);
    return {};
  });

  authorized('withdrawAudit', (target) => {
    withdrawAudit(state, target);
    runtime.cancelAudit(target.appId);
    return {};
  });

  authorized('getQrCode', async (target, { query }) => {
    const version = query.version ?? 'latest';
    if (version !== 'latest' && version !== 'audit') throw new SandboxError('INVALID_PARAMS', 'version must be latest or audit');
    const shown = version === 'latest' ? target.dev : target.audit;
    if (!shown) throw new SandboxError(version === 'latest' ? 'NO_DEV_VERSION' : 'NOT_AUDITING', version === 'latest' ? 'no development version to show' : 'no version under audit to show');
    const path = query.path ?? '';
    if (path.length > 512) throw new SandboxError('INVALID_PARAMS', 'path: at most 512 characters');
    const preview = new URL(`${runtime.publicUrl}/sandbox/preview/${encodeURIComponent(target.appId)}`);
    preview.searchParams.set('version', version);
    preview.searchParams.set('v', shown.userVersion);
    if (path) preview.searchParams.set('path', path);
    return { png: await QRCode.toBuffer(preview.toString(), { type: 'png', margin: 2, width: 280 }) };
  });

  authorized('getVersions', (target) => ({ data: versionsView(target) }));

  authorized('release', (target) => {
    release(state, target);
    return {};
  });

  authorized('rollback', (target) => {
    rollback(state, target);
    return {};
  });

  // Capability rows check their permission set by capability (3: operations, 4: phone number).
  authorized('applyCapability', (target, { body }) => {
    const capability = parseCapability(body.capability);
    requirePermission(target, permissionSetFor(capability));
    runtime.applyCapability(target, capability, body.reason);
    return {};
  });

  authorized('getCapabilityStatus', (target, { query }) => {
    const capability = parseCapability(query.capability);
    requirePermission(target, permissionSetFor(capability));
    return capabilityStatus(target, capability);
  });

  registerPlatformRoute(app, runtime, 'listTemplates', ({ query }) => {
    checkComponentToken(state, query.component_app_id, query.component_access_token);
    const templates: WireTemplate[] = state.data.templates.map((t) => ({
      template_id: t.templateId,
      user_version: t.userVersion,
      user_desc: t.userDesc,
      create_time: Math.floor(t.createdAt / 1000),
    }));
    return { templates };
  });
}
