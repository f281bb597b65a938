// Keys that members bring must not open the internal network (issue 13): the base-URL policy
// when a key is added, the public-only check where the connection is made (DNS rebinding
// included), no redirects, no provider error text for members' keys, and member keys that a
// shrunken allow-list no longer allows disabled (not deleted).

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { APIError } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disableMemberKeysOutsidePolicy, readBaseUrlAllowList, updateBaseUrlAllowList } from '../../src/keys/base-url-allow-list.js';
import { BaseUrlNotAllowedError, type KeyActor } from '../../src/keys/base-url-policy.js';
import { testProviderKey } from '../../src/keys/test-provider-key.js';
import { UpstreamClient } from '../../src/router/upstream/upstream-client.js';
import { tableLookup } from '../support/table-lookup.js';
import { addMembership, requirePrimaryOrganization } from '../../src/accounts/organizations.js';
import { createUser } from '../../src/accounts/users.js';
import { addProviderKey, memberKeyPolicy } from '../../src/keys/provider-keys.js';
import { createTestDatabase, startTestPlatform, testEngine } from '../support/test-platform.js';
import { DEFAULT_MOCK_TEXT, type MockUpstream } from '../upstreams/mock-upstream.js';
import { startOpenAIUpstream } from '../upstreams/openai-upstream.js';
import { startRouterHarness, type RouterHarness } from './support/router-harness.js';

const chat = (model = 'openai:gpt-4o-mini') => ({ model, messages: [{ role: 'user' as const, content: 'hi' }] });

// api.openai.com answers a public address once (when the key is added), then loopback (rebinding).
const lookup = tableLookup({
  'api.openai.com': ['162.159.140.245', '127.0.0.1'],
  'generativelanguage.googleapis.com': ['127.0.0.1'],
});

let h: RouterHarness;
let allowed: MockUpstream;
let redirector: Server;
let redirectorUrl = '';

async function member(email: string) {
  const user = await h.addUser(email);
  const actor: KeyActor = { userId: user.id, role: 'member' };
  return { ...user, actor, token: await h.tokenFor(user) };
}

async function openaiError(promise: Promise<unknown>): Promise<APIError> {
  const error = await promise.then(
    () => undefined,
    (e) => e,
  );
  expect(error).toBeInstanceOf(APIError);
  return error as APIError;
}

