// A change whose notice never arrived still reaches the router within seconds, for every cache
// it keeps: users, team members, provider keys, proxies, and the calls already running (ended
// when their user is disabled, their app disabled or their grant revoked). The
// writes below are what another instance writes; its change_log row is the part that got lost
// (that instance died, or lost the database, between the two). Without the change feed's resync
// these caches held the old answer until their 5-minute expiry.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RESYNC_INTERVAL_MS } from '../../src/db/change-log.js';
import { REVOCATION_RECONCILE_INTERVAL_MS } from '../../src/oauth/index.js';
import { userTokens } from '../support/oauth-client.js';
import { eventually } from '../oauth/bearer-support.js';
import { testEngine } from '../support/test-platform.js';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';
import { waitForUsage } from './support/usage-records.js';

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness();
  await h.addKey('openai');
}, 60_000);
afterAll(() => h?.close());

/** One resync interval, and the slack of one comparison and one call. */
const BOUND_MS = RESYNC_INTERVAL_MS + 2000;
const db = () => h.tp.platform.ctx.db;

async function chat(token: string, model = 'openai:gpt-4o-mini', proxyId?: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`${h.baseURL(proxyId)}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] }),
  });
  return { status: response.status, body: await response.text() };
}

/**
 * The setup's own notices (a new user, team, key or proxy) come back through the feed's next poll
 * and drop the cache entries they name: read them all first, so that only a resync can.
 */
const setupNoticesRead = () => h.tp.platform.ctx.changes.poll();

/** How long until `check` holds, polling; fails past the bound. */
const took = (check: () => Promise<boolean>) => eventually(check, BOUND_MS + 3000);

describe(`a change whose notice was lost reaches the router's caches within seconds (${testEngine()})`, () => {
  // Everything is set up, and every cache warmed, before any test writes: a setup's notice would
  // otherwise drop cache entries another test relies on being stale.
  let user: { id: string; token: string };
  let member: { id: string; token: string; team: string; proxy: string };
  let firstKey: string;
  let orgProxy: string;
  const lastAnthropicKey = () => String(h.upstreams.anthropic.requests.at(-1)!.headers['x-api-key']);
  beforeAll(async () => {
    const plain = await h.addUser(`lost-user-${Date.now()}@example.com`);
    user = { id: plain.id, token: await h.tokenFor(plain) };
    const memberUser = await h.addUser(`lost-member-${Date.now()}@example.com`);
    const team = await h.addTeam(`Lost notice ${Date.now()}`, [memberUser.id]);
    const teamProxy = await h.addProxy({ name: `lost-team-proxy-${Date.now()}`, scope: 'team', teamId: team });
    member = { id: memberUser.id, token: await h.tokenFor(memberUser), team, proxy: teamProxy };
    firstKey = await h.addKey('anthropic', { apiKey: `sk-ant-lost-first-${'a'.repeat(24)}`, primary: true });
    await h.addKey('anthropic', { apiKey: `sk-ant-lost-second-${'b'.repeat(24)}` });
    orgProxy = await h.addProxy({ name: `lost-proxy-${Date.now()}`, scope: 'org' });
    await setupNoticesRead();
    expect((await chat(user.token)).status).toBe(200);
    expect((await chat(member.token, 'openai:gpt-4o-mini', member.proxy)).status).toBe(200);
    expect((await chat(h.adminToken, 'anthropic:claude-sonnet-4-5')).status).toBe(200);
    expect(lastAnthropicKey()).toContain('lost-first');
    expect((await chat(h.adminToken, 'openai:gpt-4o-mini', orgProxy)).status).toBe(200);
  }, 60_000);

  it.concurrent('a user disabled elsewhere is refused', async () => {
    await db().updateTable('users').set({ disabled_at: Date.now() }).where('id', '=', user.id).execute();
    const ms = await took(async () => (await chat(user.token)).status === 403);
    expect(ms).toBeLessThan(BOUND_MS);
    expect(JSON.parse((await chat(user.token)).body)).toMatchObject({ error: { code: 'account_disabled' } });
  });

  it.concurrent('a member removed from a team elsewhere may no longer use its proxy', async () => {
    // The user test's resync drops this member's entry too: the membership summary is checked to move on its own.
    let membershipResyncs = 0;
    h.tp.platform.ctx.changes.onResync('membership', () => (membershipResyncs += 1));
    await db().deleteFrom('team_members').where('team_id', '=', member.team).where('user_id', '=', member.id).execute();
    const ms = await took(async () => (await chat(member.token, 'openai:gpt-4o-mini', member.proxy)).status === 403);
    expect(ms).toBeLessThan(BOUND_MS);
    await took(async () => membershipResyncs > 0);
  });

  it.concurrent('a provider key disabled elsewhere is no longer used', async () => {
    const now = Date.now();
    await db().updateTable('provider_keys').set({ disabled_at: now, updated_at: now }).where('id', '=', firstKey).execute();
    const ms = await took(async () => (await chat(h.adminToken, 'anthropic:claude-sonnet-4-5')).status === 200 && lastAnthropicKey().includes('lost-second'));
    expect(ms).toBeLessThan(BOUND_MS);
  });

  it.concurrent('a proxy deleted elsewhere is not found', async () => {
    await db().deleteFrom('llm_proxies').where('id', '=', orgProxy).execute();
    const ms = await took(async () => (await chat(h.adminToken, 'openai:gpt-4o-mini', orgProxy)).status === 404);
    expect(ms).toBeLessThan(BOUND_MS);
  });
});

