/**
 * Kysely's SQLite driver prepares every query it runs; preparing costs about as much as running a small
 * statement. The store's queries are a few hundred distinct SQL texts, so the prepared statements are
 * kept, least recently used dropped past `capacity`. Safe because the one connection runs one query at a
 * time (Kysely's connection mutex) and nothing streams (an open iterator would keep its statement busy);
 * SQLite re-prepares a kept statement by itself after a schema change.
 */
import type { SqliteDatabase, SqliteStatement } from 'kysely';

export function withStatementCache(database: SqliteDatabase, capacity = 512): SqliteDatabase {
  const statements = new Map<string, SqliteStatement>();
  return {
    close: () => {
      statements.clear();
      database.close();
    },
    prepare(sql: string): SqliteStatement {
      let statement = statements.get(sql);
      if (statement !== undefined) {
        // Map order is insertion order: re-inserting marks it most recently used.
        statements.delete(sql);
      } else {
        statement = database.prepare(sql);
        if (statements.size >= capacity) statements.delete(statements.keys().next().value!);
      }
      statements.set(sql, statement);
      return statement;
    },
  };
}
