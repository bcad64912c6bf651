/**
 * The provider server as a real child process (`node --import tsx src/server/main.ts`), configured through
 * its environment like `npm run serve`, against a sandbox running in the caller's process. For crash tests
 * (SIGKILL), several instances on one database, and the rollout bench (the service's own RSS).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import type { RolloutProgress } from '../../src/fleet/rollout-model.ts';
import { componentEnv } from '../../src/server/config.ts';
import type { CallCounts, SandboxHarness } from './sandbox.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SECRET_KEY = Buffer.from('0123456789abcdef0123456789abcdef', 'utf8').toString('base64');

export interface ChildService {
  url: string;
  port: number;
  process: ChildProcess;
  /** What it wrote to stdout and stderr (for failure messages). */
  output(): string;
  /** A REST call with the admin key. */
  api<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }>;
  /** Peak resident set size so far (VmHWM, bytes), from /proc; undefined where there is no /proc. */
  peakRss(): number | undefined;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface ChildServiceOptions {
  sandbox: SandboxHarness;
  databaseUrl: string;
  adminKey: string;
  port?: number;
  /** Extra environment (KS_RATE_LIMIT_PER_SEC, KS_ROLLOUT_LEASE_MS…). */
  env?: Record<string, string>;
  /** Register this instance's push URLs with the sandbox before it starts (the platform pushes to one). */
  registerPushUrls?: boolean;
  /** Wait until a component ticket push reached it (a first instance on a new database). */
  waitForTicket?: boolean;
  startTimeoutMs?: number;
  /** Extra node flags before the script (e.g. `--cpu-prof`, which NODE_OPTIONS refuses). */
  nodeArgs?: string[];
}

/** A port in 5000–5999 (the range the project leaves to tests) nobody listens on right now. */
/** A process's peak resident set (VmHWM) in bytes, from /proc; undefined where there is none. */
export function peakRssOf(pid: number | undefined): number | undefined {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  for (;;) {
    const port = 5000 + Math.floor(Math.random() * 1000);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

export async function startChildService(options: ChildServiceOptions): Promise<ChildService> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const { sandbox } = options;
  const component = sandbox.sandbox.runtime.state.component;
  if (options.registerPushUrls !== false) {
    const answer = await sandbox.control('PUT', '/component', { authEventUrl: `${url}/callbacks/auth`, messageUrl: `${url}/callbacks/events` });
    if (answer.status !== 200) throw new Error(`registering the push URLs: HTTP ${answer.status}`);
  }
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', 'src/server/main.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: String(port),
      HOST: '127.0.0.1',
      DATABASE_URL: options.databaseUrl,
      ...componentEnv(sandbox.url, component),
      KS_ISV_SECRET_KEY: SECRET_KEY,
      KS_ISV_ADMIN_KEY: options.adminKey,
      LOG_LEVEL: 'warn',
      // Tests about the platform rate limit set their own (see test/helpers/service.ts).
      KS_RATE_LIMIT_PER_SEC: '1000',
      ...options.env,
    },
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const api = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> => {
    const response = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${options.adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, json: (text ? JSON.parse(text) : undefined) as T };
  };

  const service: ChildService = {
    url,
    port,
    process: child,
    output: () => output,
    api,
    peakRss: () => peakRssOf(child.pid),
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };

  // Up when it answers /healthz (it listens once migrated, and asks for a ticket right after).
  const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the service exited with ${child.exitCode}: ${output}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await service.kill('SIGKILL');
      throw new Error(`the service did not start: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  while (options.waitForTicket) {
    const metrics = await (await fetch(`${url}/metrics`)).text();
    if (/ksisv_pushes_total\{[^}]*event="ticket"[^}]*outcome="applied"/.test(metrics)) break;
    if (Date.now() > deadline) {
      await service.kill('SIGKILL');
      throw new Error(`no ticket reached the service: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return service;
}

/**
 * Creates `count` sandbox merchants and authorizes them through the real flow: the sandbox pushes each
 * authorization code to the registered instance, which exchanges it. Resolves when `service` lists them all.
 */
export async function authorizeNewMerchants(sandbox: SandboxHarness, service: ChildService, count: number, timeoutMs = 120_000): Promise<string[]> {
  const apps: string[] = [];
  for (let left = count; left > 0; left -= 1000) apps.push(...(await sandbox.newApps(Math.min(left, 1000))));
  const pending = [...apps];
  const workers = Array.from({ length: 8 }, async () => {
    for (let appId = pending.shift(); appId !== undefined; appId = pending.shift()) {
      const answer = await sandbox.control('POST', '/authorizations', { appId, permissions: [1, 2, 3, 4] });
      if (answer.status !== 201) throw new Error(`authorizing ${appId}: HTTP ${answer.status}`);
    }
  });
  await Promise.all(workers);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const total = await countAuthorized(service);
    if (total >= count) return apps;
    if (Date.now() > deadline) throw new Error(`only ${total} of ${count} merchants authorized on the service: ${service.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function countAuthorized(service: ChildService): Promise<number> {
  let total = 0;
  let cursor: string | null = null;
  do {
    const page: { status: number; json: { items: unknown[]; nextCursor: string | null } } = await service.api('GET', `/api/v1/merchants?status=authorized&limit=200${cursor ? `&cursor=${cursor}` : ''}`);
    if (page.status !== 200) return total;
    total += page.json.items.length;
    cursor = page.json.nextCursor;
  } while (cursor);
  return total;
}

export interface RolloutAnswer {
  rollout: { id: string; status: string };
  progress: RolloutProgress;
}

export async function untilRollout(service: ChildService, id: string, done: (answer: RolloutAnswer) => boolean, timeoutMs: number, intervalMs = 50): Promise<RolloutAnswer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await service.api<RolloutAnswer>('GET', `/api/v1/rollouts/${id}`);
    if (answer.status === 200 && done(answer.json)) return answer.json;
    if (Date.now() > deadline) assert.fail(`rollout ${id} did not get there: ${JSON.stringify(answer.json)}\n${service.output()}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Every merchant of `apps` was uploaded, submitted and released exactly once (successful calls). */
export function assertOncePerMerchant(calls: CallCounts, apps: readonly string[]): void {
  for (const appId of apps) {
    const app = calls.byApp[appId] as Record<string, { ok: number } | undefined> | undefined;
    assert.equal(app?.uploadCode?.ok, 1, `${appId} uploaded once: ${JSON.stringify(app)}`);
    assert.equal(app?.submitAudit?.ok, 1, `${appId} submitted once: ${JSON.stringify(app)}`);
    assert.equal(app?.release?.ok, 1, `${appId} released once: ${JSON.stringify(app)}`);
  }
}

