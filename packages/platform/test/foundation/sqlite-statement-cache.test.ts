// SQLite keeps its prepared statements: one prepare per distinct query, a bounded cache, and a
// cached statement still right after the schema changes under it (migrations run on the same file).

import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { describe, expect, it, vi } from 'vitest';
import { LONGEST_CACHED_SQL, withStatementCache } from '../../src/db/sqlite-statement-cache.js';

function open(size?: number) {
  const file = new SQLite(':memory:');
  const prepare = vi.spyOn(file, 'prepare');
  const database = withStatementCache(file, size);
  const db = new Kysely<{ t: { a: number; b?: number } }>({ dialect: new SqliteDialect({ database }) });
  return { db, prepare, database };
}

describe('SQLite statement cache', () => {
  it('prepares a query once and reuses it for every run, with its own parameters each time', async () => {
    const { db, prepare } = open();
    await sql`create table t (a integer)`.execute(db);
    for (let i = 0; i < 5; i++) await db.insertInto('t').values({ a: i }).execute();
    const rows = await db.selectFrom('t').select('a').where('a', '>=', 3).orderBy('a').execute();
    expect(rows).toEqual([{ a: 3 }, { a: 4 }]);
    const inserts = prepare.mock.calls.filter(([text]) => text.startsWith('insert'));
    expect(inserts).toHaveLength(1);
    await db.destroy();
  });

  it('keeps at most its size, dropping the oldest', async () => {
    const { db, prepare, database } = open(2);
    await sql`create table t (a integer)`.execute(db);
    const select = (n: number) => sql`select ${sql.raw(String(n))} as n from t`.execute(db);
    await select(1);
    await select(2); // the create table went to make room
    await select(1); // a hit
    await select(3); // 1 is the oldest now
    expect(database.cached()).toBe(2);
    prepare.mockClear();
    await select(2);
    await select(3);
    expect(prepare).not.toHaveBeenCalled();
    await select(1);
    expect(prepare).toHaveBeenCalledTimes(1);
    await db.destroy();
  });

  it('answers with the new shape after the table changes under a cached statement', async () => {
    const { db } = open();
    await sql`create table t (a integer)`.execute(db);
    await db.insertInto('t').values({ a: 1 }).execute();
    expect(await db.selectFrom('t').selectAll().execute()).toEqual([{ a: 1 }]);
    await sql`alter table t add column b integer default 2`.execute(db);
    expect(await db.selectFrom('t').selectAll().execute()).toEqual([{ a: 1, b: 2 }]);
    await db.destroy();
  });

  it('leaves a statement usable after it failed', async () => {
    const { db } = open();
    await sql`create table t (a integer primary key)`.execute(db);
    await db.insertInto('t').values({ a: 1 }).execute();
    await expect(db.insertInto('t').values({ a: 1 }).execute()).rejects.toThrow(/UNIQUE/);
    await db.insertInto('t').values({ a: 2 }).execute();
    expect(await db.selectFrom('t').select('a').orderBy('a').execute()).toEqual([{ a: 1 }, { a: 2 }]);
    await db.destroy();
  });

  it('does not keep a statement whose SQL is longer than LONGEST_CACHED_SQL (a many-row insert holds ~2.5 KB per row)', async () => {
    const { db, prepare, database } = open();
    await sql`create table t (a integer)`.execute(db);
    const rows = Array.from({ length: 6000 }, (_, a) => ({ a }));
    await db.insertInto('t').values(rows).execute();
    await db.insertInto('t').values(rows).execute();
    const long = prepare.mock.calls.filter(([text]) => text.length > LONGEST_CACHED_SQL);
    expect(long).toHaveLength(2);
    expect(database.cached()).toBe(1); // the create table only
    await db.destroy();
  });
});
