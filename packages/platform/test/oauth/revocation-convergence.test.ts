// Revocation converges even when its change event never arrives: every instance re-reads revoked
// grants and disabled clients from the database, so the router refuses within that interval.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REVOCATION_RECONCILE_INTERVAL_MS } from '../../src/oauth/index.js';
import { userTokens } from '../support/oauth-client.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { eventually } from './bearer-support.js';

let tp: TestPlatform;
beforeAll(async () => {
  tp = await startTestPlatform();
}, 60_000);
afterAll(async () => {
  await tp?.close();
});

const grantIdOf = (accessToken: string): string => JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()).gid;

/** The router's answer to this token: 401 once it is refused. */
const routerStatus = async (accessToken: string) =>
  (await fetch(`${tp.url}/v1/model-router/${tp.defaultProxyId}/models`, { headers: { authorization: `Bearer ${accessToken}` } })).status;

/** Within the reconcile interval, plus a poll's worth of slack. */
const BOUND_MS = REVOCATION_RECONCILE_INTERVAL_MS + 1500;

describe('a revocation whose change event was lost still reaches the router', () => {
  it('a grant revoked in the database with no event is refused within the reconcile interval', async () => {
    const tokens = await userTokens(tp);
    expect(await routerStatus(tokens.access_token)).not.toBe(401);
    const now = Date.now();
    // What another instance writes when it revokes; its change_log row is the part that got lost.
    await tp.platform.ctx.db
      .insertInto('oauth_revoked_grants')
      .values({ grant_id: grantIdOf(tokens.access_token), revoked_at: now, keep_until: now + 3_600_000 })
      .execute();
    const took = await eventually(async () => (await routerStatus(tokens.access_token)) === 401, BOUND_MS);
    expect(took).toBeLessThan(BOUND_MS);
  }, 30_000);

  it('a client disabled in the database with no event is refused within the reconcile interval', async () => {
    const tokens = await userTokens(tp);
    expect(await routerStatus(tokens.access_token)).not.toBe(401);
    await tp.platform.ctx.db.updateTable('oauth_clients').set({ disabled_at: Date.now() }).where('client_id', '=', tokens.client.client_id).execute();
    const took = await eventually(async () => (await routerStatus(tokens.access_token)) === 401, BOUND_MS);
    expect(took).toBeLessThan(BOUND_MS);
  }, 30_000);
});
