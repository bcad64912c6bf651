/**
 * A real sandbox on a loopback port, and real clients pointed at it: the harness for sandbox, client and
 * server tests. `startSandbox()` builds the sandbox with short delays; `platform()` is a `KuaishouPlatform`
 * already configured for it; `ticket()` and `authorize()` do what the platform's pushes would otherwise
 * deliver to a service (a component ticket, an authorization code), straight into the client's token store.
 */
import assert from 'node:assert/strict';
import {
  ERROR_CODES,
  KuaishouApiError,
  KuaishouClient,
  KuaishouPlatform,
  type AuthorizationGrant,
  type ErrorCodeName,
  type KuaishouClientOptions,
  type KuaishouPlatformOptions,
} from '../../src/kuaishou/index.ts';
import { buildSandbox, type BuildSandboxOptions, type Sandbox } from '../../src/sandbox/app.ts';
import type { CallCounts } from '../../src/sandbox/calls.ts';
import { sandboxOptionsFromEnv } from '../../src/sandbox/config.ts';
import type { MerchantRecord } from '../../src/sandbox/model.ts';

export type { Sandbox, BuildSandboxOptions, CallCounts };

/** The five mini-programs every fresh sandbox is seeded with. */
export const SEEDED_APP_IDS = [
  'ks0000000000000001',
  'ks0000000000000002',
  'ks0000000000000003',
  'ks0000000000000004',
  'ks0000000000000005',
] as const;

export const ALL_PERMISSION_SETS: readonly number[] = [1, 2, 3, 4];

export interface ControlAnswer<T = unknown> {
  status: number;
  /** The parsed JSON body (undefined when the body was empty or not JSON). */
  json: T;
}

export interface IssuedTicket {
  ticket: string;
  expiresInS: number;
}

/** Options for a platform client; component credentials and the base URL default to the sandbox's. */
export type PlatformOverrides = Partial<KuaishouPlatformOptions>;

export interface SandboxHarness {
  sandbox: Sandbox;
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Calls the control API: `control('POST', '/merchants', {count: 2})` → `POST /sandbox/api/merchants`. */
  control<T = unknown>(method: string, path: string, body?: unknown): Promise<ControlAnswer<T>>;
  /** A plain HTTP request to the sandbox (pages, raw platform paths). */
  request(path: string, init?: RequestInit): Promise<Response>;
  /**
   * Without options: the harness's shared platform (the one `ticket()` and `authorize()` feed by default).
   * With options: a new platform configured for the sandbox, those options on top.
   */
  platform(overrides?: PlatformOverrides): KuaishouPlatform;
  /** A raw client for the sandbox's component (or another identity, for negative tests). */
  client(overrides?: Partial<KuaishouClientOptions>): KuaishouClient;
  /** Has the sandbox push a ticket (control API) and stores it in `target`'s token store. */
  ticket(target?: KuaishouPlatform): Promise<IssuedTicket>;
  /** The merchant authorizes `appId` (control API); `target` exchanges the code and keeps the pair. */
  authorize(appId: string, permissions?: readonly number[], target?: KuaishouPlatform): Promise<AuthorizationGrant>;
  /** An authorization code for `appId`, without exchanging it. */
  authorizationCode(appId: string, permissions?: readonly number[]): Promise<string>;
  /** Creates `count` merchants (one mini-program each) and returns their app ids. */
  newApps(count?: number): Promise<string[]>;
  /** `GET /sandbox/api/calls`. */
  calls(): Promise<CallCounts>;
  close(): Promise<void>;
}

