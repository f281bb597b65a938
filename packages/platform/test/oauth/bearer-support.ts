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

/** Where an instance listens (with two instances, `tp.url` is their shared PUBLIC_URL). */
export const direct = (tp: TestPlatform): TestPlatform => ({ ...tp, url: `http://127.0.0.1:${tp.config.port}` });

/** The real router's answer to a token on one instance: 200 while it works, 401 once refused. */
export async function routerStatus(tp: TestPlatform, token: string): Promise<number> {
  const response = await fetch(`${direct(tp).url}/v1/model-router/models`, { headers: { authorization: `Bearer ${token}` } });
  await response.body?.cancel();
  return response.status;
}

/** How long until every token is refused (401) by the router on every instance; throws after 5 s. */
export function refusedEverywhere(instances: TestPlatform[], tokens: string[]): Promise<number> {
  return eventually(async () => {
    for (const tp of instances) for (const token of tokens) if ((await routerStatus(tp, token)) !== 401) return false;
    return true;
  });
}
