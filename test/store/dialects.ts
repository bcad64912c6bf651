/**
 * The dialects every store suite runs on: SQLite (temp files) always, PostgreSQL when TEST_DATABASE_URL
 * is set (each database is a fresh random schema, dropped afterwards). Loop over `dialectTargets()` and
 * give each suite `{ skip: target.skip }`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openStore, type SqlStore } from '../../src/store/index.ts';

export const TEST_SECRET_KEY = Buffer.from('0123456789abcdef0123456789abcdef', 'utf8');

export interface FreshDatabase {
  url: string;
  /** SQLite: the database file (its -wal/-shm files sit next to it). */
  sqliteFile?: string;
  /** PostgreSQL: the schema. */
  schema?: string;
}

export class DialectTarget {
  private readonly sqliteDirs: string[] = [];
  private readonly schemas: string[] = [];

  constructor(
    readonly name: 'sqlite' | 'postgres',
    /** A reason to skip, shown in the test output; false to run. */
    readonly skip: string | false,
    private readonly baseUrl: string,
  ) {}

  /** A new, empty database on this dialect. */
  fresh(): FreshDatabase {
    if (this.name === 'sqlite') {
      const dir = mkdtempSync(join(tmpdir(), 'ks-isv-store-'));
      this.sqliteDirs.push(dir);
      const sqliteFile = join(dir, 'nested', 'ks-isv.db');
      return { url: `sqlite:${sqliteFile}`, sqliteFile };
    }
    const schema = `ksisv_test_${randomBytes(6).toString('hex')}`;
    this.schemas.push(schema);
    const url = new URL(this.baseUrl);
    url.searchParams.set('schema', schema);
    return { url: url.toString(), schema };
  }

  /** Opens a store on `url` with the test key. */
  open(url: string, now?: () => number): Promise<SqlStore> {
    return openStore({ url, secretKey: TEST_SECRET_KEY, ...(now && { now }) });
  }

  /** Raw SQL against the PostgreSQL server, outside any store (for inspection and cleanup). */
  async pgQuery<Row extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<Row[]> {
    const client = new pg.Client({ connectionString: this.baseUrl });
    await client.connect();
    try {
      return (await client.query<Row>(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  async cleanup(): Promise<void> {
    for (const dir of this.sqliteDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
    for (const schema of this.schemas.splice(0)) await this.pgQuery(`drop schema if exists "${schema}" cascade`);
  }
}

export function dialectTargets(): DialectTarget[] {
  const pgUrl = process.env.TEST_DATABASE_URL;
  // TEST_DIALECTS=postgres runs only the PostgreSQL variants (CI's PostgreSQL pass, after the SQLite one).
  const only = process.env.TEST_DIALECTS?.split(',').map((name) => name.trim());
  const excluded = (name: string): string | false => (only && !only.includes(name) ? `${name} not in TEST_DIALECTS` : false);
  return [
    new DialectTarget('sqlite', excluded('sqlite'), ''),
    new DialectTarget('postgres', excluded('postgres') || (pgUrl ? false : 'TEST_DATABASE_URL not set: PostgreSQL tests skipped'), pgUrl ?? ''),
  ];
}
