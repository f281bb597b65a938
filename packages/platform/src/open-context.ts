// Storage, migrations, secrets, the change feed and background jobs: everything but HTTP. The
// server and the admin CLI both start from here.

import type { Logger } from 'pino';
import type { AppContext } from './app-context.js';
import { createBackgroundJobs } from './background-jobs.js';
import type { Config } from './config.js';
import { startChangeFeed } from './db/change-log.js';
import { migrateToLatest, openStorage } from './db/database.js';
import { createLogger } from './logger.js';
import { observeChangeFeedLag } from './metrics/metrics.js';
import { systemLookup, type HostLookup } from './upstream/internal-address.js';
import { UpstreamClient } from './upstream/upstream-client.js';
import { loadEncryptionKey, randomSecret, sharedSecret } from './secrets/instance-secrets.js';
import { SealedBox } from './secrets/sealed-box.js';

export async function openContext(config: Config, log: Logger = createLogger(config), lookupHost: HostLookup = systemLookup) {
  const storage = openStorage({ ...config, onPoolError: (error) => log.warn({ err: error }, 'database connection lost') });
  const jobs = createBackgroundJobs(log);
  try {
    await migrateToLatest(storage);
    const box = new SealedBox(await loadEncryptionKey(config));
    const cookieKey = Buffer.from(await sharedSecret(storage.db, box, 'cookie_key', () => randomSecret(32)), 'base64url');
    const changes = await startChangeFeed(storage.db, { jobs, log, onRead: observeChangeFeedLag });
    const upstream = new UpstreamClient({ connectMs: config.upstreamConnectTimeoutMs, idleMs: config.upstreamTimeoutMs }, lookupHost);
    const ctx: AppContext = { config, storage, db: storage.db, box, cookieKey, changes, jobs, log, lookupHost, upstream };
    return ctx;
  } catch (error) {
    await jobs.stop();
    await storage.close();
    throw error;
  }
}

/** Stops what openContext started: background jobs, the upstream pool, the database. */
export async function closeContext(ctx: AppContext): Promise<void> {
  await ctx.jobs.stop();
  await ctx.upstream.close().catch(() => undefined);
  await ctx.storage.close();
}
