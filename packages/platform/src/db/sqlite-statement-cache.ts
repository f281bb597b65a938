// better-sqlite3 with its prepared statements kept: Kysely prepares every query it runs, and
// preparing costs as much as running a small one (a 200-row usage batch: more). A statement is
// reusable once its run returns (the driver is synchronous, and Kysely runs one query at a time
// on its single SQLite connection); SQLite re-prepares it by itself after a schema change.

import type { Database as SqliteFile, Statement } from 'better-sqlite3';
import type { SqliteDatabase } from 'kysely';
import { BoundedCache } from '../bounded-cache.js';

/** Distinct SQL texts kept; past it, the oldest goes first. */
export const STATEMENT_CACHE_SIZE = 500;
/** Longer texts are prepared each time: a many-row insert holds ~2.5 KB of SQLite memory per row while prepared. */
export const LONGEST_CACHED_SQL = 16 * 1024;

export function withStatementCache(file: SqliteFile, size = STATEMENT_CACHE_SIZE): SqliteDatabase & { cached(): number } {
  const statements = new BoundedCache<string, Statement>(size);
  return {
    prepare: (sql: string) => (sql.length > LONGEST_CACHED_SQL ? file.prepare(sql) : statements.getOrMake(sql, (text) => file.prepare(text))),
    close() {
      statements.clear();
      file.close();
    },
    cached: () => statements.size,
  };
}
