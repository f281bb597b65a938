// The console as people use it, over HTTP: an admin adds an org key and tests it, creates a proxy
// and a confidential client whose secret works at the router, creates a member; the member adds
// a personal key, sees the org key read-only, is refused a custom base URL; the admin disables
// the member and the member's app token stops working. Hostile names render as text.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientCredentialsToken, userTokens } from '../support/oauth-client.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { CookieJar, formToken, page, postForm, signIn } from './console-session.js';

const ORG_KEY = 'sk-org-secret-abcdefghijklmnop-WXYZ';
const MEMBER = { email: 'casey@example.com', password: 'casey has a long password' };
const HOSTILE = `<script>alert(1)</script>"' \u202Eevil`;

let tp: TestPlatform;
let upstream: Server;
let upstreamUrl: string;
let admin: CookieJar;

beforeAll(async () => {
  // A provider's model list that accepts one key only.
  upstream = createServer((req, res) => {
    const ok = req.headers.authorization === `Bearer ${ORG_KEY}`;
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify(ok ? { object: 'list', data: [{ id: 'model-a' }, { id: 'model-b' }] } : { error: { message: 'bad key' } }));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
  tp = await startTestPlatform();
  admin = await signIn(tp, tp.admin.email, tp.admin.password);
}, 60_000);

afterAll(async () => {
  await tp?.close();
  upstream?.close();
});

const post = async (jar: CookieJar, path: string, fields: Record<string, string>) =>
  postForm(jar, `${tp.url}${path}`, { ...fields, csrf: await formToken(tp, jar) });

const routerStatus = async (token: string, proxyId = tp.defaultProxyId) => {
  const response = await fetch(`${tp.url}/v1/model-router/${proxyId}/models`, { headers: { authorization: `Bearer ${token}` } });
  await response.body?.cancel();
  return response.status;
};

async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const started = Date.now();
  while (Date.now() - started < ms) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not within ${ms} ms`);
}

const dataField = (html: string, name: string) => new RegExp(`data-field="${name}">([^<]+)<`).exec(html)?.[1];

describe('keys', () => {
  let keyId: string;
  it('an admin adds an org key; the page shows its last 4 characters, never the key', async () => {
    const added = await post(admin, '/console/keys', { provider: 'openai', api_key: ORG_KEY, base_url: upstreamUrl, scope: 'org', team: '' });
    expect(added.status).toBe(303);
    expect(added.location).toBe('/console/keys?done=added');
    const keys = await page(admin, `${tp.url}/console/keys?done=added`);
    expect(keys.text).toContain('Key added.');
    expect(keys.text).toContain('…WXYZ');
    expect(keys.text).not.toContain(ORG_KEY);
    keyId = /data-key-id="([^"]+)"/.exec(keys.text)![1]!;
  });

  it('Test says in words whether the provider took the key', async () => {
    const good = await post(admin, `/console/keys/${keyId}/test`, {});
    expect(good.status).toBe(200);
    expect(good.text).toContain('The key works: OpenAI lists 2 models.');
    const rotated = await post(admin, `/console/keys/${keyId}/rotate`, { api_key: 'sk-wrong-0123456789abcdef-QRST' });
    expect(rotated.status).toBe(303);
    const bad = await post(admin, `/console/keys/${keyId}/test`, {});
    expect(bad.text).toContain('OpenAI refused the key (HTTP 401).');
    expect(bad.text).toContain('…QRST');
    await post(admin, `/console/keys/${keyId}/rotate`, { api_key: ORG_KEY });
  });

  it('an empty API key is refused next to its field, in words', async () => {
    const response = await post(admin, '/console/keys', { provider: 'openai', api_key: '', scope: 'org' });
    expect(response.status).toBe(400);
    expect(response.text).toMatch(/<p class="field-error" id="api_key-error" role="alert">OpenAI needs an API key<\/p>/);
  });

  it('disable, enable, make primary and delete answer 303 and are audited', async () => {
    for (const action of ['disable', 'enable', 'primary']) expect((await post(admin, `/console/keys/${keyId}/${action}`, {})).status).toBe(303);
    await post(admin, '/console/keys', { provider: 'anthropic', api_key: 'sk-ant-spare-0123456789abcdef', scope: 'org' });
    const spare = /data-key-id="([^"]+)">\s*<td>anthropic/.exec((await page(admin, `${tp.url}/console/keys`)).text)![1]!;
    expect((await post(admin, `/console/keys/${spare}/delete`, {})).status).toBe(303);
    expect((await page(admin, `${tp.url}/console/keys`)).text).not.toContain(spare);
    const audit = await page(admin, `${tp.url}/console/audit`);
    for (const action of ['key.added', 'key.rotated', 'key.disabled', 'key.enabled', 'key.made_primary', 'key.deleted']) expect(audit.text).toContain(action);
    expect(audit.text).toContain(tp.admin.email);
    expect(audit.text).toContain('127.0.0.1');
    expect(audit.text).not.toContain(ORG_KEY);
    expect(audit.text).not.toContain('sk-wrong');
  });
});

describe('proxies and clients', () => {
  let proxyId: string;
  it('an admin creates a proxy and a client; the secret, shown once, gets a token that works on that proxy', async () => {
    const created = await post(admin, '/console/proxies', { name: 'Apps proxy', scope: 'org', team: '' });
    expect(created.status).toBe(303);
    proxyId = /\/console\/proxies\/([^?]+)\?done=created/.exec(created.location!)![1]!;
    const client = await post(admin, `/console/proxies/${proxyId}/clients`, { name: 'Nightly job' });
    expect(client.status).toBe(200);
    const credentials = { client_id: dataField(client.text, 'client_id')!, client_secret: dataField(client.text, 'client_secret')! };
    expect(credentials.client_secret).toMatch(/^kws_/);
    const token = await clientCredentialsToken(tp, credentials);
    expect(await routerStatus(token.access_token, proxyId)).toBe(200);
    // Shown once: the proxy page afterwards lists the client without its secret.
    const again = await page(admin, `${tp.url}/console/proxies/${proxyId}`);
    expect(again.text).toContain(credentials.client_id);
    expect(again.text).not.toContain(credentials.client_secret);

    const rotated = await post(admin, `/console/proxies/${proxyId}/clients/${credentials.client_id}/rotate`, {});
    const fresh = dataField(rotated.text, 'client_secret')!;
    expect(fresh).not.toBe(credentials.client_secret);
    await expect(clientCredentialsToken(tp, credentials)).rejects.toThrow();
    expect(await routerStatus((await clientCredentialsToken(tp, { ...credentials, client_secret: fresh })).access_token, proxyId)).toBe(200);

    expect((await post(admin, `/console/proxies/${proxyId}/clients/${credentials.client_id}/disable`, {})).status).toBe(303);
    await eventually(async () => (await routerStatus(token.access_token, proxyId)) === 401);
  });

  it('rename and delete; the default proxy cannot be deleted', async () => {
    expect((await post(admin, `/console/proxies/${proxyId}/rename`, { name: 'Renamed proxy' })).status).toBe(303);
    expect((await page(admin, `${tp.url}/console/proxies`)).text).toContain('Renamed proxy');
    const refused = await post(admin, `/console/proxies/${tp.defaultProxyId}/delete`, {});
    expect(refused.status).toBe(409);
    expect(refused.text).toContain('cannot be deleted');
    expect((await post(admin, `/console/proxies/${proxyId}/delete`, {})).status).toBe(303);
    expect((await page(admin, `${tp.url}/console/proxies`)).text).not.toContain('Renamed proxy');
  });
});

describe('a proxy’s allowed models', () => {
  it('the router refuses other models with a clear 403 and lists only the allowed ones', async () => {
    const created = await post(admin, '/console/proxies', { name: 'Only model-a', scope: 'org', team: '' });
    const proxyPath = created.location!.split('?')[0]!;
    const proxyId = proxyPath.split('/').pop()!;
    const unknown = await post(admin, `${proxyPath}/models`, { allowed_models: 'openai:model-a\nnope:thing' });
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain('id="allowed-models-error"');
    expect(unknown.text).toContain('unknown provider');
    expect((await post(admin, `${proxyPath}/models`, { allowed_models: 'openai:model-a' })).status).toBe(303);
    const client = await post(admin, `${proxyPath}/clients`, { name: 'Allow-list check' });
    const token = (await clientCredentialsToken(tp, { client_id: dataField(client.text, 'client_id')!, client_secret: dataField(client.text, 'client_secret')! })).access_token;
    const refusedCall = await fetch(`${tp.url}/v1/model-router/${proxyId}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'anthropic:claude-3-5-haiku', messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(refusedCall.status).toBe(403);
    expect(((await refusedCall.json()) as { error: { message: string } }).error.message).toBe(
      'This LLM proxy does not allow "anthropic:claude-3-5-haiku". Allowed here: openai:model-a.',
    );
    const models = await fetch(`${tp.url}/v1/model-router/${proxyId}/models`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await models.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id)).toEqual(['openai:model-a']);
  });
});

