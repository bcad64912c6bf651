/**
 * Small helpers for REST API tests over `startStack`: authorize a sandbox merchant and wait for the
 * service to know it, assert error answers, read the sandbox's state and call counts.
 */
import assert from 'node:assert/strict';
import type { ApiAnswer, Stack } from './service.ts';
import { waitFor } from './sandbox.ts';
import type { AuditLogEntry } from '../../src/fleet/model.ts';

export interface ErrorJson {
  error: { code: string; message: string; details: Record<string, unknown> };
}

/** Asserts `{error: {code, message, details}}` with `status` (and `code` when given); no stack trace. */
export function assertError(answer: ApiAnswer<unknown>, status: number, code?: string, what = ''): ErrorJson['error'] {
  const text = answer.bytes.toString('utf8');
  assert.equal(answer.status, status, `${what} expected ${status}, got ${answer.status}: ${text.slice(0, 500)}`);
  assertErrorShape(answer, what);
  const { error } = answer.json as ErrorJson;
  if (code !== undefined) assert.equal(error.code, code, `${what} error code: ${text.slice(0, 500)}`);
  return error;
}

/** The body is the API's error shape, and carries no stack trace. */
export function assertErrorShape(answer: ApiAnswer<unknown>, what = ''): void {
  const text = answer.bytes.toString('utf8');
  assert.ok(!text.includes('    at '), `${what} no stack trace in the body: ${text.slice(0, 500)}`);
  assert.match(answer.headers.get('content-type') ?? '', /^application\/json/, `${what} JSON error body`);
  const json = answer.json as Partial<ErrorJson> | undefined;
  assert.equal(typeof json?.error?.code, 'string', `${what} error.code: ${text.slice(0, 500)}`);
  assert.equal(typeof json?.error?.message, 'string', `${what} error.message: ${text.slice(0, 500)}`);
  assert.equal(typeof json?.error?.details, 'object', `${what} error.details: ${text.slice(0, 500)}`);
  assert.ok(json?.error?.details !== null && !Array.isArray(json?.error?.details), `${what} error.details is an object`);
}

/** Authorizes a sandbox mini-program (the control API pushes the code to the service) and waits until it is listed. */
export async function authorizeMerchant(stack: Stack, appId: string, permissions: readonly number[] = [1, 2, 3, 4]): Promise<void> {
  const granted = await stack.sandbox.control('POST', '/authorizations', { appId, permissions });
  assert.equal(granted.status, 201, `authorizing ${appId}: ${JSON.stringify(granted.json)}`);
  await waitFor(
    async () => {
      const merchant = await stack.api<{ status: string; permissions: number[] }>('GET', `/api/v1/merchants/${appId}`);
      return merchant.status === 200 && merchant.json.status === 'authorized' && merchant.json.permissions.length === permissions.length ? true : undefined;
    },
    { timeoutMs: 5000, intervalMs: 20, what: `${appId} authorized on the service` },
  );
}

/** The merchant revokes its authorization on the sandbox; waits until the push reached the service. */
export async function revokeMerchant(stack: Stack, appId: string): Promise<void> {
  const revoked = await stack.sandbox.control('POST', '/revocations', { appId });
  assert.equal(revoked.status, 200, `revoking ${appId}: ${JSON.stringify(revoked.json)}`);
  await waitFor(
    async () => ((await stack.api<{ status: string }>('GET', `/api/v1/merchants/${appId}`)).json.status === 'revoked' ? true : undefined),
    { timeoutMs: 5000, intervalMs: 20, what: `${appId} revoked on the service` },
  );
}

/** The ext.json an upload for `appId` sends with this custom config (and no app config). */
export function extJsonOf(appId: string, ext: Record<string, unknown> | undefined): Record<string, unknown> {
  return { extEnable: true, extAppId: appId, ext };
}

export interface SandboxVersion {
  user_version: string;
  /** The ext JSON text the upload sent. */
  ext_json?: string | null;
  status?: string;
  rollback?: { can_rollback: boolean; last_version?: string };
}

export interface SandboxApp {
  appId: string;
  authorized: boolean;
  permissions: number[];
  versions: { dev: SandboxVersion | null; audit: SandboxVersion | null; online: SandboxVersion | null };
  serverDomains: Record<'request' | 'socket' | 'uploadFile' | 'downloadFile' | 'udp', string[]>;
  webviewDomains: string[];
  capabilities: Record<string, { status: string }>;
}

export interface SandboxState {
  merchants: { merchantId: string; apps: SandboxApp[] }[];
  templates: { templateId: number; userVersion: string; userDesc: string }[];
}

export async function sandboxState(stack: Stack): Promise<SandboxState> {
  const answer = await stack.sandbox.control<SandboxState>('GET', '/state');
  assert.equal(answer.status, 200);
  return answer.json;
}

export async function sandboxApp(stack: Stack, appId: string): Promise<SandboxApp> {
  const app = (await sandboxState(stack)).merchants.flatMap((merchant) => merchant.apps).find((candidate) => candidate.appId === appId);
  assert.ok(app, `the sandbox knows ${appId}`);
  return app;
}

/** Platform calls the sandbox received: in total, or for one operation. */
export async function sandboxCalls(stack: Stack, operation?: string): Promise<number> {
  const counts = await stack.sandbox.calls();
  return operation === undefined ? counts.total.calls : (counts.byOperation[operation]?.calls ?? 0);
}

export type AuditEntry = AuditLogEntry;

/** Every audit-log entry matching `query` (e.g. `appId=…`), newest first, following cursors. */
export async function auditLog(stack: Stack, query = ''): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const params = new URLSearchParams(query);
    params.set('limit', '200');
    if (cursor) params.set('cursor', cursor);
    const answer = await stack.api<{ items: AuditEntry[]; nextCursor: string | null }>('GET', `/api/v1/audit-log?${params.toString()}`);
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    entries.push(...answer.json.items);
    cursor = answer.json.nextCursor;
    if (!cursor) return entries;
  }
  assert.fail('the audit log did not end within 100 pages');
}

/** The id of a key `ksk_<id>_<secret>` (what the audit log records as the actor). */
export function keyIdOf(key: string): string {
  const id = /^ksk_([A-Za-z0-9]{12})_/.exec(key)?.[1];
  assert.ok(id, 'a ksk_ key');
  return id;
}

/**
 * The merchant's side of an authorization link, in a browser: opens the sandbox's authorization page,
 * logs in as `merchantId`, picks `appId`, ticks `permissions`, confirms, and follows the redirect back to
 * the service. Returns the service's answer page.
 */
export async function authorizeThroughPage(linkUrl: string, merchantId: string, appId: string, permissions: readonly number[] = [1, 2]): Promise<{ status: number; text: string }> {
  const page = new URL(linkUrl);
  page.searchParams.set('merchant_id', merchantId);
  const form = await fetch(page);
  assert.equal(form.status, 200, 'the authorization page opens');
  await form.arrayBuffer();
  const confirm = await fetch(`${page.origin}${page.pathname}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams([
      ...['component_app_id', 'pre_auth_code', 'redirect_uri'].map((name) => [name, page.searchParams.get(name) ?? ''] as [string, string]),
      ['merchant_id', merchantId],
      ['app_id', appId],
      ...permissions.map((id) => ['permission', String(id)] as [string, string]),
    ]),
  });
  assert.equal(confirm.status, 302, 'the page redirects back to the service');
  const back = await fetch(confirm.headers.get('location')!);
  return { status: back.status, text: await back.text() };
}
