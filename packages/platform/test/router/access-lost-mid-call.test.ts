// A caller that loses access while a call is running: the call is ended like a new one would be
// refused, not left to run to its end. Disabling the user, removing them from the team whose proxy
// it is, revoking the app's grant, disabling a confidential client: the provider call is cancelled,
// the caller is told in its wire format (an SSE error event on an open stream, the 401/403 body
// before the answer), and the call is metered once as `rejected`, never `client_aborted`.

import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorActor } from '../../src/accounts/actors.js';
import { removeTeamMemberAs } from '../../src/accounts/team-management.js';
import { setUserDisabled } from '../../src/accounts/user-management.js';
import { disableClient } from '../../src/oauth/clients.js';
import { deleteProxy } from '../../src/proxies/proxy-management.js';
import { clientCredentialsToken, createConfidentialClient, userTokens } from '../support/oauth-client.js';
import { startTestPlatform, testEngine } from '../support/test-platform.js';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';
import { waitForUsage } from './support/usage-records.js';

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness();
  await h.addKey('openai');
  await h.addKey('anthropic');
}, 60_000);
afterAll(() => h?.close());

const hi = [{ role: 'user', content: 'hi' }];
let n = 0;

/** Opens a stream the provider stalls after its first chunk; returns once that chunk was read. */
async function openStream(token: string, path: string, body: object, proxyId?: string, base = h.baseURL(proxyId)) {
  const requestId = `lost-access-${Date.now()}-${(n += 1)}`;
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-request-id': requestId },
    body: JSON.stringify({ ...body, stream: true }),
  });
  expect(response.status).toBe(200);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = decoder.decode((await reader.read()).value, { stream: true });
  /** The rest of the stream, or what it had when the stream was still open after `ms`. */
  const rest = async (ms = 5000) => {
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      void reader.cancel();
    }, ms);
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return { text, ended: !timedOut };
        text += decoder.decode(value, { stream: true });
      }
    } catch {
      return { text, ended: false };
    } finally {
      clearTimeout(deadline);
    }
  };
  return { requestId, rest };
}

