// better-sqlite3 with its prepared statements kept: Kysely prepares every query it runs, and
// preparing costs as much as running a small one (a 200-row usage batch: more). A statement is
// reusable once its run returns (the driver is synchronous, and Kysely runs one query at a time
// on its single SQLite connection); SQLite re-prepares it by itself after a schema change.

import type { Database as SqliteFile, Statement } from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';

/** Distinct SQL texts kept; the least recently used goes first. */
export const STATEMENT_CACHE_SIZE = 500;

export function withStatementCache(file: SqliteFile, size = STATEMENT_CACHE_SIZE): SqliteDatabase & { cached(): number } {
  const statements = new Map<string, Statement>();
  return {
    prepare(sql: string) {
      let statement = statements.get(sql);
      if (statement) {
        // Most recently used last: Map keeps insertion order.
        statements.delete(sql);
      } else {
        statement = file.prepare(sql);
        if (statements.size >= size) statements.delete(statements.keys().next().value!);
      }
      statements.set(sql, statement);
      return statement;
    },
    close() {
      statements.clear();
      file.close();
    },
    cached: () => statements.size,
  };
}