/** A stream the provider stalls after its first chunk, opened with `token`; `rest()` reads it to its end. */
async function openStalledStream(token: string) {
  const requestId = `lost-notice-stream-${Date.now()}-${Math.random()}`;
  h.upstreams.openai.enqueue({ type: 'stall_after_first_chunk', text: 'First piece and then nothing at all' });
  const response = await fetch(`${h.baseURL()}/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-request-id': requestId },
    body: JSON.stringify({ model: 'openai:gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  });
  expect(response.status).toBe(200);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = decoder.decode((await reader.read()).value, { stream: true });
  return {
    requestId,
    /** The rest of the stream, and how long after `since` it ended (it is cancelled past the bound). */
    async rest(since: number) {
      const deadline = setTimeout(() => void reader.cancel(), BOUND_MS + 3000);
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      clearTimeout(deadline);
      return { text, endedAfterMs: Date.now() - since };
    },
  };
}

describe(`a running call whose access was taken away elsewhere, notice lost (${testEngine()})`, () => {
  // Opened, and the setup's notices read, before any test writes (as above).
  let disabledUser: { id: string; stream: Awaited<ReturnType<typeof openStalledStream>> };
  let disabledApp: { clientId: string; stream: Awaited<ReturnType<typeof openStalledStream>> };
  let revokedGrant: { grantId: string; stream: Awaited<ReturnType<typeof openStalledStream>> };
  beforeAll(async () => {
    const user = await h.addUser(`lost-stream-${Date.now()}@example.com`);
    const token = await h.tokenFor(user);
    const appTokens = await userTokens(h.tp);
    const grantTokens = await userTokens(h.tp);
    await setupNoticesRead();
    disabledUser = { id: user.id, stream: await openStalledStream(token) };
    disabledApp = { clientId: appTokens.client.client_id, stream: await openStalledStream(appTokens.access_token) };
    const gid = JSON.parse(Buffer.from(grantTokens.access_token.split('.')[1]!, 'base64url').toString()).gid as string;
    revokedGrant = { grantId: gid, stream: await openStalledStream(grantTokens.access_token) };
  }, 60_000);

  it.concurrent('its user disabled: ended with the refusal a new call gets, and metered rejected (the feed\'s resync)', async () => {
    const started = Date.now();
    await db().updateTable('users').set({ disabled_at: Date.now() }).where('id', '=', disabledUser.id).execute();
    const { text, endedAfterMs } = await disabledUser.stream.rest(started);
    expect(endedAfterMs).toBeLessThan(BOUND_MS);
    const errorEvent = text.split('\n\n').find((event) => event.includes('"error"'));
    expect(JSON.parse(errorEvent!.replace(/^data: /, ''))).toMatchObject({ error: { code: 'account_disabled' } });
    const rows = await waitForUsage(h.tp, disabledUser.stream.requestId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ outcome: 'rejected' });
  });

  it.concurrent('its app disabled (what disableClient writes): ended (the feed\'s resync reads the disabled clients again)', async () => {
    const started = Date.now();
    await db().updateTable('oauth_clients').set({ disabled_at: started, updated_at: started }).where('client_id', '=', disabledApp.clientId).execute();
    const { text, endedAfterMs } = await disabledApp.stream.rest(started);
    expect(endedAfterMs).toBeLessThan(BOUND_MS);
    expect(text).toContain('"error"');
  });

  it.concurrent('its grant revoked (what revokeGrant writes): ended (the revocation reconcile)', async () => {
    const started = Date.now();
    await db().insertInto('oauth_revoked_grants').values({ grant_id: revokedGrant.grantId, revoked_at: started, keep_until: started + 3_600_000 }).execute();
    const { text, endedAfterMs } = await revokedGrant.stream.rest(started);
    expect(endedAfterMs).toBeLessThan(REVOCATION_RECONCILE_INTERVAL_MS + 2000);
    expect(text).toContain('"error"');
  });
});
