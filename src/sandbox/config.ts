/**
 * Sandbox configuration from `SANDBOX_*` environment variables (names in docs/sandbox.md and the design
 * notes). Every component field can also be changed at run time through `PUT /sandbox/api/component`.
 */
import type { ComponentConfig } from './model.ts';

export interface SandboxOptions {
  port: number;
  host: string;
  /** Base URL the sandbox is reachable at (QR code targets); empty: the address it listens on. */
  publicUrl: string;
  /** Optional JSON file that keeps the state across restarts. */
  stateFile: string | undefined;
  /** Delay before each push resend (doubling). */
  pushRetryDelayMs: number;
  component: ComponentConfig;
  /** Component fields set explicitly by the environment: they win over a state file's remembered values. */
  explicitComponentFields: (keyof ComponentConfig)[];
}

/** The environment variable behind each component field. */
export const COMPONENT_ENV: Record<keyof ComponentConfig, string> = {
  componentAppId: 'SANDBOX_COMPONENT_APP_ID',
  componentAppSecret: 'SANDBOX_COMPONENT_APP_SECRET',
  messageToken: 'SANDBOX_MESSAGE_TOKEN',
  messageKey: 'SANDBOX_MESSAGE_KEY',
  authEventUrl: 'SANDBOX_AUTH_EVENT_URL',
  messageUrl: 'SANDBOX_MESSAGE_URL',
  serverDomains: 'SANDBOX_SERVER_DOMAINS',
  webviewDomains: 'SANDBOX_WEBVIEW_DOMAINS',
  auditDelayMs: 'SANDBOX_AUDIT_DELAY_MS',
  capabilityDelayMs: 'SANDBOX_CAPABILITY_DELAY_MS',
  ticketIntervalS: 'SANDBOX_TICKET_INTERVAL_S',
  tokenTtlS: 'SANDBOX_TOKEN_TTL_S',
  refreshTokenTtlS: 'SANDBOX_REFRESH_TOKEN_TTL_S',
  ticketTtlS: 'SANDBOX_TICKET_TTL_S',
  runtimeUrl: 'SANDBOX_RUNTIME_URL',
};

export class SandboxConfigError extends Error {
  override name = 'SandboxConfigError';
}

/** Fixed demo credentials: the sandbox is local-only, and fixed values let `npm run serve` be wired by hand. */
export const DEFAULT_COMPONENT: ComponentConfig = {
  componentAppId: 'ks_sandbox_component',
  componentAppSecret: 'sandbox-component-secret',
  messageToken: 'sandbox-message-token',
  messageKey: 'c2FuZGJveC1tZXNzYWdlLWtleS0zMi1ieXRlcy1sb24',
  authEventUrl: '',
  messageUrl: '',
  serverDomains: ['example.com'],
  webviewDomains: ['example.com'],
  auditDelayMs: 3000,
  capabilityDelayMs: 3000,
  ticketIntervalS: 600,
  tokenTtlS: 7200,
  refreshTokenTtlS: 2_592_000,
  ticketTtlS: 10_800,
  runtimeUrl: '',
};

type Env = Record<string, string | undefined>;

/** Longest delay a Node timer takes: beyond it `setTimeout` fires after 1 ms instead (a ticket storm). */
export const MAX_TIMER_MS = 2_147_483_647;
export const MAX_TICKET_INTERVAL_S = Math.floor(MAX_TIMER_MS / 1000);

function integer(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new SandboxConfigError(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
  return value;
}

function hosts(env: Env, name: string, fallback: string[]): string[] {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const list = raw.split(',').map((host) => host.trim().toLowerCase()).filter(Boolean);
  for (const host of list) {
    if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(host)) throw new SandboxConfigError(`${name}: "${host}" is not a host name`);
  }
  return list;
}

function url(env: Env, name: string): string {
  const raw = env[name] ?? '';
  if (raw === '') return '';
  try {
    const parsed = new URL(raw);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new SandboxConfigError(`${name} must be an http(s) URL (got "${raw}")`);
  }
  return raw;
}

export function isMessageKey(key: string): boolean {
  return /^[A-Za-z0-9+/]{43}$/.test(key);
}

export function sandboxOptionsFromEnv(env: Env = process.env): SandboxOptions {
  const port = integer(env, 'SANDBOX_PORT', 4100, 0);
  if (port > 65535) throw new SandboxConfigError(`SANDBOX_PORT must be a port number (got "${env.SANDBOX_PORT}")`);
  const messageKey = env.SANDBOX_MESSAGE_KEY ?? DEFAULT_COMPONENT.messageKey;
  if (!isMessageKey(messageKey)) throw new SandboxConfigError('SANDBOX_MESSAGE_KEY must be 43 base64 characters');
  const host = env.SANDBOX_HOST ?? '127.0.0.1';
  const auditDelayMs = env.SANDBOX_AUDIT_DELAY_MS === undefined || env.SANDBOX_AUDIT_DELAY_MS === ''
    ? DEFAULT_COMPONENT.auditDelayMs
    : integer(env, 'SANDBOX_AUDIT_DELAY_MS', DEFAULT_COMPONENT.auditDelayMs, -1, MAX_TIMER_MS);
  return {
    port,
    host,
    publicUrl: url(env, 'SANDBOX_PUBLIC_URL').replace(/\/+$/, ''),
    stateFile: env.SANDBOX_STATE_FILE || undefined,
    pushRetryDelayMs: integer(env, 'SANDBOX_PUSH_RETRY_DELAY_MS', 1000, 0, MAX_TIMER_MS),
    explicitComponentFields: (Object.keys(COMPONENT_ENV) as (keyof ComponentConfig)[]).filter((field) => (env[COMPONENT_ENV[field]] ?? '') !== ''),
    component: {
      componentAppId: env.SANDBOX_COMPONENT_APP_ID || DEFAULT_COMPONENT.componentAppId,
      componentAppSecret: env.SANDBOX_COMPONENT_APP_SECRET || DEFAULT_COMPONENT.componentAppSecret,
      messageToken: env.SANDBOX_MESSAGE_TOKEN || DEFAULT_COMPONENT.messageToken,
      messageKey,
      authEventUrl: url(env, 'SANDBOX_AUTH_EVENT_URL'),
      messageUrl: url(env, 'SANDBOX_MESSAGE_URL'),
      serverDomains: hosts(env, 'SANDBOX_SERVER_DOMAINS', DEFAULT_COMPONENT.serverDomains),
      webviewDomains: hosts(env, 'SANDBOX_WEBVIEW_DOMAINS', DEFAULT_COMPONENT.webviewDomains),
      auditDelayMs,
      capabilityDelayMs: integer(env, 'SANDBOX_CAPABILITY_DELAY_MS', DEFAULT_COMPONENT.capabilityDelayMs, 0, MAX_TIMER_MS),
      ticketIntervalS: integer(env, 'SANDBOX_TICKET_INTERVAL_S', DEFAULT_COMPONENT.ticketIntervalS, 1, MAX_TICKET_INTERVAL_S),
      tokenTtlS: integer(env, 'SANDBOX_TOKEN_TTL_S', DEFAULT_COMPONENT.tokenTtlS, 1),
      refreshTokenTtlS: integer(env, 'SANDBOX_REFRESH_TOKEN_TTL_S', DEFAULT_COMPONENT.refreshTokenTtlS, 1),
      ticketTtlS: integer(env, 'SANDBOX_TICKET_TTL_S', DEFAULT_COMPONENT.ticketTtlS, 1),
      runtimeUrl: url(env, 'SANDBOX_RUNTIME_URL').replace(/\/+$/, ''),
    },
  };
}