beforeAll(async () => {
  allowed = await startOpenAIUpstream();
  // A provider that answers every call with a redirect to the harness's own OpenAI mock.
  redirector = createServer((_req, res) => {
    res.writeHead(307, { location: `${h.upstreams.openai.baseUrl}/v1/chat/completions` }).end();
  });
  await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
  redirectorUrl = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}`;
  const allowedHost = new URL(allowed.baseUrl).host;
  h = await startRouterHarness({ KEYWARD_KEY_BASE_URL_ALLOW: `${allowedHost}, ${new URL(redirectorUrl).host}` }, { lookupHost: lookup });
});
afterAll(async () => {
  await h?.close();
  await allowed?.close();
  redirector?.closeAllConnections();
  await new Promise<void>((resolve) => redirector?.close(() => resolve()));
});

const testKey = async (keyId: string) => {
  const ctx = h.tp.platform.ctx;
  const upstream = new UpstreamClient({ connectMs: 2000, idleMs: 5000 }, ctx.lookupHost);
  try {
    return await testProviderKey({ db: ctx.db, box: ctx.box, upstream, defaultAllowList: ctx.config.keyBaseUrlAllow }, { organizationId: h.orgId, keyId });
  } finally {
    await upstream.close();
  }
};

const keysOf = (userId: string) => h.tp.platform.ctx.db.selectFrom('provider_keys').selectAll().where('user_id', '=', userId).execute();

describe(`when a member adds a key (${testEngine()})`, () => {
  it('a loopback address that is not allowed (127.0.0.2) is refused, saying why and what an admin can do; nothing is stored', async () => {
    const m = await member('m-loopback@example.com');
    const adding = h.addKey('openai-compatible', { baseUrl: 'http://127.0.0.2:8080/v1', scope: 'personal', userId: m.id, actor: m.actor });
    const error = await adding.catch((e) => e);
    expect(error).toBeInstanceOf(BaseUrlNotAllowedError);
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/Keys added by members may only use .* or a host an admin has allowed; "127.0.0.2:8080" is neither\./);
    expect(error.message).toContain('An admin can allow that host (KEYWARD_KEY_BASE_URL_ALLOW, or the allowed hosts in the console)');
    expect(await keysOf(m.id)).toEqual([]);
  });

  it('a host name that resolves to loopback is refused: localhost, and an official name the resolver points at 127.0.0.1', async () => {
    const m = await member('m-localhost@example.com');
    await expect(h.addKey('ollama', { baseUrl: null, scope: 'personal', userId: m.id, actor: m.actor })).rejects.toThrow(/"localhost:11434" is neither/);
    await expect(h.addKey('openai', { baseUrl: `http://localhost:${new URL(allowed.baseUrl).port}/v1`, scope: 'personal', userId: m.id, actor: m.actor })).rejects.toThrow(
      BaseUrlNotAllowedError,
    );
    await expect(h.addKey('gemini', { baseUrl: null, scope: 'personal', userId: m.id, actor: m.actor })).rejects.toThrow(
      '"generativelanguage.googleapis.com" resolves to an internal network address',
    );
    expect(await keysOf(m.id)).toEqual([]);
  });

  it('an admin’s key may use any URL (recorded as policy "any"), and works end to end', async () => {
    const admin = await h.tp.platform.ctx.db.selectFrom('users').select('id').where('email', '=', h.tp.admin.email).executeTakeFirstOrThrow();
    const id = await h.addKey('openai', { scope: 'personal', userId: admin.id, actor: { userId: admin.id, role: 'admin' } });
    const row = await h.tp.platform.ctx.db.selectFrom('provider_keys').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.base_url).toBe(`${h.upstreams.openai.baseUrl}/v1`);
    expect(row.base_url_policy).toBe('any');
    const before = h.upstreams.openai.requests.length;
    const completion = await h.openai().chat.completions.create(chat());
    expect(completion.choices[0]?.message.content).toBe(DEFAULT_MOCK_TEXT);
    expect(h.upstreams.openai.requests.length).toBe(before + 1);
  });
});

describe('a member key on a host allowed by KEYWARD_KEY_BASE_URL_ALLOW', () => {
  let m: Awaited<ReturnType<typeof member>>;
  beforeAll(async () => {
    m = await member('m-allowed@example.com');
    await h.addKey('openai', { baseUrl: `${allowed.baseUrl}/v1`, scope: 'personal', userId: m.id, actor: m.actor });
  });

  it('is stored as a member key and works end to end (chat and the model list)', async () => {
    expect((await keysOf(m.id)).map((k) => k.base_url_policy)).toEqual(['member']);
    const before = allowed.requests.length;
    const completion = await h.openai(m.token).chat.completions.create(chat());
    expect(completion.choices[0]?.message.content).toBe(DEFAULT_MOCK_TEXT);
    const models = await h.openai(m.token).models.list();
    expect(models.data.map((model) => model.id)).toContain('openai:gpt-4o-mini');
    expect(allowed.requests.length).toBe(before + 2);
  });

  it('the provider’s error text never reaches the member: only the mapped status, code and a short message', async () => {
    allowed.enqueue({ type: 'error', status: 400, message: 'db-01.internal:5432 said: relation "users" does not exist' });
    const error = await openaiError(h.openai(m.token).chat.completions.create(chat()));
    expect(error.status).toBe(400);
    expect(error.message).not.toContain('db-01');
    expect(error.message).toContain('OpenAI: upstream answered HTTP 400');
  });
});

