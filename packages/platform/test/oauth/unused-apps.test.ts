// Self-registered apps nobody used are deleted once old enough; an app that anyone connected, that
// is being authorized, that made calls, that has a spending limit, that an administrator blocked,
// or that an administrator created, is kept. On the test's engine (PostgreSQL in npm test's second pass).

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disableClient } from '../../src/oauth/clients.js';
import { pruneUnusedApps } from '../../src/oauth/unused-apps.js';
import { authorizeWithoutBrowser, CookieJar, createConfidentialClient, registerPublicClient, SEED_REDIRECT_URI, SEED_SCOPE, pkcePair } from '../support/oauth-client.js';
import { startTestPlatform, testEngine, type TestPlatform } from '../support/test-platform.js';

const DAY_MS = 86_400_000;
const TTL_MS = 7 * DAY_MS;

let tp: TestPlatform;
beforeAll(async () => {
  tp = await startTestPlatform();
});
afterAll(async () => {
  await tp?.close();
});

const db = () => tp.platform.ctx.db;
const exists = async (clientId: string) => (await db().selectFrom('oauth_clients').select('client_id').where('client_id', '=', clientId).executeTakeFirst()) !== undefined;
const age = (clientIds: string[], days: number) =>
  db().updateTable('oauth_clients').set({ created_at: Date.now() - days * DAY_MS }).where('client_id', 'in', clientIds).execute();

/** Starts an authorization and stops where a browser would show the sign-in page: an Interaction now names the app. */
async function startAuthorization(clientId: string): Promise<void> {
  const url = new URL(`${tp.url}/api/auth/oauth2/authorize`);
  const { codeChallenge } = pkcePair();
  const params = { response_type: 'code', client_id: clientId, redirect_uri: SEED_REDIRECT_URI, scope: SEED_SCOPE, code_challenge: codeChallenge, code_challenge_method: 'S256', state: 's' };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const response = await new CookieJar().fetch(url);
  await response.body?.cancel();
  expect(response.status).toBe(303);
}

const usageRow = (clientId: string) => ({
  id: randomBytes(8).toString('hex'),
  request_id: 'req',
  created_at: Date.now() - 30 * DAY_MS,
  principal_kind: 'user',
  user_id: null,
  client_id: clientId,
  organization_id: null,
  proxy_id: null,
  endpoint: 'chat',
  inbound_format: 'openai_chat',
  provider: 'openai',
  model: 'gpt-4o-mini',
  key_id: null,
  stream: 0,
  input_tokens: 1,
  output_tokens: 1,
  cached_tokens: null,
  reasoning_tokens: null,
  cache_write_tokens: null,
  cost_nano_usd: null,
  unpriced: 1,
  latency_ms: 5,
  time_to_first_token_ms: null,
  status: 200,
  outcome: 'ok',
  error_message: null,
});

describe(`unused self-registered apps on ${testEngine()}`, () => {
  it('are deleted past the age; every app with something to keep stays', async () => {
    const register = async (name: string) => (await registerPublicClient(tp, { clientName: name })).client_id;
    const abandoned = await register('Abandoned');
    const connected = await register('Connected');
    await authorizeWithoutBrowser(tp, { clientId: connected });
    const midway = await register('Midway');
    await startAuthorization(midway);
    const madeCalls = await register('Made calls');
    await db().insertInto('usage_records').values(usageRow(madeCalls)).execute();
    const limited = await register('Limited');
    const org = await db().selectFrom('organizations').select('id').executeTakeFirstOrThrow();
    await db()
      .insertInto('spending_limits')
      .values({ id: randomBytes(8).toString('hex'), organization_id: org.id, scope: 'app', team_id: null, user_id: null, client_id: limited, proxy_id: null, nano_usd: 1_000_000_000, period: 'month', requests_per_minute: null, tokens_per_minute: null, alert_percent: null, created_at: Date.now(), chosen_by: null })
      .execute();
    const blocked = await register('Blocked');
    await disableClient(tp.platform.ctx, blocked);
    const confidential = (await createConfidentialClient(tp, { name: 'Admin-made' })).client_id;
    const recent = await register('Recent');

    await age([abandoned, connected, midway, madeCalls, limited, blocked, confidential], 8);
    await age([recent], 6);

    const registrationTokens = (clientId: string) => db().selectFrom('oauth_payloads').select('id').where('model', '=', 'RegistrationAccessToken').where('client_id', '=', clientId).execute();
    expect(await registrationTokens(abandoned)).toHaveLength(1);

    expect(await pruneUnusedApps(db(), TTL_MS)).toBe(1);
    expect(await exists(abandoned)).toBe(false);
    expect(await registrationTokens(abandoned)).toHaveLength(0);
    expect(await registrationTokens(recent)).toHaveLength(1);
    for (const kept of [connected, midway, madeCalls, limited, blocked, confidential, recent]) expect(await exists(kept)).toBe(true);
    expect(await pruneUnusedApps(db(), TTL_MS)).toBe(0);

    // The deleted app is unknown now: its next authorization is refused as invalid_client, and it can register again.
    const token = await fetch(`${tp.url}/api/auth/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: abandoned, code: 'x', redirect_uri: SEED_REDIRECT_URI, code_verifier: 'v'.repeat(43) }),
    });
    expect(token.status).toBe(401);
    expect(((await token.json()) as { error: string }).error).toBe('invalid_client');
    const again = await registerPublicClient(tp, { clientName: 'Abandoned' });
    await authorizeWithoutBrowser(tp, { clientId: again.client_id });
  });

  it('keep an app whose authorization was pushed (PAR) and not yet opened in a browser', async () => {
    const pushed = (await registerPublicClient(tp, { clientName: 'Pushed' })).client_id;
    const { codeChallenge } = pkcePair();
    const par = await fetch(`${tp.url}/api/auth/oauth2/par`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: pushed, response_type: 'code', redirect_uri: SEED_REDIRECT_URI, scope: SEED_SCOPE, code_challenge: codeChallenge, code_challenge_method: 'S256', state: 's' }),
    });
    expect(par.status).toBe(201);
    await age([pushed], 8);

    await pruneUnusedApps(db(), TTL_MS);
    expect(await exists(pushed)).toBe(true);
  });

  it('are deleted in batches, by any number of runs at once, and only those that registered themselves', async () => {
    const old = Date.now() - 10 * DAY_MS;
    const row = (clientId: string) => ({ client_id: clientId, kind: 'public' as const, name: 'Flood', metadata_json: '{}', secret_hash: null, organization_id: null, proxy_ids_json: null, key_ids_json: null, created_at: old, updated_at: old, disabled_at: null });
    const flood = Array.from({ length: 1_234 }, (_, i) => `kwa_flood${String(i).padStart(5, '0')}`);
    for (let i = 0; i < flood.length; i += 200) await db().insertInto('oauth_clients').values(flood.slice(i, i + 200).map(row)).execute();
    // A public client that did not come through the registration endpoint (no kwa_ prefix).
    await db().insertInto('oauth_clients').values(row('seeded-public-app')).execute();

    // Twenty sweeps at once (instances, or runs overlapping): each app deleted once, none missed.
    const runs = await Promise.all(Array.from({ length: 20 }, () => pruneUnusedApps(db(), TTL_MS)));
    expect(runs.reduce((a, b) => a + b, 0)).toBe(flood.length);
    const left = await db().selectFrom('oauth_clients').select('client_id').where('name', '=', 'Flood').execute();
    expect(left.map((r) => r.client_id)).toEqual(['seeded-public-app']);
  });
});
