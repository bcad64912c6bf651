/**
 * Sandbox throughput bench: authorized calls per second through the sandbox, beside a bare Fastify app.
 *
 * One process starts
 *   sandbox  the real sandbox (`buildSandbox`), faults off, one mini-program authorized; the call is A7
 *            `GET /openapi/mp/auth/app/package/versions` with its valid authorizer token, so every request
 *            runs the whole platform path: fault decision, token and permission checks, handler, call count
 *   bare     a Fastify app with that one route, answering the same JSON body the sandbox answers
 * and alternates measurement runs of both with plain `fetch` (the client's own overhead is not measured)
 * at the same concurrency. It prints each run's calls/s, the medians, the ratio sandbox/bare and whether the
 * sandbox reaches the target of 3,000 authorized calls/s.
 *
 * Run: `npm run bench:sandbox` (BENCH_N, BENCH_CONCURRENCY, BENCH_ROUNDS change the defaults). It is a
 * measurement, not a test: it exits 0 whatever the numbers.
 */
import Fastify from 'fastify';
import { performance } from 'node:perf_hooks';
import { buildExtJson, ENDPOINTS, KuaishouClient } from '../../src/kuaishou/index.ts';
import { buildSandbox } from '../../src/sandbox/app.ts';
import { sandboxOptionsFromEnv } from '../../src/sandbox/config.ts';
import { intFromEnv, median, perSecond } from '../lib.ts';

const TARGET_CALLS_PER_S = 3_000;

const N = intFromEnv('BENCH_N', 20_000);
const CONCURRENCY = intFromEnv('BENCH_CONCURRENCY', 32);
const ROUNDS = intFromEnv('BENCH_ROUNDS', 3);
const WARMUP = Math.min(N, 2_000);
const PATH = ENDPOINTS.getVersions.path;
const APP_ID = 'ks0000000000000001';

/** Sends `n` GETs of `url` with `concurrency` workers, each waiting for its answer before the next; calls/s. */
async function measure(url: string, n: number, concurrency: number): Promise<number> {
  let next = 0;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (next < n) {
      next++;
      const response = await fetch(url);
      const body = (await response.json()) as { result?: unknown };
      if (!response.ok || body.result !== 1) failed++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  const seconds = (performance.now() - started) / 1000;
  if (failed > 0) throw new Error(`${failed} of ${n} calls to ${new URL(url).host} did not answer result 1`);
  return n / seconds;
}

const fmt = perSecond;

async function main(): Promise<void> {
  // Long delays: nothing decided or pushed on its own while measuring.
  const sandbox = await buildSandbox(sandboxOptionsFromEnv({}), {
    port: 0,
    host: '127.0.0.1',
    component: { auditDelayMs: -1, capabilityDelayMs: 3_600_000 },
  });
  const bare = Fastify({ logger: false });
  try {
    const sandboxUrl = await sandbox.listen();
    const { component } = sandbox.runtime.state;

    // A valid authorizer token, obtained the way a service gets one: ticket → T2 → authorization → T4.
    const client = new KuaishouClient({ componentAppId: component.componentAppId, componentAppSecret: component.componentAppSecret, baseUrl: sandboxUrl });
    const control = async <T>(path: string, body?: unknown): Promise<T> => {
      const response = await fetch(`${sandboxUrl}/sandbox/api${path}`, {
        method: 'POST',
        ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      if (response.status !== 201) throw new Error(`control API ${path}: HTTP ${response.status}`);
      return (await response.json()) as T;
    };
    await control('/tickets');
    const ticket = Object.keys(sandbox.runtime.state.data.credentials.tickets).at(-1);
    if (!ticket) throw new Error('the sandbox did not issue a ticket');
    const componentToken = (await client.getComponentAccessToken(ticket)).accessToken;
    const { authorizationCode } = await control<{ authorizationCode: string }>('/authorizations', { appId: APP_ID, permissions: [1, 2, 3, 4] });
    const { accessToken } = await client.exchangeAuthorizationCode(componentToken, authorizationCode);
    // Something to show: a development version, so the body is not all nulls.
    await client.uploadCode(accessToken, { templateId: 1, userVersion: '1.0.0', userDesc: 'bench', extJson: buildExtJson(APP_ID, { ext: { shop: 'bench' } }) });

    const query = new URLSearchParams({ component_app_id: component.componentAppId, authorizer_access_token: accessToken }).toString();
    const sandboxTarget = `${sandboxUrl}${PATH}?${query}`;
    const sample = await fetch(sandboxTarget);
    const body = (await sample.json()) as Record<string, unknown>;
    if (!sample.ok || body.result !== 1) throw new Error(`the sandbox refused the bench call: ${JSON.stringify(body)}`);

    // The bare app: the same path, the same JSON body, nothing else.
    bare.get(PATH, () => body);
    const bareUrl = (await bare.listen({ port: 0, host: '127.0.0.1' })).replace('[::1]', '127.0.0.1');
    const bareTarget = `${bareUrl}${PATH}?${query}`;

    console.log(`sandbox throughput bench — authorized GET ${PATH} (A7) on loopback, node ${process.version}`);
    console.log(`N=${N} per run, ${CONCURRENCY} in flight, warm-up ${WARMUP} each, ${ROUNDS} rounds alternating, plain fetch`);

    await measure(sandboxTarget, WARMUP, CONCURRENCY);
    await measure(bareTarget, WARMUP, CONCURRENCY);
    const okBefore = sandbox.runtime.calls.snapshot().byOperation.getVersions?.ok ?? 0;

    const results = { sandbox: [] as number[], bare: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      results.sandbox.push(await measure(sandboxTarget, N, CONCURRENCY));
      results.bare.push(await measure(bareTarget, N, CONCURRENCY));
    }
    // Every measured sandbox call went the whole way: counted as an authorized, successful A7.
    const counted = (sandbox.runtime.calls.snapshot().byOperation.getVersions?.ok ?? 0) - okBefore;
    if (counted !== N * ROUNDS) throw new Error(`the sandbox counted ${counted} successful calls, expected ${N * ROUNDS}`);

    const runHeaders = Array.from({ length: ROUNDS }, (_, i) => `run ${i + 1}`.padStart(12));
    console.log('');
    console.log(`${'target'.padEnd(10)}${runHeaders.join('')}${'median'.padStart(12)}`);
    for (const name of ['sandbox', 'bare'] as const) {
      const runs = results[name];
      console.log(`${name.padEnd(10)}${runs.map((r) => fmt(r).padStart(12)).join('')}${fmt(median(runs)).padStart(12)}`);
    }
    const sandboxMedian = median(results.sandbox);
    const ratio = sandboxMedian / median(results.bare);
    console.log('');
    console.log(`ratio sandbox/bare ${ratio.toFixed(2)}x`);
    console.log(
      `sandbox ${fmt(sandboxMedian)} authorized calls: ${sandboxMedian >= TARGET_CALLS_PER_S ? 'meets' : 'BELOW'} the target of >= ${fmt(TARGET_CALLS_PER_S)}`,
    );
  } finally {
    await bare.close();
    await sandbox.close();
  }
}

await main();
process.exitCode = 0;
