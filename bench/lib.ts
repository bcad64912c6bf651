/** What every bench shares: settings from the environment, the databases to run on, and how figures are summarised and printed. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive integer, got "${raw}"`);
  return value;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** `1234.5` → `1,235/s`. */
export const perSecond = (value: number): string => `${Math.round(value).toLocaleString('en-US')}/s`;

/** A database a bench runs on: SQLite in a temporary directory, PostgreSQL in a schema of its own. */
export interface BenchDatabase {
  name: 'sqlite' | 'postgres';
  url: string;
  cleanup(): Promise<void>;
}

/** SQLite always; PostgreSQL too when BENCH_DATABASE_URL (or TEST_DATABASE_URL) names one. */
export function benchDatabases(bench: string): BenchDatabase[] {
  const dir = mkdtempSync(join(tmpdir(), `ks-isv-bench-${bench}-`));
  const list: BenchDatabase[] = [{ name: 'sqlite', url: `sqlite:${join(dir, 'bench.db')}`, cleanup: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })) }];
  const pgUrl = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL;
  if (pgUrl) {
    const schema = `ksisv_bench_${randomBytes(6).toString('hex')}`;
    const url = new URL(pgUrl);
    url.searchParams.set('schema', schema);
    list.push({
      name: 'postgres',
      url: url.toString(),
      async cleanup() {
        const client = new pg.Client({ connectionString: pgUrl });
        await client.connect();
        try {
          await client.query(`drop schema if exists "${schema}" cascade`);
        } finally {
          await client.end();
        }
      },
    });
  }
  return list;
}
