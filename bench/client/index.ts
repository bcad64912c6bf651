/**
 * Client overhead bench: what `KuaishouPlatform.getVersions(appId)` costs on top of a bare `fetch` of the
 * same request, with the authorizer token already cached.
 *
 * One process runs a loopback node:http server (keep-alive) that answers the A7 versions path with a fixed
 * small JSON body, then alternates measurement runs of
 *   baseline  bare `fetch` of the same URL (same method, same query: component_app_id + token) + `res.json()`
 *   client    `platform.getVersions(appId)`: token lookup + URL build + fetch + parse + decode
 * at the same concurrency, and reports the median calls/s of each and the ratio client/baseline.
 *
 * Run: `npx tsx bench/client/index.ts` (BENCH_N, BENCH_CONCURRENCY, BENCH_ROUNDS to change the defaults).
 * It is a measurement, not a test: it exits 0 whatever the ratio.
 */
import { fork } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { credentialKeys, ENDPOINTS, KuaishouPlatform, MemoryTokenStore } from '../../src/kuaishou/index.ts';
import { intFromEnv, median, perSecond } from '../lib.ts';

const TARGET_RATIO = 0.9;

const N = intFromEnv('BENCH_N', 20_000);
const CONCURRENCY = intFromEnv('BENCH_CONCURRENCY', 16);
const ROUNDS = intFromEnv('BENCH_ROUNDS', 3);
const WARMUP = Math.min(N, 2_000);

const COMPONENT_APP_ID = 'ks_bench_component';
const COMPONENT_APP_SECRET = 'bench-component-secret';
const APP_ID = 'ks_bench_merchant';
const AUTHORIZER_TOKEN = 'bench-authorizer-access-token-0123456789';
const PATH = ENDPOINTS.getVersions.path;

/** What the client sends for A7, byte for byte: the server refuses anything else. */
const QUERY = new URLSearchParams({ component_app_id: COMPONENT_APP_ID, authorizer_access_token: AUTHORIZER_TOKEN }).toString();
const REQUEST_TARGET = `${PATH}?${QUERY}`;

const BODY = Buffer.from(
  JSON.stringify({
    result: 1,
    error_msg: '',
    data: {
      latest: { user_version: '1.3.0', user_desc: 'next', template_id: 42, create_time: 1_700_000_300 },
      audit: { user_version: '1.2.0', user_desc: 'audited', template_id: 41, status: 'PASS', submit_time: 1_700_000_200 },
      current: {
        user_version: '1.1.0',
        user_desc: 'live',
        template_id: 40,
        release_time: 1_700_000_100,
        rollback: { can_rollback: true, last_version: '1.0.0' },
      },
    },
  }),
);
const BODY_HEADERS = { 'content-type': 'application/json', 'content-length': String(BODY.length) };

let unexpectedRequests = 0;

function answer(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === 'GET' && req.url === REQUEST_TARGET) {
    res.writeHead(200, BODY_HEADERS);
    res.end(BODY);
    return;
  }
  unexpectedRequests++;
  res.writeHead(400, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ result: 100200100, error_msg: 'bench server: unexpected request' }));
}

/** Runs `one` n times with `concurrency` in flight; returns calls per second. */
async function measure(n: number, concurrency: number, one: () => Promise<unknown>): Promise<number> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      await one();
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  const seconds = (performance.now() - started) / 1000;
  return n / seconds;
}

const fmt = perSecond;

/**
 * The loopback server runs in a child process by default (BENCH_SERVER=inline: in this one), so the two
 * paths are compared on the client's own CPU cost, not on a core shared with the server.
 */
