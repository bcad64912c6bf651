import { readFileSync } from 'node:fs';
import { EndpointOverrideError, parseEndpointOverrides, type EndpointOverrides } from '../kuaishou/index.ts';

/**
 * Server configuration from the environment (names in the design notes). Invalid values fail at start with
 * a message naming the variable; secrets are never echoed.
 */
export interface ServerConfig {
  port: number;
  host: string;
  /** Base URL merchants' browsers and the platform reach this server at (redirect URIs, push URLs). */
  publicUrl: string;
  databaseUrl: string;
  kuaishou: {
    baseUrl: string;
    componentAppId: string;
    componentAppSecret: string;
    messageToken: string;
    messageKey: string;
    /** The component's registered domains, to check merchants' domains before calling (empty: unchecked). */
    serverDomains: string[];
    webviewDomains: string[];
    /** KS_ENDPOINTS_FILE: rows whose path/method differ on the platform ({} when not set). */
    endpointOverrides: EndpointOverrides;
  };
  /** Master key for encryption at rest (base64/hex, 32 bytes); undefined: use or create the key file. */
  secretKey: string | undefined;
  secretKeyFile: string;
  /** Bootstrap admin API key; undefined: generated and printed once when no key exists. */
  adminKey: string | undefined;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Platform calls per second from this instance, every caller but token refreshes (KS_RATE_LIMIT_PER_SEC, default 20). */
  rateLimitPerSec: number | undefined;
  /**
   * Rollout scheduler timings (ms): how long a claimed target's lease lasts before another instance may
   * take it over (KS_ROLLOUT_LEASE_MS, default 60000: far longer than one step's calls), and how often an
   * audit with no push is looked at (KS_ROLLOUT_AUDIT_POLL_MS, default 30000); and how many targets' steps
   * this instance runs at once over all rollouts (KS_ROLLOUT_MAX_IN_FLIGHT, default derived from the rate
   * limit and the lease: 75 with the defaults).
   */
  rollout: { leaseMs: number | undefined; auditPollMs: number | undefined; maxInFlight: number | undefined };
  /** TRUST_PROXY=1: behind a reverse proxy, client addresses come from X-Forwarded-For. */
  trustProxy: boolean;
  /** KS_PUBLIC_RATE_LIMIT_PER_MIN: requests per minute per client address on the public routes (default 600; 0: off). */
  publicRateLimitPerMin: number | undefined;
  /** KS_ONBOARDING=off: quick activation never starts anything, whatever the stored policy says. */
  onboardingForcedOff: boolean;
  /** METRICS_TOKEN: when set, GET /metrics wants `Authorization: Bearer <it>`; undefined: /metrics is public. */
  metricsToken: string | undefined;
  /**
   * The runtime (docs/runtime.md): KS_RUNTIME_SESSION_TTL_S (default 604800: 7 days), and logins per minute
   * per client address (KS_RUNTIME_LOGINS_PER_IP_PER_MIN, default 60) and per merchant
   * (KS_RUNTIME_LOGINS_PER_APP_PER_MIN, default 3000); 0: no limit.
   */
  runtime: { sessionTtlS: number; loginsPerIpPerMin: number; loginsPerAppPerMin: number };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function required(env: Env, name: string): string {
  const value = env[name];
  if (!value) throw new ConfigError(`${name} is required`);
  return value;
}

function httpUrl(env: Env, name: string, fallback: string): string {
  const raw = env[name] || fallback;
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new ConfigError(`${name} must be an http(s) URL (got "${raw}")`);
  }
  return raw.replace(/\/+$/, '');
}

function hostList(env: Env, name: string): string[] {
  const raw = env[name] ?? '';
  const list = raw.split(',').map((host) => host.trim().toLowerCase()).filter(Boolean);
  for (const host of list) if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(host)) throw new ConfigError(`${name}: "${host}" is not a host name`);
  return list;
}

/** What a platform registered for the component (the sandbox's, for `npm start`, tests and benches). */
export interface RegisteredComponent {
  componentAppId: string;
  componentAppSecret: string;
  messageToken: string;
  messageKey: string;
  serverDomains: readonly string[];
  webviewDomains: readonly string[];
}

/** The KS_* environment that points this server at a platform and its registered component. */
export function componentEnv(baseUrl: string, component: RegisteredComponent): Record<string, string> {
  return {
    KS_BASE_URL: baseUrl,
    KS_COMPONENT_APP_ID: component.componentAppId,
    KS_COMPONENT_APP_SECRET: component.componentAppSecret,
    KS_MESSAGE_TOKEN: component.messageToken,
    KS_MESSAGE_KEY: component.messageKey,
    KS_SERVER_DOMAINS: component.serverDomains.join(','),
    KS_WEBVIEW_DOMAINS: component.webviewDomains.join(','),
  };
}

