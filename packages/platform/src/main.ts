// `npm start`: run the platform until SIGTERM/SIGINT, then stop accepting, let in-flight
// requests finish (bounded by KEYWARD_SHUTDOWN_GRACE_MS: then running router calls are ended with
// a 503 `server_shutdown` and the remaining connections closed) and close the database.

import cluster from 'node:cluster';
import type { Logger } from 'pino';
import type { BootstrapResult } from './accounts/bootstrap.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { limitHeapGrowth } from './heap-growth.js';
import { markShuttingDown } from './health-routes.js';
import { createLogger } from './logger.js';
import { startPlatform } from './platform.js';
import { SIGN_IN_PATH } from './accounts/sign-in-routes.js';
import { exitOnUncaughtErrors } from './uncaught-errors.js';
import { prepareDatabase, runWorkers } from './worker-processes.js';

/** What the first start has to tell the person starting it. */
function reportBootstrap(config: Config, log: Logger, result: BootstrapResult): void {
  if (result.weakAdminPassword) {
    log.warn({ reason: result.weakAdminPassword }, 'KEYWARD_ADMIN_PASSWORD is weak; change it with `keyward user set-password`');
  }
  const generated = result.generatedAdmin;
  if (generated) {
    // Printed to the terminal once, never logged: it is a password.
    process.stderr.write(
      `\n  Keyward created the administrator ${generated.email} with the password:\n\n      ${generated.password}\n\n` +
        `  Sign in at ${config.publicUrl}${SIGN_IN_PATH}. To change it:\n` +
        `      npx keyward user set-password --email ${generated.email} --password '<new password>'\n` +
        `  or start with KEYWARD_ADMIN_EMAIL and KEYWARD_ADMIN_PASSWORD set.\n\n`,
    );
  }
}

async function main(): Promise<void> {
  // Before any load: the primary and every worker size their heaps the same way.
  limitHeapGrowth();
  const config = loadConfig();
  const log = createLogger(config);
  exitOnUncaughtErrors(log);
  if (config.workers > 1 && cluster.isPrimary) {
    reportBootstrap(config, log, await prepareDatabase(config, log));
    runWorkers(config, log);
    return;
  }
  const platform = await startPlatform(config, log);
  const { app, ctx } = platform;
  await app.listen({ port: config.port, host: config.host, backlog: config.listenBacklog });
  ctx.log.info({ publicUrl: config.publicUrl, database: ctx.storage.dialect }, `Keyward is listening on ${config.publicUrl}`);
  // Workers: the primary already reported the first start.
  if (cluster.isPrimary) reportBootstrap(config, ctx.log, platform.bootstrap);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    markShuttingDown();
    ctx.log.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      // Running calls first: each is told (an error event on a stream) and metered, so nothing is
      // cut off silently and every usage record reaches the sink before it closes (after the server).
      ctx.log.warn({ runningCalls: platform.runningCalls }, 'grace period over; ending running calls and closing open connections');
      void platform.endRunningCalls().finally(() => app.server.closeAllConnections());
    }, config.shutdownGraceMs);
    force.unref();
    try {
      await platform.close();
      process.exitCode = 0;
      // A worker's IPC channel to the primary would keep it alive.
      if (cluster.isWorker) process.disconnect();
    } catch (error) {
      ctx.log.error({ err: error }, 'shutdown failed');
      process.exitCode = 1;
    }
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`keyward: ${error.message}\n`);
  } else {
    process.stderr.write(`keyward: failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  }
  process.exit(1);
});
