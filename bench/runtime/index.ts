/**
 * Merchant runtime bench (docs/runtime.md): introspections/s, sessions created/s and `GET /me`/s through the
 * provider server, beside a bare Fastify route, on SQLite (a temp file) and on PostgreSQL when
 * BENCH_DATABASE_URL or TEST_DATABASE_URL is set (a fresh schema, dropped afterwards).
 *
 * The service and the bare app are both child processes started from one runner (`server.ts service|bare`),
 * so both are measured the same way: their own process and event loop, loopback, driven by this process's
 * load generator (node:http, keep-alive). The sandbox (the platform) runs in this process, at 0 ms latency.
 *
 * Setup, not timed: merchants authorized through the real flow, sandbox users, a runtime API key, live
 * sessions, and every login code the sessions path will spend, minted beforehand through the sandbox's
 * `POST /sandbox/api/apps/:appId/login`. Then, after a warm-up of each path, BENCH_ROUNDS rounds of
 * bare → introspect → sessions → me, each BENCH_N requests.
 *
 * Run: `npm run bench:runtime`. A measurement, not a test: it exits 0 whatever the numbers.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { componentEnv } from '../../src/server/config.ts';
import { authorizeNewMerchants, freePort, peakRssOf, type ChildService } from '../../test/helpers/child-service.ts';
import { startSandbox, type SandboxHarness } from '../../test/helpers/sandbox.ts';
import { benchDatabases, intFromEnv, median, perSecond, type BenchDatabase } from '../lib.ts';
import { drive, type Accept, type Run, type Shot } from './load.ts';

const TARGET_INTROSPECT = 0.5;

const N = intFromEnv('BENCH_N', 5_000);
const CONCURRENCY = intFromEnv('BENCH_CONCURRENCY', 32);
const ROUNDS = intFromEnv('BENCH_ROUNDS', 3);
const MERCHANTS = intFromEnv('BENCH_MERCHANTS', 5);
const USERS = intFromEnv('BENCH_USERS', 200);
const LIVE = Math.min(USERS * MERCHANTS, intFromEnv('BENCH_LIVE_SESSIONS', 100));
const WARMUP = Math.min(N, 1_000);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL || 'warn';
const CPU_PROF = process.env.BENCH_CPU_PROF;

/** BENCH_CPU_PROF=<dir>: CPU profiles of both children (service and bare app), written there when they exit. */
const cpuProf = (): string[] => (CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`] : []);

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RUNNER = fileURLToPath(new URL('./server.ts', import.meta.url));
const SECRET_KEY = randomBytes(32).toString('base64');

const ALL_PATHS = ['bare', 'introspect', 'sessions', 'me'] as const;
type PathName = (typeof ALL_PATHS)[number];
// BENCH_PATHS=introspect (say, for a profile of one path): only those, beside the bare route.
const ONLY = process.env.BENCH_PATHS?.split(',').map((p) => p.trim()).filter(Boolean);
for (const name of ONLY ?? []) if (!(ALL_PATHS as readonly string[]).includes(name)) throw new Error(`BENCH_PATHS: unknown path "${name}" (${ALL_PATHS.join(', ')})`);
const PATHS = ALL_PATHS.filter((name) => name === 'bare' || !ONLY || ONLY.includes(name));

/**
 * CPU time of every local `postgres` process so far (ms), when the database is PostgreSQL on this machine:
 * the server's share of a request (its backends parse, plan and run each statement). Any other client of
 * that server counts too. Undefined for SQLite, a remote server, or without /proc.
 */
function postgresCpuMs(target: BenchDatabase): number | undefined {
  if (target.name !== 'postgres' || !['127.0.0.1', 'localhost', '[::1]'].includes(new URL(target.url).hostname)) return undefined;
  let total = 0;
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let stat: string;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue; // gone meanwhile
      }
      if (stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')) !== 'postgres') continue;
      total += cpuMsOf(Number(entry)) ?? 0;
    }
  } catch {
    return undefined;
  }
  return total;
}

// ---- Child processes ----------------------------------------------------------------------------------

interface Child {
  url: string;
  process: ChildProcess;
  output(): string;
  peakRss(): number | undefined;
  /** CPU time used so far (user + system, ms), from /proc; undefined where there is no /proc. */
  cpuMs(): number | undefined;
  kill(): Promise<void>;
}

/** /proc/<pid>/stat's utime + stime, in clock ticks (USER_HZ, 100 on Linux) turned into ms. */
function cpuMsOf(pid: number | undefined): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

/** `node [nodeArgs] --import tsx bench/runtime/server.ts <mode>` with exactly `env`; resolves once it listens. */
async function startChild(mode: 'service' | 'bare', env: Record<string, string>, nodeArgs: string[] = []): Promise<Child> {
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', RUNNER, mode], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', HOST: '127.0.0.1', ...env },
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the ${mode} child did not start: ${output}`)), 60_000);
    child.once('message', (message: { ready?: string }) => {
      clearTimeout(timer);
      if (message.ready) resolve(message.ready);
      else reject(new Error(`the ${mode} child said ${JSON.stringify(message)}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the ${mode} child exited with ${code}: ${output}`));
    });
  });
  return {
    url,
    process: child,
    output: () => output,
    peakRss: () => peakRssOf(child.pid),
    cpuMs: () => cpuMsOf(child.pid),
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function json<T>(response: Response, what: string, status = 200): Promise<T> {
  const text = await response.text();
  if (response.status !== status) throw new Error(`${what}: HTTP ${response.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

// ---- Databases ---------------------------------------------------------------------------------------


// ---- One dialect -------------------------------------------------------------------------------------

interface Stack {
  sandbox: SandboxHarness;
  service: Child;
  adminKey: string;
}

async function startStack(target: BenchDatabase): Promise<Stack> {
  // Codes are minted in setup and spent minutes later: live for an hour instead of 5 minutes.
  const sandbox = await startSandbox({ jsCodeTtlMs: 3_600_000 });
  try {
    const answer = await sandbox.control('PUT', '/faults', { latencyMs: 0 });
    if (answer.status !== 200) throw new Error(`sandbox faults: HTTP ${answer.status}`);
    const port = await freePort();
    const serviceUrl = `http://127.0.0.1:${port}`;
    // The platform pushes the ticket (asked for on boot) and the authorization codes to this instance.
    const registered = await sandbox.control('PUT', '/component', { authEventUrl: `${serviceUrl}/callbacks/auth`, messageUrl: `${serviceUrl}/callbacks/events` });
    if (registered.status !== 200) throw new Error(`registering the push URLs: HTTP ${registered.status}`);
    const adminKey = `ksk_${randomBytes(24).toString('hex')}`;
    const service = await startChild(
      'service',
      {
        PORT: String(port),
        DATABASE_URL: target.url,
        ...componentEnv(sandbox.url, sandbox.sandbox.runtime.state.component),
        KS_ISV_SECRET_KEY: SECRET_KEY,
        KS_ISV_ADMIN_KEY: adminKey,
        LOG_LEVEL,
        // Setup's authorizations are platform calls; the runtime's code2session is not rate-limited.
        KS_RATE_LIMIT_PER_SEC: '1000',
        KS_RUNTIME_LOGINS_PER_IP_PER_MIN: '0',
        KS_RUNTIME_LOGINS_PER_APP_PER_MIN: '0',
      },
      cpuProf(),
    );
    if (CPU_PROF) console.log(`  CPU profile of the service (pid ${service.process.pid}) → ${CPU_PROF}`);
    const deadline = Date.now() + 60_000;
    for (;;) {
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      if (/ksisv_pushes_total\{[^}]*event="ticket"[^}]*outcome="applied"/.test(metrics)) break;
      if (Date.now() > deadline) {
        await service.kill();
        throw new Error(`no ticket reached the service: ${service.output()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return { sandbox, service, adminKey };
  } catch (error) {
    await sandbox.close();
    throw error;
  }
}

/** What the authorization helper needs of a service (test/helpers/child-service.ts). */
function asChildService(stack: Stack): ChildService {
  const { service, adminKey } = stack;
  const url = new URL(service.url);
  return {
    url: service.url,
    port: Number(url.port),
    process: service.process,
    output: () => service.output(),
    peakRss: () => service.peakRss(),
    kill: () => service.kill(),
    async api<T>(method: string, path: string, body?: unknown) {
      const response = await fetch(`${service.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, json: (text ? JSON.parse(text) : undefined) as T };
    },
  };
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

interface Prepared {
  runtimeKey: string;
  /** Live session tokens (introspect, me). */
  tokens: string[];
  /** `POST /runtime/v1/sessions` bodies, one unspent code each: the warm-up's, then each round's. */
  logins: string[];
  apps: string[];
}

async function prepare(stack: Stack): Promise<Prepared> {
  const { sandbox, service } = stack;
  const started = Date.now();
  const apps = await authorizeNewMerchants(sandbox, asChildService(stack), MERCHANTS);
  const key = await json<{ key: string }>(
    await fetch(`${service.url}/api/v1/keys`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench runtime', role: 'runtime' }),
    }),
    'creating the runtime key',
    201,
  );

  const sandboxBase = new URL(sandbox.url);
  const post = (path: string, body: unknown): Shot => {
    const text = JSON.stringify(body);
    return { method: 'POST', path, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) }, body: text };
  };

  const users: string[] = [];
  await drive(sandboxBase, USERS, CONCURRENCY, (i) => post('/sandbox/api/users', { nickname: `bench${i}` }), (status, body, i) => {
    if (status !== 201 || !isObject(body) || typeof body.userId !== 'string') return false;
    users[i] = body.userId;
    return true;
  });

  // Code i is user ⌊i / merchants⌋ (mod users) on merchant i (mod merchants): every (merchant, user) pair
  // logs in once before any logs in again.
  const codes = LIVE + (PATHS.includes('sessions') ? WARMUP + N * ROUNDS : 0);
  const logins: string[] = [];
  await drive(
    sandboxBase,
    codes,
    CONCURRENCY,
    (i) => post(`/sandbox/api/apps/${apps[i % apps.length]}/login`, { userId: users[Math.floor(i / apps.length) % users.length] }),
    (status, body, i) => {
      if (status !== 200 || !isObject(body) || typeof body.code !== 'string') return false;
      logins[i] = JSON.stringify({ appId: apps[i % apps.length], code: body.code });
      return true;
    },
  );

  // The live sessions the introspections and /me present.
  const tokens: string[] = [];
  await drive(new URL(service.url), LIVE, CONCURRENCY, (i) => sessionShot(logins[i]!), (status, body, i) => {
    if (status !== 201 || !isObject(body) || typeof body.sessionToken !== 'string') return false;
    tokens[i] = body.sessionToken;
    return true;
  });
  console.log(`  setup ${((Date.now() - started) / 1000).toFixed(1)} s: ${apps.length} merchants authorized, ${users.length} users, ${codes.toLocaleString('en-US')} codes minted, ${tokens.length} live sessions`);
  return { runtimeKey: key.key, tokens, logins: logins.slice(LIVE), apps };
}