describe('members', () => {
  let member: CookieJar;
  it('an admin creates a member; a weak password is refused next to its field', async () => {
    const weak = await post(admin, '/console/users', { email: MEMBER.email, password: 'short', role: 'member' });
    expect(weak.status).toBe(400);
    expect(weak.text).toContain('id="password-error"');
    const created = await post(admin, '/console/users', { ...MEMBER, role: 'member' });
    expect(created.status).toBe(303);
    expect((await page(admin, `${tp.url}/console/users`)).text).toContain(MEMBER.email);
    member = await signIn(tp, MEMBER.email, MEMBER.password);
  });

  it('the member adds a personal key, sees the org key read-only, and may not set a custom base URL', async () => {
    const keys = await page(member, `${tp.url}/console/keys`);
    expect(keys.text).toContain('<option value="personal">personal</option>');
    expect(keys.text).not.toContain('<option value="org"');
    expect(keys.text).toContain('Organization and team keys you may use');
    expect(keys.text).toContain('…WXYZ');
    expect(keys.text).not.toContain('data-key-id');
    const custom = await post(member, '/console/keys', { provider: 'openai', api_key: 'sk-casey-0123456789abcdef', base_url: 'http://10.0.0.5/v1', scope: 'personal' });
    expect(custom.status).toBe(400);
    expect(custom.text).toContain('id="base_url-error"');
    expect(custom.text).toContain('official address');
    const added = await post(member, '/console/keys', { provider: 'openai', api_key: 'sk-casey-0123456789abcdef', base_url: '', scope: 'personal' });
    expect(added.status).toBe(303);
    const after = await page(member, `${tp.url}/console/keys`);
    expect(after.text).toContain('…cdef');
    expect((await page(admin, `${tp.url}/console/keys`)).text).toContain(MEMBER.email);
  });

  it('disabling the member ends their session and, within 5 s, their app token at the router', async () => {
    const tokens = await userTokens(tp, { email: MEMBER.email, password: MEMBER.password });
    expect(await routerStatus(tokens.access_token)).toBe(200);
    const userId = /data-user-id="([^"]+)"><td>casey@example.com/.exec((await page(admin, `${tp.url}/console/users`)).text)![1]!;
    expect((await post(admin, `/console/users/${userId}/disable`, {})).status).toBe(303);
    await eventually(async () => (await routerStatus(tokens.access_token)) !== 200);
    expect((await page(member, `${tp.url}/console/keys`)).location).toMatch(/^\/sign-in/);
  });

  it('the last administrator cannot be demoted', async () => {
    const adminId = new RegExp(`data-user-id="([^"]+)"><td>${tp.admin.email}`).exec((await page(admin, `${tp.url}/console/users`)).text)![1]!;
    const refused = await post(admin, `/console/users/${adminId}/role`, { role: 'member' });
    expect(refused.status).toBe(409);
    expect(refused.text).toContain('last administrator');
  });
});