describe('where the connection is made', () => {
  it('a rebinding name (public when added, loopback at call time) is refused at call time, with no connection made', async () => {
    const m = await member('m-rebind@example.com');
    const keyId = await h.addKey('openai', { baseUrl: null, scope: 'personal', userId: m.id, actor: m.actor });
    const callsBefore = lookup.calls.filter((name) => name === 'api.openai.com').length;
    const error = await openaiError(h.openai(m.token).chat.completions.create(chat()));
    expect(error.status).toBe(502);
    expect(error.code).toBe('base_url_refused');
    expect(error.message).toContain("OpenAI: this key's base URL leads to an internal network address, which keys added by members may not reach; no connection was made.");
    expect(error.message).not.toContain('127.0.0.1');
    expect(lookup.calls.filter((name) => name === 'api.openai.com').length).toBeGreaterThan(callsBefore);
    // The model list asks through the same check: no models from there, and no error either.
    const models = await h.openai(m.token).models.list();
    expect(models.data.filter((model) => model.id.startsWith('openai:'))).toEqual([]);
    // And so does the console's Test.
    expect(await testKey(keyId)).toEqual({
      ok: false,
      message: "Refused: this key's base URL leads to an internal network address, which keys added by members may not reach. No connection was made.",
    });
  });

  it('a redirect from the provider is not followed', async () => {
    const m = await member('m-redirect@example.com');
    await h.addKey('openai', { baseUrl: `${redirectorUrl}/v1`, scope: 'personal', userId: m.id, actor: m.actor });
    const before = h.upstreams.openai.requests.length;
    const error = await openaiError(h.openai(m.token).chat.completions.create(chat()));
    expect(error.status).toBe(502);
    expect(h.upstreams.openai.requests.length).toBe(before);
    // Admins' keys go through the same client: not followed either.
    const adminError = await openaiError(
      h.addKey('groq', { baseUrl: redirectorUrl }).then(() => h.openai().chat.completions.create(chat('groq:llama-3.1-8b-instant'))),
    );
    expect(adminError.status).toBe(502);
    expect(h.upstreams.openai.requests.length).toBe(before);
  });
});

describe("the console's Test (lists models with the key)", () => {
  it('says in words whether the key works', async () => {
    // Groq keys on the OpenAI mock: OpenAI keys here are personal ones, and an org key would stand behind them.
    expect(await testKey(await h.addKey('groq'))).toEqual({ ok: true, message: 'The key works: Groq lists 4 models.' });
    expect(await testKey(await h.addKey('groq', { apiKey: 'sk-invalid' }))).toEqual({ ok: false, message: 'Groq refused the key (HTTP 401).' });
    expect(await testKey('no-such-key')).toEqual({ ok: false, message: 'This key does not exist.' });
  });
});

