// Starts a real Keyward for a test file: its own data dir, its own database (SQLite, or a fresh
// PostgreSQL database when KEYWARD_TEST_DATABASE_URL is set), a real port on loopback, and the
// log lines captured so tests can assert what was (not) logged.

import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { loadConfig, type Config } from '../../src/config.js';
import type { HostLookup } from '../../src/upstream/internal-address.js';
import { loggerOptions } from '../../src/logger.js';
import { startPlatform, type Platform } from '../../src/platform.js';
import { findDefaultLlmProxy } from '../../src/proxies/llm-proxies.js';
import { createTestDatabase } from './test-database.js';

export { createTestDatabase };

export const TEST_ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' };

export { testEngine } from './test-database.js';

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

/**
 * The environment of a server started as its own process (`node dist/main.js`, as `npm start`
 * runs it): loopback on `port`, the test database, the test administrator, then `env`.
 */
export function serverProcessEnv(
  port: number,
  database: { dataDir: string; databaseUrl: string | undefined },
  env: Record<string, string> = {},
): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    KEYWARD_DATA_DIR: database.dataDir,
    DATABASE_URL: database.databaseUrl ?? '',
    KEYWARD_ADMIN_EMAIL: TEST_ADMIN.email,
    KEYWARD_ADMIN_PASSWORD: TEST_ADMIN.password,
    ...env,
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
  options: { lookupHost?: HostLookup } = {},
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
  const platform = await startPlatform(config, pino(loggerOptions(config.logLevel), sink), options);
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
