/**
 * How the store runs a unit of work atomically on each dialect, shared by `SqlStore.transaction` and the
 * repositories that need several statements to commit together.
 */
import { sql, type Kysely } from 'kysely';
import type { DialectName } from './database.ts';
import type { Schema } from './schema.ts';

/** Runs `work` atomically: committed when it resolves, rolled back when it throws. */
export type Transact = <T>(work: (db: Kysely<Schema>) => Promise<T>) => Promise<T>;

/**
 * A new transaction per call. PostgreSQL: Kysely's, on a pooled connection. SQLite: `BEGIN IMMEDIATE` on the
 * store's single connection, held until `work` ends, so concurrent transactions (and plain queries) queue
 * instead of interleaving.
 */
export function transactor(db: Kysely<Schema>, dialect: DialectName): Transact {
  if (dialect === 'postgres') return (work) => db.transaction().execute(work);
  return <T>(work: (db: Kysely<Schema>) => Promise<T>): Promise<T> =>
    db.connection().execute(async (connection) => {
      // IMMEDIATE takes the write lock up front: a deferred transaction that reads and then writes can fail
      // with SQLITE_BUSY when another process wrote in between.
      await sql`begin immediate`.execute(connection);
      let result: T;
      try {
        result = await work(connection);
      } catch (error) {
        await sql`rollback`.execute(connection).catch(() => {
          // SQLite may already have rolled back on its own (e.g. disk full); `error` is what matters.
        });
        throw error;
      }
      await sql`commit`.execute(connection);
      return result;
    });
}

/** For repositories bound to a transaction already open on `db`: the work joins it. */
export function joining(db: Kysely<Schema>): Transact {
  return (work) => work(db);
}