const sessionShot = (body: string): Shot => ({ method: 'POST', path: '/runtime/v1/sessions', headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }, body });

interface PathSpec {
  /** The child that answers it. */
  server: Child;
  base: URL;
  /** Shot `i` of a run that starts at `offset` (only the sessions path spends its own codes). */
  shot(index: number, offset: number): Shot;
  accept: Accept;
}

function paths(stack: Stack, bare: Child, prepared: Prepared): Record<PathName, PathSpec> {
  const serviceBase = new URL(stack.service.url);
  const { tokens, runtimeKey, logins, apps } = prepared;
  // Introspection requests, prebuilt: the runtime key and one live token each.
  const introspections = tokens.map((token): Shot => {
    const body = JSON.stringify({ sessionToken: token });
    return { method: 'POST', path: '/runtime/v1/introspect', headers: { authorization: `Bearer ${runtimeKey}`, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }, body };
  });
  // The bare route gets the very same headers and bodies.
  const bares = introspections.map((shot): Shot => ({ ...shot, path: '/bare' }));
  const mes = tokens.map((token): Shot => ({ method: 'GET', path: '/runtime/v1/me', headers: { authorization: `Bearer ${token}` } }));
  const appIds = new Set(apps);
  return {
    bare: { server: bare, base: new URL(bare.url), shot: (i) => bares[i % bares.length]!, accept: (status, body) => status === 200 && isObject(body) && body.active === true },
    introspect: {
      server: stack.service,
      base: serviceBase,
      shot: (i) => introspections[i % introspections.length]!,
      accept: (status, body) => status === 200 && isObject(body) && body.active === true && typeof body.appId === 'string' && appIds.has(body.appId),
    },
    sessions: {
      server: stack.service,
      base: serviceBase,
      shot: (i, offset) => sessionShot(logins[offset + i]!),
      accept: (status, body) => status === 201 && isObject(body) && typeof body.sessionToken === 'string' && typeof body.openId === 'string',
    },
    me: {
      server: stack.service,
      base: serviceBase,
      shot: (i) => mes[i % mes.length]!,
      accept: (status, body) => status === 200 && isObject(body) && typeof body.appId === 'string' && appIds.has(body.appId),
    },
  };
}