describe('a running call whose caller loses access is ended', () => {
  it('disabling the user ends their open OpenAI stream with an error event; the provider call is cancelled; metered rejected', async () => {
    const ctx = h.tp.platform.ctx;
    const carol = await h.addUser(`carol-${Date.now()}@example.com`);
    const token = await h.tokenFor(carol);
    h.upstreams.openai.enqueue({ type: 'stall_after_first_chunk', text: 'First piece and then nothing at all' });
    const aborted = h.upstreams.openai.waitForAbort();
    const stream = await openStream(token, '/chat/completions', { model: 'openai:gpt-4o-mini', messages: hi });

    await setUserDisabled(ctx, await operatorActor(ctx.db), carol.id, true);

    const { text, ended } = await stream.rest();
    expect(ended).toBe(true);
    const errorEvent = text.split('\n\n').find((event) => event.includes('"error"'));
    expect(errorEvent).toBeDefined();
    expect(JSON.parse(errorEvent!.replace(/^data: /, ''))).toMatchObject({ error: { code: 'account_disabled', type: 'permission_error' } });
    expect(text).not.toContain('[DONE]');
    await aborted;
    const rows = await waitForUsage(h.tp, stream.requestId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ outcome: 'rejected', status: 200 });
    expect(rows[0]!.error_message).toMatch(/disabled/);
  });

  it('removing a member from the team ends their stream on the team proxy (Anthropic format), and only theirs', async () => {
    const ctx = h.tp.platform.ctx;
    const dave = await h.addUser(`dave-${Date.now()}@example.com`);
    const erin = await h.addUser(`erin-${Date.now()}@example.com`);
    const team = await h.addTeam(`Team ${Date.now()}`, [dave.id, erin.id]);
    const proxy = await h.addProxy({ name: `team-proxy-${Date.now()}`, scope: 'team', teamId: team });
    const daveToken = await h.tokenFor(dave);
    const erinToken = await h.tokenFor(erin);
    const body = { model: 'anthropic:claude-sonnet-4-5', max_tokens: 20, messages: hi };
    h.upstreams.anthropic.enqueue(
      { type: 'stall_after_first_chunk', text: 'Dave gets a first piece and then nothing' },
      { type: 'stall_after_first_chunk', text: 'Erin gets a first piece and then nothing' },
    );
    const daveStream = await openStream(daveToken, '/v1/messages', body, proxy);
    const erinStream = await openStream(erinToken, '/v1/messages', body, proxy);

    await removeTeamMemberAs(ctx, await operatorActor(ctx.db), team, dave.id);

    const dave_ = await daveStream.rest();
    expect(dave_.ended).toBe(true);
    expect(dave_.text).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"permission_error","message":"You are not allowed to use this LLM proxy\./);
    const rows = await waitForUsage(h.tp, daveStream.requestId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ outcome: 'rejected' });
    // Erin is still a member: her stream is still open (the provider stalled it).
    const erin_ = await erinStream.rest(700);
    expect(erin_.ended).toBe(false);
    expect(erin_.text).not.toContain('event: error');
  });

  it('removing a member from the team whose key their call uses ends it, on an organization proxy too', async () => {
    const ctx = h.tp.platform.ctx;
    const fay = await h.addUser(`fay-${Date.now()}@example.com`);
    const team = await h.addTeam(`Key team ${Date.now()}`, [fay.id]);
    // The team's Gemini key is the only Gemini key: fay's call runs on it.
    await h.addKey('gemini', { scope: 'team', teamId: team });
    const token = await h.tokenFor(fay);
    h.upstreams.gemini.enqueue({ type: 'stall_after_first_chunk', text: 'First piece and then nothing at all' });
    const stream = await openStream(token, '/chat/completions', { model: 'gemini:gemini-2.0-flash', messages: hi });

    await removeTeamMemberAs(ctx, await operatorActor(ctx.db), team, fay.id);

    const { text, ended } = await stream.rest();
    expect(ended).toBe(true);
    expect(text).toMatch(/data: \{"error":\{"message":"You are no longer a member of the team whose provider key this call uses\./);
    const rows = await waitForUsage(h.tp, stream.requestId);
    expect(rows[0]).toMatchObject({ outcome: 'rejected' });
  });

  it('revoking the app’s grant (RFC 7009) ends its running call before the answer with the 401 a new call gets', async () => {
    const tokens = await userTokens(h.tp);
    const requestId = `lost-access-grant-${Date.now()}`;
    h.upstreams.openai.enqueue({ type: 'hang' });
    const before = h.upstreams.openai.requests.length;
    const aborted = h.upstreams.openai.waitForAbort();
    const pending = fetch(`${h.baseURL()}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify({ model: 'openai:gpt-4o-mini', messages: hi }),
      signal: AbortSignal.timeout(8000),
    });
    // The provider has the request.
    for (let i = 0; i < 250 && h.upstreams.openai.requests.length === before; i++) await new Promise((r) => setTimeout(r, 20));
    expect(h.upstreams.openai.requests.length).toBe(before + 1);

    const issuer = new URL(h.tp.url);
    const http = { [oauth.allowInsecureRequests]: true };
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...http, algorithm: 'oauth2' }));
    const revoked = await oauth.revocationRequest(as, { client_id: tokens.client.client_id }, oauth.None(), tokens.access_token, {
      ...http,
      additionalParameters: { token_type_hint: 'access_token' },
    });
    expect(revoked.status).toBe(200);

    const response = await pending;
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toContain('error="invalid_token"');
    expect(await response.json()).toMatchObject({ error: { type: 'authentication_error', code: 'invalid_token' } });
    await aborted;
    const rows = await waitForUsage(h.tp, requestId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ outcome: 'rejected', status: 401 });
  });

  it('disabling a confidential client ends its open stream', async () => {
    const ctx = h.tp.platform.ctx;
    const client = await createConfidentialClient(h.tp);
    const token = (await clientCredentialsToken(h.tp, client)).access_token;
    h.upstreams.openai.enqueue({ type: 'stall_after_first_chunk', text: 'First piece and then nothing at all' });
    const aborted = h.upstreams.openai.waitForAbort();
    const stream = await openStream(token, '/chat/completions', { model: 'openai:gpt-4o-mini', messages: hi });

    await disableClient(ctx, client.client_id);

    const { text, ended } = await stream.rest();
    expect(ended).toBe(true);
    expect(text).toMatch(/data: \{"error":\{[^\n]*"type":"authentication_error"/);
    await aborted;
    const rows = await waitForUsage(h.tp, stream.requestId);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ outcome: 'rejected', status: 200 });
  });

  it('deleting a proxy ends the calls running on it', async () => {
    const ctx = h.tp.platform.ctx;
    const proxy = await h.addProxy({ name: `doomed-${Date.now()}`, scope: 'org' });
    h.upstreams.openai.enqueue({ type: 'stall_after_first_chunk', text: 'First piece and then nothing at all' });
    const stream = await openStream(h.adminToken, '/chat/completions', { model: 'openai:gpt-4o-mini', messages: hi }, proxy);

    await deleteProxy(ctx, await operatorActor(ctx.db), proxy);

    const { text, ended } = await stream.rest();
    expect(ended).toBe(true);
    expect(text).toMatch(/"code":"proxy_not_found"/);
  });

  it.skipIf(testEngine() !== 'postgres')('on another instance, through the change log: its running stream is ended within about a second', async () => {
    const ctx = h.tp.platform.ctx;
    const config = h.tp.config;
    const b = await startTestPlatform({ PUBLIC_URL: h.tp.url }, { dataDir: config.dataDir, databaseUrl: config.databaseUrl, drop: async () => undefined });
    try {
      const gus = await h.addUser(`gus-${Date.now()}@example.com`);
      const token = await h.tokenFor(gus);
      h.upstreams.openai.enqueue({ type: 'stall_after_first_chunk', text: 'First piece and then nothing at all' });
      const stream = await openStream(token, '/chat/completions', { model: 'openai:gpt-4o-mini', messages: hi }, undefined, `http://127.0.0.1:${b.config.port}/v1/model-router`);

      // Disabled on instance A; the stream runs on instance B.
      await setUserDisabled(ctx, await operatorActor(ctx.db), gus.id, true);
      const startedAt = Date.now();

      const { text, ended } = await stream.rest();
      expect(ended).toBe(true);
      expect(Date.now() - startedAt).toBeLessThan(4000);
      expect(text).toMatch(/"code":"account_disabled"/);
    } finally {
      await b.stop();
    }
  });
});
