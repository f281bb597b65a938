// Who may call which proxy (issue 4 §2), which key answers (§4: personal, then team, then org;
// primary first, then oldest; failover within a rank), and what happens without a key.

import { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorActor, userActor } from '../../src/accounts/actors.js';
import { setUserRole } from '../../src/accounts/user-management.js';
import { addKey } from '../../src/keys/key-management.js';
import { startRouterHarness, upstreamBase, type RouterHarness } from './support/router-harness.js';
import { waitForUsage } from './support/usage-records.js';

const chat = (model = 'openai:gpt-4o-mini') => ({ model, messages: [{ role: 'user' as const, content: 'hi' }] });

let h: RouterHarness;
beforeAll(async () => {
  h = await startRouterHarness();
});
afterAll(() => h?.close());

/** The provider key the mock saw on its last request. */
const lastKey = () => String(h.upstreams.openai.requests.at(-1)!.headers.authorization).replace('Bearer ', '');

describe('key resolution order', () => {
  it('personal beats team beats org; primary beats older; oldest otherwise', async () => {
    const alice = await h.addUser('alice@example.com');
    const team = await h.addTeam('Research', [alice.id]);
    const token = await h.tokenFor(alice);
    const key = (name: string) => `sk-${name}-${'k'.repeat(24)}`;

    await h.addKey('openai', { apiKey: key('org-old') });
    await h.addKey('openai', { apiKey: key('org-new') });
    await h.openai(token).chat.completions.create(chat());
    expect(lastKey()).toBe(key('org-old'));

    await h.addKey('openai', { apiKey: key('org-primary'), primary: true });
    await h.openai(token).chat.completions.create(chat());
    expect(lastKey()).toBe(key('org-primary'));

    await h.addKey('openai', { apiKey: key('team'), scope: 'team', teamId: team });
    await h.openai(token).chat.completions.create(chat());
    expect(lastKey()).toBe(key('team'));
    // The admin is not in the team: org key.
    await h.openai().chat.completions.create(chat());
    expect(lastKey()).toBe(key('org-primary'));

    await h.addKey('openai', { apiKey: key('personal'), scope: 'personal', userId: alice.id });
    await h.openai(token).chat.completions.create(chat());
    expect(lastKey()).toBe(key('personal'));
  });

  it('keys of the same rank fail over to each other on 429 and 5xx, not to a lower rank', async () => {
    const bob = await h.addUser('bob@example.com');
    const token = await h.tokenFor(bob);
    const k1 = `sk-bob-one-${'a'.repeat(24)}`;
    const k2 = `sk-bob-two-${'b'.repeat(24)}`;
    await h.addKey('openai', { apiKey: k1, scope: 'personal', userId: bob.id, primary: true });
    await h.addKey('openai', { apiKey: k2, scope: 'personal', userId: bob.id });

    h.upstreams.openai.enqueue({ type: 'error', status: 429 });
    const requestId = `failover-${Date.now()}`;
    const out = await h.openai(token).chat.completions.create(chat(), { headers: { 'x-request-id': requestId } });
    expect(out.choices[0]!.message.content).toBeTruthy();
    const seen = h.upstreams.openai.requests.slice(-2).map((r) => String(r.headers.authorization).replace('Bearer ', ''));
    expect(seen).toEqual([k1, k2]);
    const [row] = await waitForUsage(h.tp, requestId);
    expect(row!.outcome).toBe('ok');

    h.upstreams.openai.enqueue({ type: 'error', status: 500 }, { type: 'error', status: 502 });
    // Both personal keys fail: the 502 reaches the caller (no fallback to team or org keys).
    const before = h.upstreams.openai.requests.length;
    const error: any = await h.openai(token).chat.completions.create(chat()).catch((e) => e);
    expect(error).toBeInstanceOf(APIError);
    expect(error.status).toBe(502);
    expect(h.upstreams.openai.requests.length - before).toBe(2);
  });

  it('streams fail over too, before the first byte reaches the caller', async () => {
    const carol = await h.addUser('carol@example.com');
    const token = await h.tokenFor(carol);
    await h.addKey('openai', { apiKey: `sk-carol-one-${'c'.repeat(24)}`, scope: 'personal', userId: carol.id });
    await h.addKey('openai', { apiKey: `sk-carol-two-${'d'.repeat(24)}`, scope: 'personal', userId: carol.id });
    h.upstreams.openai.enqueue({ type: 'error', status: 503 });
    const stream = await h.openai(token).chat.completions.create({ ...chat(), stream: true });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    expect(text.length).toBeGreaterThan(0);
  });

  it('no usable key: a 400 naming the provider and saying an admin can add one', async () => {
    const error: any = await h.openai().chat.completions.create(chat('mistral:mistral-large-latest')).catch((e) => e);
    expect(error.status).toBe(400);
    expect(error.code).toBe('provider_key_missing');
    expect(error.message).toMatch(/Mistral/);
    expect(error.message).toMatch(/admin/);
  });

  it('an administrator made a member no longer calls through a personal key at an address only administrators may use', async () => {
    const ctx = h.tp.platform.ctx;
    const operator = await operatorActor(ctx.db);
    const dana = await h.addUser('dana@example.com');
    await setUserRole(ctx, operator, dana.id, 'admin');
    const team = await h.addTeam('Dana’s team', [dana.id]);
    await h.addKey('openai', { apiKey: `sk-dana-team-${'t'.repeat(24)}`, scope: 'team', teamId: team });
    // Added by her as an administrator: the mock provider's loopback address is fine for that.
    const admin = (await userActor(ctx.db, dana, null))!;
    const own = await addKey(ctx, admin, { provider: 'openai', apiKey: `sk-dana-loopback-${'l'.repeat(24)}`, scope: 'personal', userId: dana.id, baseUrl: upstreamBase('openai', h.upstreams.openai) });
    const token = await h.tokenFor(dana);
    await h.openai(token).chat.completions.create(chat());
    expect(lastKey()).toBe(`sk-dana-loopback-${'l'.repeat(24)}`);

    await setUserRole(ctx, operator, dana.id, 'member');
    expect(await ctx.db.selectFrom('provider_keys').select(['base_url_policy']).where('id', '=', own.id).where('disabled_at', 'is not', null).executeTakeFirst()).toEqual({ base_url_policy: 'member' });
    await h.openai(token).chat.completions.create(chat());
    expect(lastKey()).toBe(`sk-dana-team-${'t'.repeat(24)}`);
  });
});