describe('when the allow-list changes', () => {
  it('an admin’s list overrides the variable; bad entries are refused', async () => {
    const ctx = h.tp.platform.ctx;
    expect((await readBaseUrlAllowList(ctx.db, h.orgId, ctx.config.keyBaseUrlAllow)).source).toBe('environment');
    await expect(updateBaseUrlAllowList(ctx.db, ctx.changes, { organizationId: h.orgId, hosts: ['http://x'], defaultHosts: [] })).rejects.toThrow(/is not a host or host:port/);
    const m = await member('m-override@example.com');
    const { allowList } = await updateBaseUrlAllowList(ctx.db, ctx.changes, {
      organizationId: h.orgId,
      hosts: [...ctx.config.keyBaseUrlAllow, '127.0.0.2:8080'],
      defaultHosts: ctx.config.keyBaseUrlAllow,
    });
    expect(allowList).toEqual({ hosts: [...ctx.config.keyBaseUrlAllow, '127.0.0.2:8080'], source: 'organization' });
    await h.addKey('openai-compatible', { baseUrl: 'http://127.0.0.2:8080/v1', scope: 'personal', userId: m.id, actor: m.actor });
  });

  it('member keys it no longer allows are disabled with the reason kept for their owner, not deleted; official ones stay', async () => {
    const ctx = h.tp.platform.ctx;
    const m = await member('m-shrink@example.com');
    const keyId = await h.addKey('openai', { baseUrl: `${allowed.baseUrl}/v1`, scope: 'personal', userId: m.id, actor: m.actor });
    expect((await h.openai(m.token).chat.completions.create(chat())).choices[0]?.message.content).toBe(DEFAULT_MOCK_TEXT);

    const { disabled } = await updateBaseUrlAllowList(ctx.db, ctx.changes, { organizationId: h.orgId, hosts: [], defaultHosts: ctx.config.keyBaseUrlAllow });
    const mine = disabled.find((key) => key.id === keyId);
    expect(mine).toMatchObject({ userId: m.id, provider: 'openai', organizationId: h.orgId });
    expect(mine?.reason).toContain(`"${new URL(allowed.baseUrl).host}" is neither`);
    const [row] = await keysOf(m.id);
    expect(row?.disabled_at).not.toBeNull();
    expect(row?.disabled_reason).toMatch(/^This key was disabled because its base URL is no longer allowed\. /);
    // The rebinding member's key is on an official endpoint: kept.
    const official = await ctx.db.selectFrom('provider_keys').select('disabled_at').where('base_url', 'is', null).where('base_url_policy', '=', 'member').execute();
    expect(official.map((k) => k.disabled_at)).toEqual([null]);

    const error = await openaiError(h.openai(m.token).chat.completions.create(chat()));
    expect(error.status).toBe(400);
    expect(error.code).toBe('provider_key_missing');

    // Back to the variable: nothing is re-enabled behind the owner's back, and a second sweep finds nothing.
    await updateBaseUrlAllowList(ctx.db, ctx.changes, { organizationId: h.orgId, hosts: null, defaultHosts: ctx.config.keyBaseUrlAllow });
    expect((await keysOf(m.id))[0]?.disabled_at).not.toBeNull();
    expect(await disableMemberKeysOutsidePolicy(ctx.db, ctx.changes, { defaultHosts: ctx.config.keyBaseUrlAllow })).toEqual([]);
  });

  it('instances sweeping at the same time disable each key once', async () => {
    const ctx = h.tp.platform.ctx;
    const m = await member('m-concurrent@example.com');
    const keyIds = [];
    for (let i = 0; i < 3; i += 1) keyIds.push(await h.addKey('openai', { baseUrl: `${allowed.baseUrl}/v1`, scope: 'personal', userId: m.id, actor: m.actor }));
    // The list shrinks on another instance: saved, but this one's sweep not yet run.
    await ctx.db
      .insertInto('organization_settings')
      .values({ organization_id: h.orgId, key_base_url_allow: '[]', updated_at: Date.now() })
      .onConflict((oc) => oc.column('organization_id').doUpdateSet({ key_base_url_allow: '[]' }))
      .execute();
    const sweeps = await Promise.all([1, 2, 3, 4].map(() => disableMemberKeysOutsidePolicy(ctx.db, ctx.changes, { defaultHosts: ctx.config.keyBaseUrlAllow })));
    expect(sweeps.flat().map((key) => key.id).sort()).toEqual([...keyIds].sort());
  });
});

describe('at start', () => {
  it('member keys that KEYWARD_KEY_BASE_URL_ALLOW no longer allows are disabled, with the reason', async () => {
    const database = await createTestDatabase();
    try {
      const first = await startTestPlatform({ KEYWARD_KEY_BASE_URL_ALLOW: 'gpu-box:11434' }, database);
      const ctx = first.platform.ctx;
      const org = await requirePrimaryOrganization(ctx.db);
      const user = await createUser(ctx.db, { email: 'restart-member@example.com', password: 'a long enough test password' });
      await addMembership(ctx.db, org.id, user.id, 'member');
      const actor: KeyActor = { userId: user.id, role: 'member' };
      const input = { organizationId: org.id, provider: 'ollama', apiKey: '', scope: 'personal' as const, userId: user.id, actor };
      const listed = await addProviderKey(ctx.db, ctx.box, { ...input, baseUrl: 'http://gpu-box:11434/v1' }, memberKeyPolicy(ctx));
      const official = await addProviderKey(ctx.db, ctx.box, { ...input, provider: 'anthropic', apiKey: 'sk-ant-restart-0000000000000' }, memberKeyPolicy(ctx));
      await first.stop();

      const second = await startTestPlatform({ KEYWARD_KEY_BASE_URL_ALLOW: '' }, database);
      try {
        const rows = await second.platform.ctx.db.selectFrom('provider_keys').selectAll().where('user_id', '=', user.id).execute();
        const byId = new Map(rows.map((row) => [row.id, row]));
        expect(byId.get(listed.id)?.disabled_at).not.toBeNull();
        expect(byId.get(listed.id)?.disabled_reason).toContain('"gpu-box:11434" is neither');
        expect(byId.get(official.id)?.disabled_at).toBeNull();
        expect(second.logs.some((line) => line.includes(listed.id) && line.includes('no longer allowed'))).toBe(true);
      } finally {
        await second.stop();
      }
    } finally {
      await database.drop();
    }
  });
});