describe('apps', () => {
  it('an admin sees a connected app and blocks it: its token stops working and it cannot connect again', async () => {
    const tokens = await userTokens(tp, { clientName: 'Notes app' });
    expect(await routerStatus(tokens.access_token)).toBe(200);
    const apps = await page(admin, `${tp.url}/console/apps`);
    const row = new RegExp(`<tr data-client-id="${tokens.client.client_id}"><td>Notes app[\\s\\S]*?</tr>`).exec(apps.text)![0];
    expect(row).toContain('self-registered');
    expect(row).toContain('localhost:5174');
    expect(row).toMatch(/<td>1<\/td>/);
    expect((await post(admin, `/console/apps/${tokens.client.client_id}/block`, {})).status).toBe(303);
    await eventually(async () => (await routerStatus(tokens.access_token)) === 401);
    const again = await fetch(
      `${tp.url}/api/auth/oauth2/authorize?${new URLSearchParams({ client_id: tokens.client.client_id, response_type: 'code', redirect_uri: 'http://localhost:5174/oauth/callback', scope: 'llm:proxy', code_challenge: 'x'.repeat(43), code_challenge_method: 'S256' })}`,
      { redirect: 'manual' },
    );
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('This app is blocked');
    expect((await page(admin, `${tp.url}/console/audit`)).text).toContain('app.blocked');
  });
});