export function serverConfigFromEnv(env: Env = process.env): ServerConfig {
  const rawPort = env.PORT ?? '3000';
  const port = Number(rawPort);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`PORT must be a port number (got "${rawPort}")`);
  const host = env.HOST || '127.0.0.1';
  const databaseUrl = env.DATABASE_URL || 'sqlite:./data/ks-isv.db';
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(databaseUrl)) throw new ConfigError('DATABASE_URL must start with sqlite: or postgres://');
  const messageKey = required(env, 'KS_MESSAGE_KEY');
  if (!/^[A-Za-z0-9+/]{43}$/.test(messageKey)) throw new ConfigError('KS_MESSAGE_KEY must be the 43-character encryption KEY registered with the platform');
  const logLevel = (env.LOG_LEVEL || 'info') as ServerConfig['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  return {
    port,
    host,
    publicUrl: httpUrl(env, 'PUBLIC_URL', `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`),
    databaseUrl,
    kuaishou: {
      baseUrl: httpUrl(env, 'KS_BASE_URL', 'https://open.kuaishou.com'),
      componentAppId: required(env, 'KS_COMPONENT_APP_ID'),
      componentAppSecret: required(env, 'KS_COMPONENT_APP_SECRET'),
      messageToken: required(env, 'KS_MESSAGE_TOKEN'),
      messageKey,
      serverDomains: hostList(env, 'KS_SERVER_DOMAINS'),
      webviewDomains: hostList(env, 'KS_WEBVIEW_DOMAINS'),
      endpointOverrides: endpointOverrides(env),
    },
    secretKey: env.KS_ISV_SECRET_KEY || undefined,
    secretKeyFile: env.KS_ISV_SECRET_KEY_FILE || './data/secret.key',
    adminKey: env.KS_ISV_ADMIN_KEY || undefined,
    logLevel,
    rateLimitPerSec: rateLimit(env),
    rollout: { leaseMs: milliseconds(env, 'KS_ROLLOUT_LEASE_MS', 1000), auditPollMs: milliseconds(env, 'KS_ROLLOUT_AUDIT_POLL_MS', 100), maxInFlight: maxInFlight(env) },
    trustProxy: env.TRUST_PROXY === '1' || env.TRUST_PROXY === 'true',
    publicRateLimitPerMin: publicRateLimit(env),
    onboardingForcedOff: onboardingSwitch(env),
    metricsToken: metricsToken(env),
    runtime: {
      sessionTtlS: wholeNumber(env, 'KS_RUNTIME_SESSION_TTL_S', 604_800, 60, 365 * 86_400, 'seconds'),
      loginsPerIpPerMin: wholeNumber(env, 'KS_RUNTIME_LOGINS_PER_IP_PER_MIN', 60, 0, 1_000_000, 'logins per minute (0: off)'),
      loginsPerAppPerMin: wholeNumber(env, 'KS_RUNTIME_LOGINS_PER_APP_PER_MIN', 3000, 0, 1_000_000, 'logins per minute (0: off)'),
    },
  };
}

function wholeNumber(env: Env, name: string, fallback: number, min: number, max: number, unit: string): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`${name} must be a whole number of ${unit} from ${min} to ${max} (got "${raw}")`);
  return value;
}

/**
 * KS_ENDPOINTS_FILE: a JSON file `{ "<row id or operation>": { "path": "/…", "method": "GET" | "POST" } }`,
 * read and checked at start, so a typo stops the start (naming the row) instead of failing every call.
 */
function endpointOverrides(env: Env): EndpointOverrides {
  const file = env.KS_ENDPOINTS_FILE;
  if (file === undefined || file === '') return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new ConfigError(`KS_ENDPOINTS_FILE: cannot read "${file}" (${typeof code === 'string' ? code : 'unreadable'})`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new ConfigError(`KS_ENDPOINTS_FILE: "${file}" is not JSON`);
  }
  try {
    return parseEndpointOverrides(document);
  } catch (error) {
    if (error instanceof EndpointOverrideError) throw new ConfigError(`KS_ENDPOINTS_FILE: ${error.message}`);
    throw error;
  }
}

/** A bearer token (RFC 6750 characters) long enough not to be guessed; never echoed in the error. */
function metricsToken(env: Env): string | undefined {
  const raw = env.METRICS_TOKEN;
  if (raw === undefined || raw === '') return undefined;
  if (!/^[A-Za-z0-9\-._~+/]{16,512}=*$/.test(raw)) throw new ConfigError('METRICS_TOKEN must be 16 to 512 characters of A-Z a-z 0-9 - . _ ~ + / (e.g. openssl rand -hex 24)');
  return raw;
}

function rateLimit(env: Env): number | undefined {
  const raw = env.KS_RATE_LIMIT_PER_SEC;
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > 10_000) throw new ConfigError(`KS_RATE_LIMIT_PER_SEC must be a number of calls per second from 1 to 10000 (got "${raw}")`);
  return value;
}

function publicRateLimit(env: Env): number | undefined {
  const raw = env.KS_PUBLIC_RATE_LIMIT_PER_MIN;
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 1_000_000) throw new ConfigError(`KS_PUBLIC_RATE_LIMIT_PER_MIN must be a whole number of requests per minute from 0 (off) to 1000000 (got "${raw}")`);
  return value;
}

function maxInFlight(env: Env): number | undefined {
  const raw = env.KS_ROLLOUT_MAX_IN_FLIGHT;
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 10_000) throw new ConfigError(`KS_ROLLOUT_MAX_IN_FLIGHT must be a whole number of steps from 1 to 10000 (got "${raw}")`);
  return value;
}

function milliseconds(env: Env, name: string, min: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > 86_400_000) throw new ConfigError(`${name} must be a whole number of milliseconds from ${min} to 86400000 (got "${raw}")`);
  return value;
}

function onboardingSwitch(env: Env): boolean {
  const raw = (env.KS_ONBOARDING ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'on') return false;
  if (raw === 'off') return true;
  throw new ConfigError(`KS_ONBOARDING must be "on" or "off" (got "${env.KS_ONBOARDING}")`);
}