async function startServer(): Promise<{ baseUrl: string; unexpected: () => Promise<number>; close: () => Promise<void> }> {
  if (process.env.BENCH_SERVER === 'inline') {
    const server = createServer(answer);
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      unexpected: () => Promise.resolve(unexpectedRequests),
      close: async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  }
  const child = fork(fileURLToPath(import.meta.url), ['--serve'], { execArgv: process.execArgv, stdio: 'inherit' });
  const port = await new Promise<number>((resolve) => child.once('message', (message: { port: number }) => resolve(message.port)));
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    unexpected: () =>
      new Promise((resolve) => {
        child.once('message', (message: { unexpected: number }) => resolve(message.unexpected));
        child.send('count');
      }),
    close: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.kill();
      }),
  };
}

function serve(): void {
  const server = createServer(answer);
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => process.send?.({ port: (server.address() as AddressInfo).port }));
  process.on('message', () => process.send?.({ unexpected: unexpectedRequests }));
}

async function main(): Promise<void> {
  const server = await startServer();
  const baseUrl = server.baseUrl;

  try {
    // The client path: a cached, far-from-expiry authorizer token in a memory store.
    const store = new MemoryTokenStore();
    const farFuture = Date.now() + 365 * 24 * 3600 * 1000;
    const stored = await store.compareAndSet(credentialKeys.authorizer(COMPONENT_APP_ID, APP_ID), undefined, {
      value: AUTHORIZER_TOKEN,
      expiresAt: farFuture,
      refreshToken: 'bench-authorizer-refresh-token',
      refreshExpiresAt: farFuture,
    });
    if (!stored) throw new Error('could not pre-populate the token store');
    const platform = KuaishouPlatform.create({
      componentAppId: COMPONENT_APP_ID,
      componentAppSecret: COMPONENT_APP_SECRET,
      baseUrl,
      store,
    });
    const client = (): Promise<unknown> => platform.getVersions(APP_ID);

    // The baseline path: the same request with bare fetch, body read and parsed.
    const url = `${baseUrl}${REQUEST_TARGET}`;
    const init: RequestInit = { method: 'GET', headers: { accept: 'application/json, image/png' } };
    const baseline = async (): Promise<unknown> => {
      const res = await fetch(url, init);
      const body: unknown = await res.json();
      if (!res.ok) throw new Error(`baseline: HTTP ${res.status}`);
      return body;
    };

    // Sanity: both paths reach the server with the expected request and decode what it sends.
    const versions = await platform.getVersions(APP_ID);
    if (versions.online?.rollbackVersion !== '1.0.0' || versions.audit?.status !== 'passed') {
      throw new Error(`client decoded an unexpected result: ${JSON.stringify(versions)}`);
    }
    await baseline();
    if ((await server.unexpected()) > 0) throw new Error('the server saw requests other than the A7 call it expects');

    console.log(`kuaishou client bench — GET ${PATH} on loopback, node ${process.version}`);
    console.log(`N=${N} per run, concurrency ${CONCURRENCY}, warm-up ${WARMUP} each, ${ROUNDS} rounds alternating`);

    await measure(WARMUP, CONCURRENCY, baseline);
    await measure(WARMUP, CONCURRENCY, client);

    const results = { baseline: [] as number[], client: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      results.baseline.push(await measure(N, CONCURRENCY, baseline));
      results.client.push(await measure(N, CONCURRENCY, client));
    }
    const unexpected = await server.unexpected();
    if (unexpected > 0) throw new Error(`the server saw ${unexpected} unexpected requests`);

    const runHeaders = Array.from({ length: ROUNDS }, (_, i) => `run ${i + 1}`.padStart(12));
    console.log('');
    console.log(`${'path'.padEnd(10)}${runHeaders.join('')}${'median'.padStart(12)}`);
    for (const name of ['baseline', 'client'] as const) {
      const runs = results[name];
      console.log(`${name.padEnd(10)}${runs.map((r) => fmt(r).padStart(12)).join('')}${fmt(median(runs)).padStart(12)}`);
    }
    const ratio = median(results.client) / median(results.baseline);
    console.log('');
    console.log(`ratio ${ratio.toFixed(2)}x (target >= ${TARGET_RATIO}x)`);
  } finally {
    await server.close();
  }
}

if (process.argv.includes('--serve')) serve();
else await main();
process.exitCode = 0;