/** A run, and the CPU it cost: the answering child's, and this process's (load generator + sandbox), per request. */
interface Measured extends Run {
  serverCpuUs: number | undefined;
  benchCpuUs: number;
  /** Local PostgreSQL's processes, per request (undefined for SQLite). */
  dbCpuUs: number | undefined;
}

type Results = Record<PathName, Measured[]>;

async function code2SessionOk(sandbox: SandboxHarness): Promise<number> {
  return (await sandbox.calls()).byOperation.code2Session?.ok ?? 0;
}

async function benchOne(target: BenchDatabase, bare: Child): Promise<Results> {
  const stack = await startStack(target);
  try {
    const prepared = await prepare(stack);
    const specs = paths(stack, bare, prepared);
    const exchangedBefore = await code2SessionOk(stack.sandbox);
    let spent = 0;
    const run = async (name: PathName, n: number): Promise<Measured> => {
      const spec = specs[name];
      const offset = spent;
      if (name === 'sessions') spent += n;
      const perRequest = (before: number | undefined, after: number | undefined): number | undefined => (before === undefined || after === undefined ? undefined : ((after - before) * 1000) / n);
      const serverBefore = spec.server.cpuMs();
      const dbBefore = postgresCpuMs(target);
      const benchBefore = process.cpuUsage();
      const measured = await drive(spec.base, n, CONCURRENCY, (i) => spec.shot(i, offset), spec.accept);
      const bench = process.cpuUsage(benchBefore);
      return {
        ...measured,
        serverCpuUs: perRequest(serverBefore, spec.server.cpuMs()),
        dbCpuUs: perRequest(dbBefore, postgresCpuMs(target)),
        benchCpuUs: (bench.user + bench.system) / n,
      };
    };
    for (const name of PATHS) await run(name, WARMUP);
    const results: Results = { bare: [], introspect: [], sessions: [], me: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of PATHS) results[name].push(await run(name, N));
    }
    // Every session the bench created went through the platform's code2session once.
    const exchanged = (await code2SessionOk(stack.sandbox)) - exchangedBefore;
    if (exchanged !== spent) throw new Error(`${exchanged} code2session exchanges on the sandbox, expected ${spent}`);
    const rss = stack.service.peakRss();
    if (rss !== undefined) console.log(`  service peak RSS ${(rss / 2 ** 20).toFixed(0)} MB`);
    return results;
  } finally {
    await stack.service.kill();
    await stack.sandbox.close();
  }
}

