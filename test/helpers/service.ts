/**
 * The whole provider stack on loopback ports, as `npm start` wires it: a sandbox, and the ks-isv service
 * on a fresh SQLite file or PostgreSQL schema, the sandbox pushing to the service. Keys for each role,
 * captured log lines, and a small REST client.
 */
import { Writable } from 'node:stream';
import { componentEnv, serverConfigFromEnv } from '../../src/server/config.ts';
import { createLogger, startService, type Service } from '../../src/server/service.ts';
import { newApiKey } from '../../src/server/api-keys.ts';
import type { Role } from '../../src/fleet/model.ts';
import { startSandbox, type SandboxHarness } from './sandbox.ts';
import { TEST_SECRET_KEY, type DialectTarget, type FreshDatabase } from '../store/dialects.ts';
import type { BuildSandboxOptions } from '../../src/sandbox/app.ts';

export interface ApiAnswer<T = Record<string, unknown>> {
  status: number;
  json: T;
  headers: Headers;
  bytes: Buffer;
}

export interface Stack {
  sandbox: SandboxHarness;
  service: Service;
  database: FreshDatabase;
  url: string;
  keys: Record<Role, string>;
  /** Every log line the service wrote (JSON text). */
  logs: string[];
  api<T = Record<string, unknown>>(method: string, path: string, options?: { key?: string | null; body?: unknown; raw?: string; headers?: Record<string, string> }): Promise<ApiAnswer<T>>;
  /** Resolves when the service holds a valid component ticket. */
  ready(): Promise<void>;
  close(): Promise<void>;
}

export interface StackOptions {
  sandbox?: BuildSandboxOptions;
  env?: Record<string, string>;
  /** Reuse this database (a second instance on the same one). */
  database?: FreshDatabase;
  /**
   * Reuse this running sandbox (a second instance of the service against the same platform). The platform
   * keeps ONE registration of push URLs, so it keeps pushing to the instance that registered them (the
   * first); this stack's `close()` leaves the shared sandbox running (its owner closes it).
   */
  sharedSandbox?: SandboxHarness;
  /** Requests per minute per IP on public routes (the service's default: 600). */
  publicRateLimit?: number;
  /** The admin console's built files (default `web/dist`). */
  consoleDir?: string;
}

export async function startStack(dialect: DialectTarget, options: StackOptions = {}): Promise<Stack> {
  const ownsSandbox = options.sharedSandbox === undefined;
  const sandbox = options.sharedSandbox ?? (await startSandbox(options.sandbox));
  const database = options.database ?? dialect.fresh();
  const component = sandbox.sandbox.runtime.state.component;
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const config = serverConfigFromEnv({
    PORT: '0',
    DATABASE_URL: database.url,
    ...componentEnv(sandbox.url, component),
    KS_ISV_SECRET_KEY: TEST_SECRET_KEY.toString('base64'),
    LOG_LEVEL: 'debug',
    // Every platform call waits for the instance's rate limit (20/s by default): tests about the limit set
    // their own; the others should not be paced by it.
    KS_RATE_LIMIT_PER_SEC: '1000',
    ...options.env,
  });
  const service = await startService(config, {
    ...(options.publicRateLimit ? { publicRateLimit: options.publicRateLimit } : {}),
    ...(options.consoleDir ? { consoleDir: options.consoleDir } : {}),
    logger: createLogger('debug', sink),
    // As `npm start` does: the push URLs are registered before the service asks for a ticket on boot, so
    // that ticket is pushed to it (the sandbox pushes 10 ms after start_push_ticket).
    onListening: async (url) => {
      if (!ownsSandbox) return;
      const answer = await sandbox.control('PUT', '/component', { authEventUrl: `${url}/callbacks/auth`, messageUrl: `${url}/callbacks/events` });
      if (answer.status !== 200) throw new Error(`registering the push URLs: HTTP ${answer.status}`);
    },
  });

  const keys = {} as Record<Role, string>;
  for (const role of ['viewer', 'operator', 'admin', 'runtime'] as const) {
    const { key, record } = newApiKey(`test ${role}`, role);
    await service.store.apiKeys.insert(record);
    keys[role] = key;
  }

  const api: Stack['api'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    const key = opts.key === undefined ? keys.admin : opts.key;
    if (key) headers.authorization = `Bearer ${key}`;
    let body: string | undefined;
    if (opts.raw !== undefined) body = opts.raw;
    else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${service.url}${path}`, { method, headers, ...(body === undefined ? {} : { body }), redirect: 'manual' });
    const bytes = Buffer.from(await response.arrayBuffer());
    let json: unknown;
    try {
      json = JSON.parse(bytes.toString('utf8'));
    } catch {
      json = undefined;
    }
    return { status: response.status, json: json as never, headers: response.headers, bytes };
  };

  return {
    sandbox,
    service,
    database,
    url: service.url,
    keys,
    logs,
    api,
    async ready() {
      await sandbox.control('POST', '/tickets');
      for (let i = 0; i < 200; i++) {
        if (await service.platform.tokens.hasValidTicket()) return;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      throw new Error('no ticket reached the service');
    },
    async close() {
      await service.close();
      if (ownsSandbox) await sandbox.close();
    },
  };
}