describe('model ids', () => {
  it('unqualified and unknown-provider models are 400s listing usable providers', async () => {
    await h.addKey('gemini');
    for (const model of ['gpt-4o-mini', 'nope:model']) {
      const error: any = await h.openai().chat.completions.create(chat(model)).catch((e) => e);
      expect(error.status).toBe(400);
      expect(error.message).toContain('openai');
      expect(error.message).toContain('gemini');
    }
  });

  it('splits at the first colon only', async () => {
    await h.openai().chat.completions.create(chat('openai:ft:gpt-4o-mini:org:custom'));
    expect(h.upstreams.openai.requests.at(-1)!.body.model).toBe('ft:gpt-4o-mini:org:custom');
  });

  it('GET /models lists provider:model ids the caller can reach', async () => {
    const models = await h.openai().models.list();
    const ids = models.data.map((m) => m.id);
    expect(ids).toContain('openai:gpt-4o-mini');
    expect(ids.some((id) => id.startsWith('gemini:'))).toBe(true);
    expect(ids.some((id) => id.startsWith('anthropic:'))).toBe(false);
  });
});

describe('who may call a proxy', () => {
  it('team proxies serve team members only; personal proxies their owner only', async () => {
    const dave = await h.addUser('dave@example.com');
    const erin = await h.addUser('erin@example.com');
    const team = await h.addTeam('Ops', [dave.id]);
    const teamProxy = await h.addProxy({ name: 'ops proxy', scope: 'team', teamId: team });
    const personalProxy = await h.addProxy({ name: 'erin proxy', scope: 'personal', userId: erin.id });
    const daveToken = await h.tokenFor(dave);
    const erinToken = await h.tokenFor(erin);

    await expect(h.openai(daveToken, teamProxy).chat.completions.create(chat())).resolves.toBeTruthy();
    const forbidden: any = await h.openai(erinToken, teamProxy).chat.completions.create(chat()).catch((e) => e);
    expect(forbidden.status).toBe(403);
    await expect(h.openai(erinToken, personalProxy).chat.completions.create(chat())).resolves.toBeTruthy();
    expect(((await h.openai(daveToken, personalProxy).chat.completions.create(chat()).catch((e) => e)) as any).status).toBe(403);
  });

  it('client-credentials clients use their listed proxies and keys only', async () => {
    const other = await h.addProxy({ name: 'other', scope: 'org' });
    const listedKey = await h.addKey('openai', { apiKey: `sk-client-listed-${'z'.repeat(24)}` });
    const token = await h.clientToken({ proxyIds: [h.tp.defaultProxyId], keyIds: [listedKey] });
    await h.openai(token).chat.completions.create(chat());
    expect(lastKey()).toBe(`sk-client-listed-${'z'.repeat(24)}`);
    const error: any = await h.openai(token, other).chat.completions.create(chat()).catch((e) => e);
    expect(error.status).toBe(403);
    const noKey: any = await h.openai(token).chat.completions.create(chat('gemini:gemini-2.0-flash')).catch((e) => e);
    expect(noKey.status).toBe(400);
    expect(noKey.code).toBe('provider_key_missing');
  });

  it('the routes without {proxyId} use the default proxy', async () => {
    const out = await h.openai(undefined, null).chat.completions.create(chat());
    expect(out.choices[0]!.message.content).toBeTruthy();
  });

  it('an unknown proxy is a 404', async () => {
    const error: any = await h.openai(undefined, '00000000-0000-4000-8000-000000000000').chat.completions.create(chat()).catch((e) => e);
    expect(error.status).toBe(404);
  });
});

