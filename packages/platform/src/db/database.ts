// Opens the database: embedded SQLite by default, PostgreSQL when DATABASE_URL says so. The rest
// of Keyward sees one Kysely<Database> and never asks which engine is behind it, except where a
// dialect truly differs (migrations, upserts).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { migrationProvider, type Dialect } from './migrations/index.js';
import { nulFreeDialect } from './nul-free-dialect.js';
import type { Database } from './schema.js';
import { withStatementCache } from './sqlite-statement-cache.js';

export type { Dialect };

export interface Storage {
  db: Kysely<Database>;
  dialect: Dialect;
  close(): Promise<void>;
  /** PostgreSQL: a separate connection without the statement timeout, for migrations (a long index build, or waiting on another instance's migration lock). */
  openForMigrations?: () => Storage;
}

// Timestamps are bigint epoch milliseconds, well within Number's exact range.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

/** A statement that runs longer is cancelled by PostgreSQL (a lock wait or a runaway query must not hold a connection forever). */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;
/** How long a query waits for a free connection from the pool (or for a new one to open) before failing. */
export const CONNECTION_WAIT_MS = 10_000;

export interface StorageOptions {
  databaseUrl?: string | undefined;
  dataDir: string;
  onPoolError?: (error: Error) => void;
  /** PostgreSQL only; 0 turns the limit off. Default DEFAULT_STATEMENT_TIMEOUT_MS. */
  databaseStatementTimeoutMs?: number | undefined;
}

export function openStorage(options: StorageOptions): Storage {
  if (options.databaseUrl) {
    const statementTimeout = options.databaseStatementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: 10,
      connectionTimeoutMillis: CONNECTION_WAIT_MS,
      // Server-side limits, sent with each new connection: a hung statement or a transaction left
      // open by a lost request ends with an error instead of pinning a pooled connection.
      ...(statementTimeout > 0 ? { statement_timeout: statementTimeout, idle_in_transaction_session_timeout: statementTimeout * 2 } : {}),
    });
    // A client whose server connection drops (restart, failover) must not crash the process,
    // idle or checked out between two statements: the statement in flight fails, the pool
    // discards the client on release, and the next query opens a new one.
    pool.on('connect', (client) => client.on('error', (error) => options.onPoolError?.(error)));
    // Idle clients' errors also reach the pool; each client's own listener above reports them.
    pool.on('error', () => undefined);
    const db = new Kysely<Database>({ dialect: nulFreeDialect(new PostgresDialect({ pool })) });
    return {
      db,
      dialect: 'postgres',
      close: () => db.destroy(),
      openForMigrations: () => openStorage({ ...options, databaseStatementTimeoutMs: 0 }),
    };
  }
  mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  const file = new SQLite(join(options.dataDir, 'keyward.sqlite'));
  file.pragma('journal_mode = WAL');
  file.pragma('synchronous = NORMAL');
  file.pragma('foreign_keys = ON');
  file.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: nulFreeDialect(new SqliteDialect({ database: withStatementCache(file) })) });
  return { db, dialect: 'sqlite', close: () => db.destroy() };
}

export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** Brings the schema up to date; safe to run from several instances at once (Kysely locks). */
export async function migrateToLatest(storage: Storage): Promise<string[]> {
  const target = storage.openForMigrations?.() ?? storage;
  const migrator = new Migrator({ db: target.db, provider: migrationProvider(storage.dialect) });
  const { error, results } = await migrator.migrateToLatest().finally(() => (target === storage ? undefined : target.close()));
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new MigrationError(`migration ${failed ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
