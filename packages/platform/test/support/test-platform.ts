// Starts a real Keyward for a test file: its own data dir, its own database (SQLite, or a fresh
// PostgreSQL database when KEYWARD_TEST_DATABASE_URL is set), a real port on loopback, and the
// log lines captured so tests can assert what was (not) logged.

import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import pino from 'pino';
import { loadConfig, type Config } from '../../src/config.js';
import { loggerOptions } from '../../src/logger.js';
import { startPlatform, type Platform } from '../../src/platform.js';
import { findDefaultLlmProxy } from '../../src/router/llm-proxies.js';

export const TEST_ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' };

export const testEngine = (): 'postgres' | 'sqlite' => (process.env.KEYWARD_TEST_DATABASE_URL ? 'postgres' : 'sqlite');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

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

export interface TestPlatform {
  url: string;
  platform: Platform;
  config: Config;
  admin: typeof TEST_ADMIN;
  defaultProxyId: string;
  /** Every log line written so far. */
  logs: string[];
  /** Stop the server, keep the data (for restart tests). */
  stop(): Promise<void>;
  /** Stop and delete the data. */
  close(): Promise<void>;
}

export async function startTestPlatform(
  env: Record<string, string> = {},
  database?: Awaited<ReturnType<typeof createTestDatabase>>,
): Promise<TestPlatform> {
  const db = database ?? (await createTestDatabase());
  const port = await freePort();
  const config = loadConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    KEYWARD_DATA_DIR: db.dataDir,
    ...(db.databaseUrl ? { DATABASE_URL: db.databaseUrl } : {}),
    KEYWARD_ADMIN_EMAIL: TEST_ADMIN.email,
    KEYWARD_ADMIN_PASSWORD: TEST_ADMIN.password,
    KEYWARD_LOG_LEVEL: 'info',
    ...env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  const platform = await startPlatform(config, pino(loggerOptions(config.logLevel), sink));
  await platform.app.listen({ port, host: '127.0.0.1' });
  const proxy = await findDefaultLlmProxy(platform.ctx.db);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await platform.close();
  };
  return {
    url: config.publicUrl,
    platform,
    config,
    admin: TEST_ADMIN,
    defaultProxyId: proxy!.id,
    logs,
    stop,
    async close() {
      await stop();
      await db.drop();
    },
  };
}