describe('authentication', () => {
  const post = (path: string, headers: Record<string, string>, body: unknown = chat()) =>
    fetch(`${h.baseURL()}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  it('no token or a bad token: 401 with WWW-Authenticate naming the resource metadata', async () => {
    for (const headers of [{}, { authorization: "Bearer not-a-token" }] as Array<Record<string, string>>) {
      const res = await post('/chat/completions', headers);
      expect(res.status).toBe(401);
      const challenge = res.headers.get('www-authenticate')!;
      expect(challenge).toContain(`resource_metadata="${h.tp.url}/.well-known/oauth-protected-resource/v1/model-router/${h.tp.defaultProxyId}"`);
      expect(challenge).toMatch(/error="/);
      expect(((await res.json()) as any).error.message).toBeTruthy();
    }
    const res = await fetch(`${h.tp.url}/v1/model-router/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(chat()) });
    expect(res.headers.get('www-authenticate')).toContain(`resource_metadata="${h.tp.url}/.well-known/oauth-protected-resource/v1/model-router"`);
  });

  it('a token in the query string is refused, never accepted', async () => {
    const res = await fetch(`${h.baseURL()}/chat/completions?access_token=${encodeURIComponent(h.adminToken)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chat()),
    });
    expect(res.status).toBe(401);
    const both = await fetch(`${h.baseURL()}/chat/completions?access_token=x`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${h.adminToken}` },
      body: JSON.stringify(chat()),
    });
    expect(both.status).toBe(401);
  });

  it('x-api-key works on the Anthropic routes only', async () => {
    const anthropic = await post('/v1/messages', { 'x-api-key': h.adminToken }, { model: 'openai:gpt-4o-mini', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
    expect(anthropic.status).toBe(200);
    const plain = await post('/messages', { 'x-api-key': h.adminToken }, { model: 'openai:gpt-4o-mini', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
    expect(plain.status).toBe(200);
    const openai = await post('/chat/completions', { 'x-api-key': h.adminToken });
    expect(openai.status).toBe(401);
  });
});
