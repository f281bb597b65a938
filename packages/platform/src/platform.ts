// Assembles a running platform from a Config: the context (open-context.ts), first-start data
// and the HTTP server. main.ts and the tests both start Keyward through here.

import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AppContext } from './app-context.js';
import { bootstrap, type BootstrapResult } from './accounts/bootstrap.js';
import { scheduleAccountsHousekeeping } from './accounts/housekeeping.js';
import type { Config } from './config.js';
import { disableMemberKeysOutsidePolicy } from './keys/base-url-allow-list.js';
import type { HostLookup } from './upstream/internal-address.js';
import { SYSTEM_AUDIT_ACTOR } from './audit/audit-log.js';
import { auditDisabledMemberKeys } from './keys/key-management.js';
import { closeContext, openContext } from './open-context.js';
import { retryWhileDatabaseUnavailable } from './db/wait-for-database.js';
import { createLogger } from './logger.js';
import { buildServer } from './server.js';
import { RunningCalls, shuttingDownError } from './router/http/running-calls.js';

export interface Platform {
  app: FastifyInstance;
  ctx: AppContext;
  bootstrap: BootstrapResult;
  /** Model Router calls running now. */
  readonly runningCalls: number;
  /**
   * The end of the shutdown grace period: every running router call is ended with a 503
   * `server_shutdown` (an error event on a stream) and metered; resolves once they have closed
   * (or after `waitMs`), so that the sockets still open can then be closed with nothing lost.
   */
  endRunningCalls(waitMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startPlatform(config: Config, log: Logger = createLogger(config), options: { lookupHost?: HostLookup } = {}): Promise<Platform> {
  // Opening, migrating and first-start data all need the database: a restarting PostgreSQL is waited for.
  const { ctx, bootstrapResult } = await retryWhileDatabaseUnavailable(
    async () => {
      const ctx = await openContext(config, log, options.lookupHost);
      try {
        const bootstrapResult = await bootstrap(ctx.db, config, ctx.storage.dialect);
        // KEYWARD_KEY_BASE_URL_ALLOW may have shrunk since the last start.
        const disabled = await disableMemberKeysOutsidePolicy(ctx.db, ctx.changes, { defaultHosts: config.keyBaseUrlAllow });
        await auditDisabledMemberKeys(ctx.db, SYSTEM_AUDIT_ACTOR, disabled);
        for (const key of disabled) ctx.log.warn({ keyId: key.id, userId: key.userId, provider: key.provider }, 'member provider key disabled: its base URL is no longer allowed');
        return { ctx, bootstrapResult };
      } catch (error) {
        await closeContext(ctx).catch(() => undefined);
        throw error;
      }
    },
    { waitMs: config.databaseUrl ? config.databaseStartWaitMs : 0, log },
  );
  const running = new RunningCalls();
  const app = await buildServer(ctx, { running });
  scheduleAccountsHousekeeping(ctx);
  return {
    app,
    ctx,
    bootstrap: bootstrapResult,
    get runningCalls() {
      return running.size;
    },
    endRunningCalls: (waitMs) => running.endAll(shuttingDownError(), waitMs),
    async close() {
      await app.close();
      await closeContext(ctx);
    },
  };
}
