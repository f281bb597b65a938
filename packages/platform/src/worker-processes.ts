// KEYWARD_WORKERS=N: the primary process prepares the database once (migrations, secrets,
// first-start data) so workers never race on them, then forks N workers that share the port
// (node:cluster), restarts a crashed one with backoff, and passes SIGTERM/SIGINT on for a
// graceful stop. Each worker is a whole platform: its caches follow the change feed, its usage
// records are batched on their own.

import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { bootstrap, type BootstrapResult } from './accounts/bootstrap.js';
import type { Config } from './config.js';
import { retryWhileDatabaseUnavailable } from './db/wait-for-database.js';
import { openContext } from './open-context.js';

/** A worker that lived this long is healthy again: its next crash restarts it at once. */
const HEALTHY_AFTER_MS = 30_000;
const MAX_RESTART_DELAY_MS = 30_000;

/** As a single process does at start: a PostgreSQL server away (restarting, failing over) is waited for. */
export async function prepareDatabase(config: Config, log: Logger): Promise<BootstrapResult> {
  return retryWhileDatabaseUnavailable(
    async () => {
      const ctx = await openContext(config, log);
      try {
        return await bootstrap(ctx.db, config, ctx.storage.dialect);
      } finally {
        await ctx.jobs.stop();
        await ctx.storage.close();
      }
    },
    { waitMs: config.databaseUrl ? config.databaseStartWaitMs : 0, log },
  );
}

export function runWorkers(config: Config, log: Logger): void {
  let stopping = false;
  const crashes = new Map<number, number>();
  const fork = (slot: number) => {
    const startedAt = Date.now();
    const worker: Worker = cluster.fork();
    worker.once('exit', (code, signal) => {
      if (stopping) {
        if (code !== 0) process.exitCode = 1;
        if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(process.exitCode ?? 0);
        return;
      }
      const recent = Date.now() - startedAt < HEALTHY_AFTER_MS ? (crashes.get(slot) ?? 0) + 1 : 0;
      crashes.set(slot, recent);
      const delayMs = recent === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 500 * 2 ** (recent - 1));
      log.error({ pid: worker.process.pid, code, signal, restartInMs: delayMs }, 'worker process exited; restarting it');
      setTimeout(() => fork(slot), delayMs);
    });
  };
  for (let slot = 0; slot < config.workers; slot++) fork(slot);
  log.info({ workers: config.workers }, 'worker processes started');

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping worker processes');
    const workers = Object.values(cluster.workers ?? {});
    if (workers.length === 0) process.exit(0);
    for (const worker of workers) worker?.process.kill(signal);
    // A worker that never stops must not keep the primary alive past its own grace period.
    setTimeout(() => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
      process.exit(1);
    }, config.shutdownGraceMs + 10_000).unref();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