// ---- Output ------------------------------------------------------------------------------------------

const ms = (value: number): string => `${value.toFixed(2)} ms`;

const us = (value: number | undefined): string => (value === undefined ? '–' : `${Math.round(value)} µs`);

function printTable(name: PathName, runs: readonly Measured[]): void {
  const db = runs.some((r) => r.dbCpuUs !== undefined);
  console.log(`  ${name}`);
  console.log(`    ${'round'.padEnd(8)}${'req/s'.padStart(10)}${'p50'.padStart(11)}${'p99'.padStart(11)}${'server CPU'.padStart(12)}${db ? 'postgres CPU'.padStart(14) : ''}${'bench CPU'.padStart(11)}   (CPU: per request)`);
  const line = (label: string, r: Omit<Measured, 'requests' | 'seconds'>): void =>
    console.log(`    ${label.padEnd(8)}${perSecond(r.perSecond).padStart(10)}${ms(r.p50).padStart(11)}${ms(r.p99).padStart(11)}${us(r.serverCpuUs).padStart(12)}${db ? us(r.dbCpuUs).padStart(14) : ''}${us(r.benchCpuUs).padStart(11)}`);
  runs.forEach((r, i) => line(String(i + 1), r));
  const row = (pick: (r: Measured) => number): number => median(runs.map(pick));
  const optional = (pick: (r: Measured) => number | undefined): number | undefined => (runs.every((r) => pick(r) !== undefined) ? row((r) => pick(r) ?? 0) : undefined);
  line('median', { perSecond: row((r) => r.perSecond), p50: row((r) => r.p50), p99: row((r) => r.p99), serverCpuUs: optional((r) => r.serverCpuUs), dbCpuUs: optional((r) => r.dbCpuUs), benchCpuUs: row((r) => r.benchCpuUs) });
}

