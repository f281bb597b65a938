// A second, in-process "instance" of the router's bearer check for tests: its own memory, fed by
// the same change feed, so a revocation seen here has crossed instances the way production does.

import { startChangeFeed } from '../../src/db/change-log.js';
import { RevocationState, createBearerAuthenticator } from '../../src/oauth/resource-server.js';
import { loadSigningKeys } from '../../src/oauth/signing-keys.js';
import type { TestPlatform } from '../support/test-platform.js';

export async function bearerCheckFor(tp: TestPlatform) {
  // Its own change feed: it hears of revocations only through the database, every second.
  const changes = await startChangeFeed(tp.platform.ctx.db);
  const ctx = { ...tp.platform.ctx, changes };
  const state = new RevocationState(ctx, (ctx.config.accessTokenTtlSeconds + 300) * 1000);
  await state.load();
  const keys = await loadSigningKeys(ctx);
  return { authenticate: createBearerAuthenticator(ctx, keys.publicKeys, state), state, stop: () => changes.stop() };
}

/** Polls `check` until it resolves true or the time is up. */
export async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < ms) {
    if (await check()) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not within ${ms} ms`);
}
