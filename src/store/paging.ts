/**
 * Keyset pagination: a page ends with an opaque cursor naming its last row's sort position, and the next
 * page starts strictly after it, so rows inserted meanwhile cause neither duplicates nor gaps.
 */
import { sql, type Expression, type SqlBool } from 'kysely';
import { FleetError } from '../fleet/errors.ts';
import type { Page } from '../fleet/model.ts';

type Position = (string | number)[];

export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

/** A cursor's position, not yet checked against what the caller expects. */
export function decodeCursorPosition(cursor: string): unknown[] {
  return decodeCursor(cursor);
}

function decodeCursor(cursor: string): unknown[] {
  try {
    const decoded: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(decoded)) return decoded;
  } catch {
    // reported below
  }
  throw invalidCursor();
}

/** A cursor over a text key: `[key]`. */
export function decodeKeyCursor(cursor: string): string {
  const [key, ...rest] = decodeCursor(cursor);
  if (typeof key !== 'string' || rest.length > 0) throw invalidCursor();
  return key;
}

/** A cursor over a time then a text key: `[ms, key]`. */
export function decodeTimeKeyCursor(cursor: string): [number, string] {
  const [at, key, ...rest] = decodeCursor(cursor);
  if (typeof at !== 'number' || !Number.isSafeInteger(at) || typeof key !== 'string' || rest.length > 0) throw invalidCursor();
  return [at, key];
}

/** A cursor over a text then a text key: `[text, key]`. */
export function decodeTextKeyCursor(cursor: string): [string, string] {
  const [text, key, ...rest] = decodeCursor(cursor);
  if (typeof text !== 'string' || typeof key !== 'string' || rest.length > 0) throw invalidCursor();
  return [text, key];
}

function invalidCursor(): FleetError {
  return new FleetError('invalid_data', 'invalid_cursor', 'the cursor is not one a previous page returned');
}

/** Builds a page from up to `limit + 1` rows: the extra row only says that there is a next page. */
export function toPage<Row, Item>(rows: Row[], limit: number, toItem: (row: Row) => Item, position: (row: Row) => Position): Page<Item> {
  const pageRows = rows.slice(0, Math.max(0, limit));
  const last = pageRows.at(-1);
  return {
    items: pageRows.map(toItem),
    nextCursor: rows.length > pageRows.length && last !== undefined ? encodeCursor(position(last)) : null,
  };
}

/** `column` contains `needle`, case-insensitively, with LIKE's wildcards in `needle` taken literally. */
export function containsIgnoringCase(column: string, needle: string): Expression<SqlBool> {
  const pattern = `%${needle.toLowerCase().replace(/[\\%_]/g, '\\$&')}%`;
  return sql<SqlBool>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`;
}

export function parseJsonObject(text: string): Record<string, unknown> {
  return JSON.parse(text) as Record<string, unknown>;
}