const load = (): string => loadavg().map((l) => l.toFixed(2)).join(' ');

async function main(): Promise<void> {
  console.log(`merchant runtime bench — /runtime/v1 on loopback beside a bare Fastify route, node ${process.version}`);
  console.log(`N=${N} requests per path per round, ${CONCURRENCY} in flight (node:http keep-alive), warm-up ${WARMUP}, ${ROUNDS} rounds alternating (${PATHS.join(', ')})`);
  console.log(`service and bare app: child processes (bench/runtime/server.ts); sandbox in this process, latency 0; ${MERCHANTS} merchants, ${USERS} users, ${LIVE} live sessions; service LOG_LEVEL=${LOG_LEVEL}`);
  console.log(`load average at start: ${load()}`);
  const only = process.env.BENCH_DIALECTS?.split(',').map((d) => d.trim()).filter(Boolean);
  const all = benchDatabases('runtime');
  if (!all.some((t) => t.name === 'postgres')) console.log('PostgreSQL: skipped (set BENCH_DATABASE_URL or TEST_DATABASE_URL to bench it too)');
  const list = all.filter((t) => !only || only.includes(t.name));
  for (const skipped of all.filter((t) => !list.includes(t))) await skipped.cleanup();

  const bare = await startChild('bare', { PORT: String(await freePort()) }, cpuProf());
  if (CPU_PROF) console.log(`CPU profile of the bare app (pid ${bare.process.pid}) → ${CPU_PROF}`);
  const summary: string[] = [];
  try {
    for (const target of list) {
      console.log('');
      console.log(`${target.name}`);
      let results: Results;
      try {
        results = await benchOne(target, bare);
      } finally {
        await target.cleanup();
      }
      for (const name of PATHS) printTable(name, results[name]);
      const bareMedian = median(results.bare.map((r) => r.perSecond));
      const ratio = (name: PathName): number => median(results[name].map((r) => r.perSecond)) / bareMedian;
      const of = (name: PathName): string => `${perSecond(median(results[name].map((r) => r.perSecond)))} vs ${perSecond(bareMedian)}`;
      const lines = PATHS.filter((name) => name !== 'bare').map((name) => {
        const goal = name === 'introspect' ? `; target >= ${TARGET_INTROSPECT}×: ${ratio(name) >= TARGET_INTROSPECT ? 'met' : 'NOT met'}` : '';
        return `${target.name}: ${name} / bare = ${ratio(name).toFixed(2)}× (${of(name)}${goal})`;
      });
      console.log('');
      for (const line of lines) console.log(line);
      summary.push(...lines);
    }
  } finally {
    await bare.kill();
  }
  console.log('');
  console.log(`load average at end: ${load()}`);
  for (const line of summary) console.log(line);
}

await main();
process.exitCode = 0;
