// Found by `npm run soak`: PostgreSQL restarting while a connection was checked out between two
// statements (a transaction) crashed the whole process with an unhandled 'error' event.
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage, type Storage } from '../../src/db/database.js';
import { createTestDatabase, testEngine } from '../support/test-database.js';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let storage: Storage;
const lost: Error[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  storage = openStorage({ ...database, onPoolError: (error) => lost.push(error) });
});
afterAll(async () => {
  await storage.close();
  await database.drop();
});

describe.skipIf(testEngine() !== 'postgres')('losing the PostgreSQL connection', () => {
  it('while a connection is checked out fails that transaction, reports it, and the next query works', async () => {
    const transaction = storage.db.transaction().execute(async (trx) => {
      const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
      // What a server restart does to every session: terminate it, between two of our statements.
      const admin = new pg.Client({ connectionString: database.databaseUrl });
      await admin.connect();
      await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
      await admin.end();
      await new Promise((resolve) => setTimeout(resolve, 300));
      await sql`select 1`.execute(trx);
    });
    await expect(transaction).rejects.toThrow();
    expect(lost.some((error) => /terminating connection/.test(error.message))).toBe(true);
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(storage.db);
    expect(rows[0]!.one).toBe(1);
  });
});

describe.skipIf(testEngine() !== 'postgres')('a statement that runs too long', () => {
  it('is cancelled by the server after the statement timeout, and the pool goes on working', async () => {
    const short = openStorage({ ...database, databaseStatementTimeoutMs: 200 });
    try {
      const started = Date.now();
      await expect(sql`select pg_sleep(5)`.execute(short.db)).rejects.toThrow(/statement timeout/);
      expect(Date.now() - started).toBeLessThan(3000);
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(short.db);
      expect(rows[0]!.one).toBe(1);
    } finally {
      await short.close();
    }
  });

  it('has a default that ordinary statements never reach', async () => {
    const { rows } = await sql<{ setting: string }>`select current_setting('statement_timeout') as setting`.execute(storage.db);
    expect(rows[0]!.setting).toBe('30s');
  });
});

describe.skipIf(testEngine() !== 'postgres')('migrations', () => {
  it('run on a connection without the statement timeout (an index build or a wait on another instance may take longer)', async () => {
    const forMigrations = storage.openForMigrations!();
    try {
      const { rows } = await sql<{ setting: string }>`select current_setting('statement_timeout') as setting`.execute(forMigrations.db);
      expect(rows[0]!.setting).toBe('0');
    } finally {
      await forMigrations.close();
    }
  });
});
