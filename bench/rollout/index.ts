/**
 * `npm run bench:rollout`: one rollout to 1,000 authorized merchants on the sandbox (50 ms per platform
 * call, 1 s audits), by the provider server running as a child process (so its RSS is its own) with a
 * platform rate limit of 100 calls/s. Prints the wall time, the floor (the calls needed ÷ the rate limit),
 * their ratio, the calls actually made by operation, and the service's peak RSS.
 *
 * Needed calls per merchant: upload + submit for audit + release = 3; with 1,000 merchants at 100/s
 * the floor is 30 s. Reads of the versions, token calls and the audits' own time are overhead.
 *
 * BENCH_MODE=onboarding: quick activation instead — a `stable` channel exists, then BENCH_MERCHANTS
 * merchants authorize at once, and each becomes a one-merchant onboarding rollout (so the scheduler has
 * that many active rollouts). Measured from the first authorization to the last onboarding completed;
 * needed per merchant: its versions read + upload + submit + release = 4.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallCounts } from '../../src/sandbox/calls.ts';
import { authorizeNewMerchants, startChildService } from '../../test/helpers/child-service.ts';
import { startSandbox } from '../../test/helpers/sandbox.ts';
import { intFromEnv } from '../lib.ts';

const MERCHANTS = intFromEnv('BENCH_MERCHANTS', 1000);
const RATE = intFromEnv('BENCH_RATE_LIMIT', 100);
const LATENCY_MS = intFromEnv('BENCH_LATENCY_MS', 50);
const AUDIT_MS = intFromEnv('BENCH_AUDIT_DELAY_MS', 1000);
const CONCURRENCY = intFromEnv('BENCH_CONCURRENCY', 100);
const MODE = process.env.BENCH_MODE === 'onboarding' ? 'onboarding' : 'rollout';
const NEEDED = MODE === 'onboarding' ? (['getVersions', 'uploadCode', 'submitAudit', 'release'] as const) : (['uploadCode', 'submitAudit', 'release'] as const);

function byOperation(calls: CallCounts): Record<string, number> {
  return Object.fromEntries(Object.entries(calls.byOperation).map(([operation, count]) => [operation, count.calls]));
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ks-isv-bench-rollout-'));
  const databaseUrl = process.env.BENCH_DATABASE_URL ?? `sqlite:${join(dir, 'ks-isv.db')}`;
  const sandbox = await startSandbox({ component: { auditDelayMs: AUDIT_MS } });
  const service = await startChildService({
    sandbox,
    databaseUrl,
    adminKey: `ksk_${randomBytes(24).toString('hex')}`,
    env: {
      KS_RATE_LIMIT_PER_SEC: String(RATE),
      LOG_LEVEL: 'warn',
    },
    // BENCH_CPU_PROF=<dir>: a CPU profile of the service process, written there when it exits.
    ...(process.env.BENCH_CPU_PROF ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] } : {}),
    waitForTicket: true,
  });
  try {
    let start: number;
    let status: string;
    let released: number;
    let before: Record<string, number>;
    if (MODE === 'rollout') {
      // Setup (not measured): merchants created on the sandbox, each authorized through the real flow (the
      // sandbox pushes the authorization code, the service exchanges it and stores the merchant).
      const setupStart = Date.now();
      await authorizeNewMerchants(sandbox, service, MERCHANTS, 600_000);
      process.stdout.write(`setup: ${MERCHANTS} merchants authorized in ${((Date.now() - setupStart) / 1000).toFixed(1)} s\n`);
      await sandbox.control('PUT', '/faults', { latencyMs: LATENCY_MS });
      before = byOperation(await sandbox.calls());
      start = Date.now();
      const created = await service.api<{ rollout: { id: string } }>('POST', '/api/v1/rollouts', {
        templateId: 2, userVersion: '9.0.0', userDesc: 'bench', targets: { all: true }, concurrency: CONCURRENCY, maxFailureRate: 1,
      });
      if (created.status !== 201) throw new Error(`creating the rollout: HTTP ${created.status} ${JSON.stringify(created.json)}`);
      let progress: { rollout: { status: string }; progress: { byState: Record<string, number> } };
      for (;;) {
        progress = (await service.api<typeof progress>('GET', `/api/v1/rollouts/${created.json.rollout.id}`)).json;
        if (progress.rollout.status !== 'running') break;
        if (process.env.BENCH_TRACE) {
          const counts = Object.entries(progress.progress.byState).filter(([, n]) => n > 0).map(([state, n]) => `${state} ${n}`);
          process.stdout.write(`  ${((Date.now() - start) / 1000).toFixed(1)} s: ${counts.join(', ')}; calls ${JSON.stringify(byOperation(await sandbox.calls()))}\n`);
        }
        await new Promise((resolve) => setTimeout(resolve, process.env.BENCH_TRACE ? 1000 : 200));
      }
      status = progress.rollout.status;
      released = progress.progress.byState.released ?? 0;
    } else {
      const channel = await service.api('PUT', '/api/v1/channels/stable', { templateId: 2, userVersion: '9.0.0', userDesc: 'bench', autoRelease: true });
      if (channel.status !== 200) throw new Error(`creating the channel: HTTP ${channel.status} ${JSON.stringify(channel.json)}`);
      await sandbox.control('PUT', '/faults', { latencyMs: LATENCY_MS });
      before = byOperation(await sandbox.calls());
      start = Date.now();
      await authorizeNewMerchants(sandbox, service, MERCHANTS, 600_000);
      process.stdout.write(`${MERCHANTS} merchants authorized (pushes handled) after ${((Date.now() - start) / 1000).toFixed(1)} s\n`);
      let counts: Record<string, number> = {};
      for (;;) {
        counts = await onboardingRollouts(service);
        const done = Object.values(counts).reduce((sum, n) => sum + n, 0) - (counts.running ?? 0);
        if (process.env.BENCH_TRACE) process.stdout.write(`  ${((Date.now() - start) / 1000).toFixed(1)} s: ${JSON.stringify(counts)}\n`);
        if (done >= MERCHANTS) break;
        await new Promise((resolve) => setTimeout(resolve, process.env.BENCH_TRACE ? 1000 : 200));
      }
      status = JSON.stringify(counts);
      released = counts.completed ?? 0;
    }
    const wallS = (Date.now() - start) / 1000;
    const after = byOperation(await sandbox.calls());
    const made: Record<string, number> = {};
    for (const [operation, count] of Object.entries(after)) if (count - (before[operation] ?? 0) > 0) made[operation] = count - (before[operation] ?? 0);
    const total = Object.values(made).reduce((sum, n) => sum + n, 0);
    const needed = NEEDED.length * MERCHANTS;
    const floorS = needed / RATE;
    const rss = service.peakRss();

    process.stdout.write(MODE === 'rollout' ? `rollout: ${status}, released ${released}/${MERCHANTS}\n` : `onboarding rollouts by status: ${status}, completed ${released}/${MERCHANTS}\n`);
    process.stdout.write(`calls made (sandbox call log): ${JSON.stringify(made)} = ${total}; needed ${needed} (${NEEDED.join(' + ')} per merchant)\n`);
    process.stdout.write(`wall ${wallS.toFixed(1)} s, floor ${floorS.toFixed(1)} s (${needed} calls ÷ ${RATE}/s), ratio ${(wallS / floorS).toFixed(2)}x (target <= 1.25x)\n`);
    process.stdout.write(`calls made / needed ${(total / needed).toFixed(2)}x\n`);
    if (process.env.BENCH_TRACE) process.stdout.write(`service output (tail):\n${service.output().slice(-3000)}\n`);
    process.stdout.write(`service peak RSS ${rss === undefined ? 'unknown (no /proc)' : `${(rss / 2 ** 20).toFixed(0)} MB`} (target <= 300 MB)\n`);
  } finally {
    await service.kill('SIGTERM');
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Onboarding rollouts by status (paged through the REST API). */
async function onboardingRollouts(service: Awaited<ReturnType<typeof startChildService>>): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let cursor: string | null = null;
  do {
    const page: { json: { items: { origin: string; status: string }[]; nextCursor: string | null } } = await service.api('GET', `/api/v1/rollouts?limit=200${cursor ? `&cursor=${cursor}` : ''}`);
    for (const rollout of page.json.items) if (rollout.origin === 'onboarding') counts[rollout.status] = (counts[rollout.status] ?? 0) + 1;
    cursor = page.json.nextCursor;
  } while (cursor);
  return counts;
}

await main();
