// Assembles a running platform from a Config: storage, migrations, secrets, first-start data,
// the change feed and the HTTP server. main.ts and the tests both start Keyward through here.

import type { FastifyInstance } from 'fastify';
import pino, { type Logger } from 'pino';
import type { AppContext } from './app-context.js';
import { bootstrap, type BootstrapResult } from './accounts/bootstrap.js';
import type { Config } from './config.js';
import { startChangeFeed } from './db/change-log.js';
import { migrateToLatest, openStorage } from './db/database.js';
import { loggerOptions } from './logger.js';
import { loadEncryptionKey, randomSecret, sharedSecret } from './secrets/instance-secrets.js';
import { SealedBox } from './secrets/sealed-box.js';
import { buildServer } from './server.js';

export interface Platform {
  app: FastifyInstance;
  ctx: AppContext;
  bootstrap: BootstrapResult;
  close(): Promise<void>;
}

/** Storage, secrets and first-start data: everything but HTTP (the CLI needs just this). */
export async function openContext(config: Config, log: Logger = pino(loggerOptions(config.logLevel))) {
  const storage = openStorage(config);
  try {
    await migrateToLatest(storage);
    const box = new SealedBox(await loadEncryptionKey(config));
    const cookieKey = Buffer.from(await sharedSecret(storage.db, box, 'cookie_key', () => randomSecret(32)), 'base64url');
    const changes = await startChangeFeed(storage.db);
    const ctx: AppContext = { config, storage, db: storage.db, box, cookieKey, changes, log };
    return ctx;
  } catch (error) {
    await storage.close();
    throw error;
  }
}

export async function startPlatform(config: Config, log?: Logger): Promise<Platform> {
  const ctx = await openContext(config, log);
  const bootstrapResult = await bootstrap(ctx.db, config);
  const app = await buildServer(ctx);
  return {
    app,
    ctx,
    bootstrap: bootstrapResult,
    async close() {
      await app.close();
      ctx.changes.stop();
      await ctx.storage.close();
    },
  };
}
