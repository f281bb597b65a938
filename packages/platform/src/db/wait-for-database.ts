// At start, a PostgreSQL server that is restarting or failing over is waited for (with backoff,
// logged, for a bounded time) instead of exiting at once; any other error still fails at once.

import type { Logger } from 'pino';

/** PostgreSQL error classes that mean "not reachable right now": 08 connection exception, 57P01–57P03 shutting down / starting up. */
const UNAVAILABLE_SQLSTATE = /^(08...|57P0[123])$/;
const UNAVAILABLE_ERRNO = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPIPE']);
const UNAVAILABLE_MESSAGE = /Connection terminated|timeout exceeded when trying to connect|the database system is (starting up|shutting down)/i;

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e = error as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown[] } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    const code = typeof e.code === 'string' ? e.code : '';
    if (UNAVAILABLE_SQLSTATE.test(code) || UNAVAILABLE_ERRNO.has(code)) return true;
    if (typeof e.message === 'string' && UNAVAILABLE_MESSAGE.test(e.message)) return true;
    // Node's AggregateError (IPv4 and IPv6 both refused) carries the real errors inside.
    if (Array.isArray(e.errors) && e.errors.some(isDatabaseUnavailable)) return true;
  }
  return false;
}

const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 5_000;

/** Runs `attempt` until it succeeds, retrying while the database is unavailable and `waitMs` has not passed. */
export async function retryWhileDatabaseUnavailable<T>(attempt: () => Promise<T>, options: { waitMs: number; log: Logger; sleep?: (ms: number) => Promise<void> }): Promise<T> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = Date.now() + options.waitMs;
  let delay = FIRST_DELAY_MS;
  for (let tries = 1; ; tries++) {
    try {
      const result = await attempt();
      if (tries > 1) options.log.info({ tries }, 'database reachable; starting');
      return result;
    } catch (error) {
      const left = deadline - Date.now();
      if (!isDatabaseUnavailable(error) || left <= 0) {
        if (tries > 1) options.log.error({ tries, err: error }, 'database still unavailable; giving up');
        throw error;
      }
      const wait = Math.min(delay, left);
      options.log.warn({ tries, retryInMs: wait, secondsLeft: Math.ceil(left / 1000), reason: (error as Error).message }, 'database unavailable at start; retrying');
      await sleep(wait);
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    }
  }
}
