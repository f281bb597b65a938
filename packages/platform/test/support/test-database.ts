// A fresh, empty database per test file: a temp data dir for SQLite, plus a new PostgreSQL
// database when KEYWARD_TEST_DATABASE_URL names a server (npm test sets it for its second pass).

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

export const testEngine = (): 'postgres' | 'sqlite' => (process.env.KEYWARD_TEST_DATABASE_URL ? 'postgres' : 'sqlite');

/** A fresh, empty database for one test: a data dir, plus a PostgreSQL database when testing on PG. */
export async function createTestDatabase(): Promise<{ dataDir: string; databaseUrl: string | undefined; drop(): Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'keyward-test-'));
  const adminUrl = process.env.KEYWARD_TEST_DATABASE_URL;
  if (!adminUrl) return { dataDir, databaseUrl: undefined, drop: () => rm(dataDir, { recursive: true, force: true }) };
  const name = `keyward_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    dataDir,
    databaseUrl: url.href,
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

