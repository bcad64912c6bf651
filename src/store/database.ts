/**
 * One Kysely handle over SQLite (better-sqlite3, WAL) or PostgreSQL (a pg pool), chosen by the URL.
 * Everything above works on `Kysely<Schema>` and never asks which dialect it has, except where SQL
 * semantics differ (transactions on SQLite's single connection).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { parseDatabaseUrl } from './database-url.ts';
import type { Schema } from './schema.ts';
import { withStatementCache } from './sqlite-statement-cache.ts';

export type DialectName = 'sqlite' | 'postgres';

export interface Database {
  db: Kysely<Schema>;
  dialect: DialectName;
  /** PostgreSQL: the schema every connection works in (resolved at open). SQLite: undefined. */
  schema?: string;
  /** SQLite: the database file's absolute path, or `:memory:`. */
  sqliteFile?: string;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** PostgreSQL pool size (default 10). */
  maxConnections?: number;
  /**
   * An idle pooled connection failed (e.g. the server restarted). The pool has already dropped it and the
   * next query reports any lasting problem; without a listener pg would crash the process.
   */
  onIdleConnectionError?: (error: Error) => void;
}

const INT8_OID = 20;

/** Opens the database `url` names (see `parseDatabaseUrl`). Does not migrate: see `migrateToLatest`. */
export async function openDatabase(url: string, options: OpenDatabaseOptions = {}): Promise<Database> {
  const target = parseDatabaseUrl(url);
  return target.dialect === 'sqlite'
    ? openSqlite(target.path)
    : openPostgres(target.connectionString, target.schema, options);
}

function openSqlite(path: string): Database {
  const sqliteFile = path === ':memory:' ? path : resolve(path);
  if (sqliteFile !== ':memory:') mkdirSync(dirname(sqliteFile), { recursive: true });
  const sqlite = new SqliteDatabase(sqliteFile);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('synchronous = NORMAL');
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  return { db, dialect: 'sqlite', sqliteFile, close: () => db.destroy() };
}

async function openPostgres(connectionString: string, schema: string | undefined, options: OpenDatabaseOptions): Promise<Database> {
  // Scoped to this pool: timestamps and counts (int8) come back as JS numbers, not strings.
  const types = new pg.TypeOverrides();
  types.setTypeParser(INT8_OID, parseSafeInteger);
  const pool = new pg.Pool({
    connectionString,
    types,
    max: options.maxConnections ?? 10,
    ...(schema !== undefined && { options: `-c search_path=${schema}` }),
  });
  pool.on('error', (error) => options.onIdleConnectionError?.(error));
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) });
  try {
    if (schema !== undefined) await createSchema(db, schema);
    const row = await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db);
    const current = row.rows[0]?.schema;
    if (!current) throw new Error('DATABASE_URL: the PostgreSQL search_path names no existing schema');
    return { db, dialect: 'postgres', schema: current, close: () => db.destroy() };
  } catch (error) {
    await db.destroy();
    throw error;
  }
}

async function createSchema(db: Kysely<Schema>, schema: string): Promise<void> {
  try {
    await db.schema.createSchema(schema).ifNotExists().execute();
  } catch (error) {
    // Two instances starting at once: `if not exists` can still lose the race on the catalog's unique index.
    const exists = await sql<{ found: number }>`select 1 as found from pg_namespace where nspname = ${schema}`.execute(db);
    if (exists.rows.length === 0) throw error;
  }
}

function parseSafeInteger(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`bigint ${text} does not fit a JS number`);
  return value;
}
