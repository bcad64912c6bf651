/**
 * Push receiver bench: signed, encrypted pushes per second through `POST /callbacks/events`, beside a bare
 * Fastify JSON route, on SQLite (a temp file) and on PostgreSQL when BENCH_DATABASE_URL or
 * TEST_DATABASE_URL is set (a fresh schema, dropped afterwards).
 *
 * The service is the real one (`startService`: store migrated, fleet services, the whole Fastify app with
 * auth hooks, metrics and its logger at info into a sink that discards). No platform is needed: it does
 * not listen through `startService` (so it asks the platform for nothing on boot) but through its app, and
 * every push is an event whose handling is database work only:
 *   PACKAGE_AUDIT_RESULT for a known merchant (1/2): push row + merchant read + last audit written,
 *   CAPABILITY_RESULT (1/4): push row + capability upserted,
 *   an unknown event (1/4): push row only (acknowledged as ignored).
 * Each push is verified (kwaisign over the raw body), decrypted, stored by its msgId in one transaction
 * with its effect, and acknowledged. Every measured push has a msgId of its own, all sealed beforehand, so
 * sealing is not measured and no push is a cheap duplicate. The bare route parses the same bodies and
 * answers the same acknowledgement.
 *
 * Run: `npm run bench:pushes` (BENCH_N, BENCH_CONCURRENCY, BENCH_ROUNDS). A measurement, not a test:
 * it exits 0 whatever the numbers.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import { sql } from 'kysely';
import { sealPush, type PushKeys, type SealablePushEvent } from '../../src/kuaishou/index.ts';
import { serverConfigFromEnv } from '../../src/server/config.ts';
import { createLogger, startService, type Service } from '../../src/server/service.ts';
import { benchDatabases, intFromEnv, median, perSecond, type BenchDatabase } from '../lib.ts';

const TARGET_RATIO = 0.5;
const MERCHANTS = 20;

const N = intFromEnv('BENCH_N', 5_000);
const CONCURRENCY = intFromEnv('BENCH_CONCURRENCY', 32);
const ROUNDS = intFromEnv('BENCH_ROUNDS', 3);
const WARMUP = Math.min(N, 1_000);
const MIXES = ['mixed', 'audit', 'capability', 'unknown'] as const;
const MIX = (process.env.BENCH_EVENTS || 'mixed') as (typeof MIXES)[number];
if (!MIXES.includes(MIX)) throw new Error(`BENCH_EVENTS must be one of ${MIXES.join(', ')}`);
const LOG_LEVEL = process.env.BENCH_LOG_LEVEL || 'info';

const KEYS: PushKeys = {
  componentAppId: 'ks_bench_component',
  token: 'bench-message-token',
  key: randomBytes(32).toString('base64').slice(0, 43),
};

interface Sealed {
  msgId: string;
  body: string;
  signature: string;
}

const appIdOf = (i: number): string => `ks${String(900_000 + (i % MERCHANTS)).padStart(16, '0')}`;

function eventFor(i: number): SealablePushEvent {
  const appId = appIdOf(i);
  const kind = MIX === 'audit' ? 0 : MIX === 'capability' ? 2 : MIX === 'unknown' ? 3 : i % 4;
  switch (kind) {
    case 0:
    case 1:
      return { type: 'auditResult', appId, userVersion: `1.0.${i}`, passed: i % 8 !== 1, ...(i % 8 === 1 ? { reason: 'blurry icon' } : {}), eventTime: Date.now() };
    case 2:
      return { type: 'capabilityResult', appId, capability: i % 8 === 2 ? 'liveMount' : 'shortVideoMount', status: 'approved', eventTime: Date.now() };
    default:
      return { raw: { event: 'BENCH_SOMETHING_NEW', componentAppId: KEYS.componentAppId, authorizerAppId: appId, n: i } };
  }
}

/** `n` distinct pushes, sealed now (they stay inside the receiver's 1-hour window for the whole bench). */
function sealMany(n: number): Sealed[] {
  return Array.from({ length: n }, (_, i) => {
    const msgId = randomUUID();
    return { msgId, ...sealPush({ event: eventFor(i), msgId }, KEYS) };
  });
}

/** POSTs every push once with `concurrency` workers, each waiting for its answer; pushes/s. */
async function measure(url: string, pushes: readonly Sealed[], concurrency: number): Promise<number> {
  let next = 0;
  let failed = 0;
  let firstFailure = '';
  const worker = async (): Promise<void> => {
    while (next < pushes.length) {
      const push = pushes[next++]!;
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', kwaisign: push.signature },
        body: push.body,
      });
      const answer = (await response.json()) as { result?: unknown; message_id?: unknown };
      if (!response.ok || answer.result !== 1 || answer.message_id !== push.msgId) {
        failed++;
        firstFailure ||= `HTTP ${response.status} ${JSON.stringify(answer)}`;
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, pushes.length) }, worker));
  const seconds = (performance.now() - started) / 1000;
  if (failed > 0) throw new Error(`${failed} of ${pushes.length} pushes to ${new URL(url).host} were not acknowledged (first: ${firstFailure})`);
  return pushes.length / seconds;
}

const fmt = perSecond;