describe('one-time password links', () => {
  it('a user created without a password gets an invitation link that works once', async () => {
    const created = await post(admin, '/console/users', { email: 'invited@example.com', password: '', role: 'member' });
    expect(created.status).toBe(200);
    const link = /data-field="link">([^<]+)</.exec(created.text)![1]!;
    expect(link).toMatch(new RegExp(`^${tp.url}/password/[\\w-]{43}$`));
    expect(await tp.platform.ctx.db.selectFrom('password_links').select('token_hash').execute()).not.toContainEqual({ token_hash: link.split('/').pop() });
    const jar = new CookieJar();
    const form = await page(jar, link);
    expect(form.status).toBe(200);
    expect(form.text).toContain('invited@example.com');
    const csrf = /name="csrf" value="([^"]+)"/.exec(form.text)![1]!;
    const weak = await postForm(jar, link, { csrf, password: 'short' });
    expect(weak.status).toBe(400);
    expect(weak.text).toContain('id="password-error"');
    const set = await postForm(jar, link, { csrf, password: 'invited person chose this' });
    expect(set.status).toBe(303);
    expect(set.location).toMatch(/^\/sign-in/);
    await signIn(tp, 'invited@example.com', 'invited person chose this');
    expect((await page(jar, link)).status).toBe(410);
    expect((await postForm(jar, link, { csrf, password: 'someone else tries again' })).status).toBe(410);
  });

  it('a password link for an existing person replaces their older link', async () => {
    const users = (await page(admin, `${tp.url}/console/users`)).text;
    const userId = /data-user-id="([^"]+)"><td>invited@example.com/.exec(users)![1]!;
    const first = /data-field="link">([^<]+)</.exec((await post(admin, `/console/users/${userId}/link`, {})).text)![1]!;
    const second = /data-field="link">([^<]+)</.exec((await post(admin, `/console/users/${userId}/link`, {})).text)![1]!;
    expect((await page(admin, first)).status).toBe(410);
    expect((await page(admin, second)).status).toBe(200);
    expect((await page(admin, `${tp.url}/console/audit`)).text).toContain('user.reset_link_issued');
  });
});

describe('hostile names', () => {
  it('render as text on every page that shows them', async () => {
    expect((await post(admin, '/console/teams', { name: HOSTILE })).status).toBe(303);
    const created = await post(admin, '/console/proxies', { name: HOSTILE, scope: 'org', team: '' });
    const proxyPath = created.location!.split('?')[0]!;
    await post(admin, `${proxyPath}/clients`, { name: HOSTILE });
    const badEmail = await post(admin, '/console/users', { email: HOSTILE, password: 'a long enough password', role: 'member' });
    expect(badEmail.status).toBe(400);
    const escaped = '&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39; \u202Eevil';
    for (const path of ['/console/teams', '/console/proxies', proxyPath, '/console/apps', '/console/audit', '/console/keys']) {
      const shown = await page(admin, `${tp.url}${path}`);
      expect(shown.status).toBe(200);
      expect(shown.text).not.toContain('<script>alert(1)');
      if (path !== '/console/keys') expect(shown.text).toContain(escaped);
    }
    expect(badEmail.text).not.toContain('<script>alert(1)');
    expect(badEmail.text).toContain(escaped);
  });
});

describe('teams', () => {
  it('an admin creates a team and adds a member', async () => {
    expect((await post(admin, '/console/teams', { name: 'Platform' })).status).toBe(303);
    const teams = await page(admin, `${tp.url}/console/teams`);
    const teamId = /data-team-id="([^"]+)"><h2 id="team-[^"]+">Platform</.exec(teams.text)![1]!;
    const adminId = /<option value="([^"]+)">admin@example.com/.exec(teams.text)![1]!;
    expect((await post(admin, `/console/teams/${teamId}/members`, { user: adminId })).status).toBe(303);
    const after = await page(admin, `${tp.url}/console/teams`);
    expect(after.text).toMatch(new RegExp(`id="team-${teamId}">Platform</h2>\\s*<table><thead><tr><th>Member</th><th>Actions</th></tr></thead><tbody><tr><td>admin@example.com`));
  });

  it('Remove takes a member out once; removing someone no longer in the team is said in words and audits nothing', async () => {
    const teams = await page(admin, `${tp.url}/console/teams`);
    const teamId = /data-team-id="([^"]+)"><h2 id="team-[^"]+">Platform</.exec(teams.text)![1]!;
    const adminId = (await tp.platform.ctx.db.selectFrom('users').select('id').where('email_normalized', '=', tp.admin.email).executeTakeFirstOrThrow()).id;
    expect((await post(admin, `/console/teams/${teamId}/remove`, { user: adminId })).location).toBe('/console/teams?done=removed');
    const again = await post(admin, `/console/teams/${teamId}/remove`, { user: adminId });
    expect(again.status).toBe(400);
    expect(again.text).toContain('that user is not a member of team &quot;Platform&quot;');
    const removals = await tp.platform.ctx.db.selectFrom('audit_log').select('id').where('action', '=', 'team.member_removed').where('target_id', '=', teamId).execute();
    expect(removals).toHaveLength(1);
  });
});
