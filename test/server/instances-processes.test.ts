/**
 * Two server PROCESSES on one database: each a real `src/server/main.ts` (what `npm run serve` runs),
 * spawned through tsx with its configuration in the environment, both against the sandbox running in this
 * test's process. 200 concurrent REST calls split across both, made when the merchant's access token is
 * due, must make exactly ONE refresh call at the platform — counted by the sandbox. Nothing is shared but
 * the database (a PostgreSQL schema, or one SQLite file) and the platform: no in-process single-flight can
 * help here, only the store's lease and compare-and-set.
 *
 * Timing: nothing is asserted about time. Waits are generous (a loaded 2-core machine starts a tsx process
 * in seconds); every platform call is slowed by 100 ms during the calls so that the refresh is still in
 * flight while both processes find the token due.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { credentialKeys } from '../../src/kuaishou/index.ts';
import type { SqlStore } from '../../src/store/index.ts';
import { startSandbox, waitFor, type SandboxHarness } from '../helpers/sandbox.ts';
import { dialectTargets, TEST_SECRET_KEY, type FreshDatabase } from '../store/dialects.ts';

const APP = 'ks0000000000000001';
const CALLS = 200;
const ADMIN_KEY = 'ksk_processtest_admin_key_0123456789abcdef';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const START_TIMEOUT_MS = 90_000;

interface ServerProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** Starts `src/server/main.ts` in a child process on port 0; resolves with its URL once /readyz answers 200. */
async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const exited = new Promise<never>((_resolve, reject) =>
    child.once('exit', (code, signal) => reject(new Error(`server process exited (${code ?? signal}) before it was ready:\n${output}`))),
  );
  exited.catch(() => undefined); // observed below; a later exit (kill in `after`) is expected
  const started = waitFor(() => /listening on (http:\/\/\S+)/.exec(output)?.[1], { timeoutMs: START_TIMEOUT_MS, intervalMs: 50, what: `the server process to listen:\n${output}` });
  const url = await Promise.race([started, exited]);
  await Promise.race([
    waitFor(
      async () => {
        const answer = await fetch(`${url}/readyz`).catch(() => undefined);
        return answer?.status === 200 ? true : undefined;
      },
      { timeoutMs: START_TIMEOUT_MS, intervalMs: 100, what: `${url}/readyz` },
    ),
    exited,
  ]);
  return { child, url, output: () => output };
}

async function stopServerProcess(server: ServerProcess | undefined): Promise<void> {
  if (!server || server.child.exitCode !== null || server.child.signalCode !== null) return;
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.kill('SIGTERM');
  const killer = setTimeout(() => server.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(killer);
}

for (const dialect of dialectTargets()) {
  describe(`two server processes on one ${dialect.name} database`, { skip: dialect.skip, timeout: 240_000 }, () => {
    let sandbox: SandboxHarness | undefined;
    let database: FreshDatabase;
    let servers: ServerProcess[] = [];
    /** This test's own connection to the database, to make the token due. */
    let store: SqlStore | undefined;
    let componentAppId: string;

    const api = async (server: ServerProcess, path: string): Promise<{ status: number; json: Record<string, unknown> }> => {
      const answer = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      return { status: answer.status, json: (await answer.json()) as Record<string, unknown> };
    };

    before(async () => {
      sandbox = await startSandbox({ component: { auditDelayMs: -1 } });
      const { component } = sandbox.sandbox.runtime.state;
      componentAppId = component.componentAppId;
      database = dialect.fresh();
      const env = {
        DATABASE_URL: database.url,
        KS_BASE_URL: sandbox.url,
        KS_COMPONENT_APP_ID: component.componentAppId,
        KS_COMPONENT_APP_SECRET: component.componentAppSecret,
        KS_MESSAGE_TOKEN: component.messageToken,
        KS_MESSAGE_KEY: component.messageKey,
        KS_ISV_SECRET_KEY: TEST_SECRET_KEY.toString('base64'),
        KS_ISV_ADMIN_KEY: ADMIN_KEY,
      };
      // One after the other: the first migrates the database and registers the admin key.
      servers.push(await startServerProcess(env));
      servers.push(await startServerProcess(env));
      const [first, second] = servers as [ServerProcess, ServerProcess];

      // The platform pushes to the first process (it keeps one registration of push URLs).
      const registered = await sandbox.control('PUT', '/component', { authEventUrl: `${first.url}/callbacks/auth`, messageUrl: `${first.url}/callbacks/events` });
      assert.equal(registered.status, 200);
      assert.equal((await sandbox.control('POST', '/tickets')).status, 201);
      store = await dialect.open(database.url);
      const ticketKey = credentialKeys.ticket(componentAppId);
      await waitFor(async () => ((await store!.tokenStore.get(ticketKey)) ? true : undefined), { timeoutMs: 30_000, intervalMs: 50, what: 'the pushed ticket in the database' });

      // The merchant authorizes; the first process exchanges the code; the second sees the merchant.
      assert.equal((await sandbox.control('POST', '/authorizations', { appId: APP, permissions: [1, 2] })).status, 201);
      await waitFor(
        async () => {
          const answer = await api(second, `/api/v1/merchants/${APP}`);
          return answer.status === 200 && answer.json.status === 'authorized' ? true : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 50, what: 'the merchant, through the second process' },
      );
    });

    after(async () => {
      await Promise.all(servers.map((server) => stopServerProcess(server)));
      servers = [];
      await store?.close();
      await sandbox?.close();
      await dialect.cleanup();
    });

    test(`${CALLS} concurrent calls split across both processes when the token is due: one refresh at the platform`, async () => {
      assert.ok(sandbox && store);
      const key = credentialKeys.authorizer(componentAppId, APP);
      const current = await store.tokenStore.get(key);
      assert.ok(current, 'the merchant\'s tokens are stored');
      // Due: expired in the database both processes read (neither caches tokens in memory).
      assert.ok(await store.tokenStore.compareAndSet(key, current.value, { ...current, expiresAt: Date.now() - 1000 }));

      const counted = async (operation: string): Promise<number> => (await sandbox!.calls()).byOperation[operation]?.calls ?? 0;
      const refreshesBefore = await counted('refreshAuthorizerToken');
      const versionsBefore = await counted('getVersions');
      assert.equal((await sandbox.control('PUT', '/faults', { latencyMs: 100 })).status, 200);
      let answers;
      try {
        answers = await Promise.all(Array.from({ length: CALLS }, (_, i) => api(servers[i % 2]!, `/api/v1/merchants/${APP}/versions`)));
      } finally {
        assert.equal((await sandbox.control('PUT', '/faults', { latencyMs: 0 })).status, 200);
      }
      const failed = answers.filter((answer) => answer.status !== 200);
      assert.deepEqual(failed, [], 'every call answered 200');
      assert.equal((await counted('refreshAuthorizerToken')) - refreshesBefore, 1, 'exactly one refreshAuthorizerToken at the platform');
      assert.equal((await counted('getVersions')) - versionsBefore, CALLS, 'every call reached the platform with a token');
      const stored = await store.tokenStore.get(key);
      assert.ok(stored && stored.value !== current.value && stored.expiresAt > Date.now(), 'the new pair is stored for both processes');
      for (const server of servers) assert.equal(server.child.exitCode, null, `still running:\n${server.output()}`);
    });
  });
}
