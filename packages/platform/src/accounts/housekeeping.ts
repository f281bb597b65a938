// Expired sessions and spent lockout counters are deleted on a timer, so neither table only grows.

import type { AppContext } from '../app-context.js';
import { deleteStaleThrottleRows } from './login-throttle.js';
import { deleteExpiredSessions } from './sessions.js';

const HOUSEKEEPING_INTERVAL_MS = 10 * 60_000;

export function scheduleAccountsHousekeeping(ctx: Pick<AppContext, 'db' | 'jobs'>): void {
  ctx.jobs.every('sessions and lockout counters housekeeping', HOUSEKEEPING_INTERVAL_MS, async () => {
    await Promise.all([deleteExpiredSessions(ctx.db), deleteStaleThrottleRows(ctx.db)]);
  });
}
