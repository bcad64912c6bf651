/**
 * The runtime bench's load generator: node:http with a keep-alive agent (as `src/kuaishou/node-fetch.ts`,
 * the client's transport; the global fetch costs the generator more per request than node:http), a fixed
 * number of requests with `concurrency` of them in flight, every latency recorded.
 */
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export interface Shot {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** Says whether an answer is the expected one (status and parsed JSON body); may keep what it needs. */
export type Accept = (status: number, json: unknown, index: number) => boolean;

export interface Run {
  requests: number;
  seconds: number;
  perSecond: number;
  /** Latency percentiles, milliseconds. */
  p50: number;
  p99: number;
}

export class LoadFailure extends Error {
  override name = 'LoadFailure';
}

function send(agent: Agent, base: URL, shot: Shot): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: base.hostname, port: base.port, method: shot.method, path: shot.path, headers: shot.headers, agent },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('error', reject);
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(shot.body);
  });
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] ?? 0;
}

/**
 * Sends shots 0…n-1 from `concurrency` workers (each sends its next request once its previous answer is
 * read and parsed) over one keep-alive agent of `concurrency` sockets, made for this run and destroyed
 * after it. Any refused answer fails the run (after it is over), naming the first.
 */
export async function drive(base: URL, n: number, concurrency: number, shot: (index: number) => Shot, accept: Accept): Promise<Run> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies = new Float64Array(n);
  let next = 0;
  let failed = 0;
  let firstFailure = '';
  const worker = async (): Promise<void> => {
    while (next < n) {
      const index = next++;
      const one = shot(index);
      const started = performance.now();
      let answer: { status: number; text: string };
      try {
        answer = await send(agent, base, one);
      } catch (error) {
        failed++;
        firstFailure ||= `${one.method} ${one.path}: ${error instanceof Error ? error.message : String(error)}`;
        continue;
      }
      latencies[index] = performance.now() - started;
      let json: unknown;
      try {
        json = answer.text ? JSON.parse(answer.text) : undefined;
      } catch {
        json = undefined;
      }
      if (!accept(answer.status, json, index)) {
        failed++;
        firstFailure ||= `${one.method} ${one.path}: HTTP ${answer.status} ${answer.text.slice(0, 300)}`;
      }
    }
  };
  const started = performance.now();
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
  } finally {
    agent.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  if (failed > 0) throw new LoadFailure(`${failed} of ${n} requests to ${base.host} failed (first: ${firstFailure})`);
  latencies.sort();
  return { requests: n, seconds, perSecond: n / seconds, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99) };
}