async function startReceiver(databaseUrl: string): Promise<{ service: Service; url: string }> {
  const config = serverConfigFromEnv({
    PORT: '0',
    DATABASE_URL: databaseUrl,
    // Never called: every benched push is handled without the platform.
    KS_BASE_URL: 'http://127.0.0.1:9',
    KS_COMPONENT_APP_ID: KEYS.componentAppId,
    KS_COMPONENT_APP_SECRET: 'bench-component-secret',
    KS_MESSAGE_TOKEN: KEYS.token,
    KS_MESSAGE_KEY: KEYS.key,
    KS_ISV_SECRET_KEY: randomBytes(32).toString('base64'),
    KS_ISV_ADMIN_KEY: `bench-admin-${randomUUID()}`,
  });
  const sink = new Writable({ write: (_chunk, _encoding, done) => done() });
  const service = await startService(config, {
    listen: false,
    logger: createLogger(LOG_LEVEL as Parameters<typeof createLogger>[0], sink),
    // The platform pushes from a few addresses, faster than the default public limit of 600/min per IP.
    publicRateLimit: Number.MAX_SAFE_INTEGER,
  });
  const url = (await service.app.listen({ port: 0, host: '127.0.0.1' })).replace('[::1]', '127.0.0.1');
  for (let i = 0; i < MERCHANTS; i++) await service.store.merchants.upsertAuthorized(appIdOf(i), [1, 2, 3, 4], Date.now());
  return { service, url };
}

async function pushRows(service: Service): Promise<number> {
  const { rows } = await sql<{ n: number | string }>`select count(*) as n from push_events`.execute(service.store.database.db);
  return Number(rows[0]?.n ?? 0);
}

async function benchOne(target: BenchDatabase): Promise<{ pushes: number[]; bare: number[] }> {
  const { service, url } = await startReceiver(target.url);
  const bare = Fastify({ logger: false });
  // The ceiling: the same bodies parsed as JSON, the same acknowledgement, nothing else.
  bare.post<{ Body: { msgId?: unknown } }>('/callbacks/events', (request) => ({ result: 1, message_id: request.body.msgId }));
  const bareUrl = (await bare.listen({ port: 0, host: '127.0.0.1' })).replace('[::1]', '127.0.0.1');
  try {
    const receiver = `${url}/callbacks/events`;
    const bareTarget = `${bareUrl}/callbacks/events`;
    const warmup = sealMany(WARMUP);
    const runs = Array.from({ length: ROUNDS }, () => sealMany(N));
    const barePushes = sealMany(N);

    await measure(receiver, warmup, CONCURRENCY);
    await measure(bareTarget, warmup, CONCURRENCY);
    const storedBefore = await pushRows(service);

    const results = { pushes: [] as number[], bare: [] as number[] };
    for (const pushes of runs) {
      results.bare.push(await measure(bareTarget, barePushes, CONCURRENCY));
      results.pushes.push(await measure(receiver, pushes, CONCURRENCY));
    }
    // Every measured push went the whole way: stored once, by its own msgId.
    const stored = (await pushRows(service)) - storedBefore;
    if (stored !== N * ROUNDS) throw new Error(`${stored} pushes stored, expected ${N * ROUNDS}`);
    return results;
  } finally {
    await bare.close();
    await service.close();
  }
}

async function main(): Promise<void> {
  console.log(`push receiver bench — signed, encrypted POST /callbacks/events on loopback, node ${process.version}`);
  console.log(`N=${N} distinct pushes per run, ${CONCURRENCY} in flight, warm-up ${WARMUP}, ${ROUNDS} rounds alternating (bare, pushes), plain fetch`);
  const events = MIX === 'mixed' ? '1/2 PACKAGE_AUDIT_RESULT (known merchant), 1/4 CAPABILITY_RESULT, 1/4 unknown' : `${MIX} only`;
  console.log(`events: ${events}; the service logs at ${LOG_LEVEL} into a discarding sink`);
  const only = process.env.BENCH_DIALECTS?.split(',').map((d) => d.trim()).filter(Boolean);
  const all = benchDatabases('pushes');
  if (!all.some((t) => t.name === 'postgres')) console.log('PostgreSQL: skipped (set BENCH_DATABASE_URL or TEST_DATABASE_URL to bench it too)');
  const list = all.filter((t) => !only || only.includes(t.name));
  // The ones left out have nothing to clean up but the SQLite temp directory.
  for (const skipped of all.filter((t) => !list.includes(t))) await skipped.cleanup();
  const summary: string[] = [];
  for (const target of list) {
    let results;
    try {
      results = await benchOne(target);
    } finally {
      await target.cleanup();
    }
    const runHeaders = Array.from({ length: ROUNDS }, (_, i) => `run ${i + 1}`.padStart(12));
    console.log('');
    console.log(`${target.name}`);
    console.log(`${'target'.padEnd(10)}${runHeaders.join('')}${'median'.padStart(12)}`);
    for (const name of ['pushes', 'bare'] as const) {
      const runs = results[name];
      console.log(`${name.padEnd(10)}${runs.map((r) => fmt(r).padStart(12)).join('')}${fmt(median(runs)).padStart(12)}`);
    }
    const ratio = median(results.pushes) / median(results.bare);
    const line = `${target.name}: ${fmt(median(results.pushes))} pushes vs ${fmt(median(results.bare))} bare, ratio ${ratio.toFixed(2)}x (target >= ${TARGET_RATIO}x: ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'})`;
    console.log(line);
    summary.push(line);
  }
  console.log('');
  for (const line of summary) console.log(line);
}

await main();
process.exitCode = 0;