/** Starts a sandbox on 127.0.0.1 (random port) with 50 ms audit/capability delays unless overridden. */
export async function startSandbox(overrides: BuildSandboxOptions = {}): Promise<SandboxHarness> {
  const sandbox = await buildSandbox(sandboxOptionsFromEnv({}), {
    port: 0,
    host: '127.0.0.1',
    pushRetryDelayMs: 20,
    ...overrides,
    component: { auditDelayMs: 50, capabilityDelayMs: 50, ...overrides.component },
  });
  const url = await sandbox.listen();
  const { component } = sandbox.runtime.state;

  const request = (path: string, init?: RequestInit): Promise<Response> => fetch(`${url}${path}`, init);

  const control = async <T = unknown>(method: string, path: string, body?: unknown): Promise<ControlAnswer<T>> => {
    const response = await request(`/sandbox/api${path.startsWith('/') ? path : `/${path}`}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? (JSON.parse(text) as unknown) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, json: json as T };
  };

  const client = (options: Partial<KuaishouClientOptions> = {}): KuaishouClient =>
    new KuaishouClient({
      componentAppId: component.componentAppId,
      componentAppSecret: component.componentAppSecret,
      baseUrl: url,
      retry: { retries: 0 },
      ...options,
    });

  const newPlatform = (options: PlatformOverrides = {}): KuaishouPlatform =>
    KuaishouPlatform.create({
      componentAppId: component.componentAppId,
      componentAppSecret: component.componentAppSecret,
      baseUrl: url,
      retry: { retries: 0 },
      ...options,
      tokens: { ticketRequestIntervalMs: 0, ...options.tokens },
    });
  let shared: KuaishouPlatform | undefined;
  const platform = (overrides?: PlatformOverrides): KuaishouPlatform =>
    overrides === undefined ? (shared ??= newPlatform()) : newPlatform(overrides);

  const authorizationCode = async (appId: string, permissions: readonly number[] = ALL_PERMISSION_SETS): Promise<string> => {
    const answer = await control<{ authorizationCode?: string }>('POST', '/authorizations', { appId, permissions });
    assert.equal(answer.status, 201, `authorizing ${appId}: ${JSON.stringify(answer.json)}`);
    assert.ok(answer.json.authorizationCode, 'the control API returned an authorization code');
    return answer.json.authorizationCode;
  };

  return {
    sandbox,
    url,
    control,
    request,
    platform,
    client,
    async ticket(target = platform()) {
      const answer = await control('POST', '/tickets');
      assert.equal(answer.status, 201, `pushing a ticket: ${JSON.stringify(answer.json)}`);
      const newest = Object.entries(sandbox.runtime.state.data.credentials.tickets).at(-1);
      assert.ok(newest, 'the sandbox holds the ticket it pushed');
      const [ticket, grant] = newest;
      const expiresInS = Math.floor((grant.expiresAt - Date.now()) / 1000);
      await target.tokens.storeTicket(ticket, expiresInS);
      return { ticket, expiresInS };
    },
    authorizationCode,
    async authorize(appId, permissions = ALL_PERMISSION_SETS, target = platform()) {
      return target.completeAuthorization(await authorizationCode(appId, permissions));
    },
    async newApps(count = 1) {
      const answer = await control<{ merchants: MerchantRecord[] }>('POST', '/merchants', { count });
      assert.equal(answer.status, 201, `creating merchants: ${JSON.stringify(answer.json)}`);
      return answer.json.merchants.flatMap((merchant) => merchant.appIds);
    },
    async calls() {
      const answer = await control<CallCounts>('GET', '/calls');
      assert.equal(answer.status, 200);
      return answer.json;
    },
    close: () => sandbox.close(),
  };
}

/**
 * Asserts that `action` fails with the platform error `codeName`: a `KuaishouApiError` carrying the code
 * and name of `ERROR_CODES[codeName]`. Returns the error for further checks.
 */
export async function assertApiError(action: Promise<unknown> | (() => Promise<unknown>), codeName: ErrorCodeName): Promise<KuaishouApiError> {
  let caught: unknown;
  try {
    await (typeof action === 'function' ? action() : action);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught !== undefined, `expected ${codeName}, but the call succeeded`);
  assert.ok(caught instanceof KuaishouApiError, `expected a KuaishouApiError ${codeName}, got ${caught instanceof Error ? `${caught.name}: ${caught.message}` : typeof caught}`);
  assert.equal(caught.codeName, codeName, `expected ${codeName}, got ${caught.message}`);
  assert.equal(caught.code, ERROR_CODES[codeName].code);
  return caught;
}

/** Polls `probe` until it returns something other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  { timeoutMs = 2000, intervalMs = 10, what = 'condition' }: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
