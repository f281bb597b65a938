// Issue 13 in the console: a member's refused base URL is said next to the Base URL field; an
// admin's key may use any URL; admins edit the allowed hosts for members' keys, which disables
// (with audit events and a notice for the owner) member keys the new list no longer allows;
// Enable checks again; the start-up sweep audits what it disables too. An administrator's Disable
// of a member's key, and an administrator made a member, hold the same way.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, startTestPlatform, testEngine, type TestPlatform } from '../support/test-platform.js';
import { CookieJar, formToken, page, postForm, signIn } from './console-session.js';

const MEMBER = { email: 'robin@example.com', password: 'robin has a long password' };

let upstream: Server;
let upstreamUrl = '';
let upstreamHost = '';

beforeAll(async () => {
  // A provider's model list that takes any key.
  upstream = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ object: 'list', data: [{ id: 'model-a' }] }));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamHost = `127.0.0.1:${(upstream.address() as AddressInfo).port}`;
  upstreamUrl = `http://${upstreamHost}/v1`;
});
afterAll(() => {
  upstream?.close();
});

const post = async (tp: TestPlatform, jar: CookieJar, path: string, fields: Record<string, string>) =>
  postForm(jar, `${tp.url}${path}`, { ...fields, csrf: await formToken(tp, jar) });

async function withMember(tp: TestPlatform) {
  const admin = await signIn(tp, tp.admin.email, tp.admin.password);
  expect((await post(tp, admin, '/console/users', { ...MEMBER, role: 'member' })).status).toBe(303);
  return { admin, member: await signIn(tp, MEMBER.email, MEMBER.password) };
}

const memberKeys = (tp: TestPlatform) =>
  tp.platform.ctx.db
    .selectFrom('provider_keys')
    .innerJoin('users', 'users.id', 'provider_keys.user_id')
    .select(['provider_keys.id', 'provider_keys.disabled_at', 'provider_keys.disabled_reason', 'provider_keys.base_url'])
    .where('users.email', '=', MEMBER.email)
    .execute();

const auditOf = (tp: TestPlatform, action: string) =>
  tp.platform.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('created_at').execute();

describe(`members' keys and the allowed hosts in the console (${testEngine()})`, () => {
  let tp: TestPlatform;
  let admin: CookieJar;
  let member: CookieJar;
  beforeAll(async () => {
    tp = await startTestPlatform({ KEYWARD_KEY_BASE_URL_ALLOW: upstreamHost });
    ({ admin, member } = await withMember(tp));
  }, 60_000);
  afterAll(async () => {
    await tp?.close();
  });

  it('a member’s key at 127.0.0.2 is refused next to the Base URL field, saying why and what an admin can do', async () => {
    const refused = await post(tp, member, '/console/keys', { provider: 'openai-compatible', api_key: 'sk-robin-0123456789abcdef', base_url: 'http://127.0.0.2:8080/v1', scope: 'personal' });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('id="base_url-error"');
    expect(refused.text).toMatch(/&quot;127\.0\.0\.2:8080&quot; is neither/);
    expect(refused.text).toContain('An admin can allow that host');
    expect(refused.text).toContain('value="http://127.0.0.2:8080/v1"');
    expect(await memberKeys(tp)).toEqual([]);
  });

  it('a member’s key on a host in KEYWARD_KEY_BASE_URL_ALLOW is added, and Test reaches it', async () => {
    const added = await post(tp, member, '/console/keys', { provider: 'openai-compatible', api_key: 'sk-robin-0123456789abcdef', base_url: upstreamUrl, scope: 'personal' });
    expect(added.status).toBe(303);
    const [key] = await memberKeys(tp);
    expect(key?.base_url).toBe(upstreamUrl);
    const tested = await post(tp, member, `/console/keys/${key!.id}/test`, {});
    expect(tested.status).toBe(200);
    expect(tested.text).toContain('notice ok');
  });

  it('an admin’s key may use any URL', async () => {
    const added = await post(tp, admin, '/console/keys', { provider: 'openai-compatible', api_key: 'sk-admin-0123456789abcdef', base_url: 'http://127.0.0.2:8080/v1', scope: 'org' });
    expect(added.status).toBe(303);
    expect((await page(admin, `${tp.url}/console/keys`)).text).toContain('http://127.0.0.2:8080/v1');
  });

  it('an admin sees the allowed hosts in a labelled field; a bad entry is refused next to it', async () => {
    const keys = (await page(admin, `${tp.url}/console/keys`)).text;
    expect(keys).toContain('<label for="allowed_hosts">Allowed hosts for members’ keys</label>');
    expect(keys).toContain(`value="${upstreamHost}"`);
    expect(keys).toContain('Save allowed hosts</button>');
    const bad = await post(tp, admin, '/console/keys/allowed-hosts', { allowed_hosts: 'http://x/' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('id="allowed_hosts-error"');
    expect(await tp.platform.ctx.db.selectFrom('organization_settings').select('key_base_url_allow').executeTakeFirst()).toBeUndefined();
  });

  it('narrowing the list disables the member’s key, audits the change and each key, and the member sees why', async () => {
    const saved = await post(tp, admin, '/console/keys/allowed-hosts', { allowed_hosts: 'llm.example.net' });
    expect(saved.status).toBe(303);
    expect(saved.location).toContain('policy_disabled=1');
    expect((await page(admin, `${tp.url}${saved.location}`)).text).toContain('1 member key was disabled');
    const [key] = await memberKeys(tp);
    expect(key?.disabled_at).not.toBeNull();
    expect(key?.disabled_reason).toContain(`"${upstreamHost}" is neither`);
    const [listChange] = await auditOf(tp, 'key_base_url_allow.updated');
    expect(listChange).toMatchObject({ actor_label: tp.admin.email, detail: 'llm.example.net' });
    const disabled = (await auditOf(tp, 'key.disabled')).filter((e) => e.target_id === key!.id);
    expect(disabled).toHaveLength(1);
    expect(disabled[0]).toMatchObject({ actor_label: tp.admin.email, detail: `base URL no longer allowed: ${upstreamUrl}` });
    expect(JSON.stringify(await auditOf(tp, 'key.disabled'))).not.toContain('sk-robin');
    const keys = (await page(member, `${tp.url}/console/keys`)).text;
    expect(keys).toContain(`data-disabled-key="${key!.id}"`);
    expect(keys).toContain('This key was disabled because its base URL is no longer allowed.');
    // The member's hint names what is allowed now.
    expect(keys).toContain('llm.example.net');
  });

  it('Enable is refused in words while the base URL is not allowed, and works once it is again', async () => {
    const [key] = await memberKeys(tp);
    const refused = await post(tp, member, `/console/keys/${key!.id}/enable`, {});
    expect(refused.status).toBe(400);
    expect(refused.text).toMatch(/&quot;127\.0\.0\.1:\d+&quot; is neither/);
    expect((await memberKeys(tp))[0]?.disabled_at).not.toBeNull();
    expect((await post(tp, admin, '/console/keys/allowed-hosts', { allowed_hosts: `llm.example.net, ${upstreamHost}` })).status).toBe(303);
    expect((await post(tp, member, `/console/keys/${key!.id}/enable`, {})).location).toBe('/console/keys?done=enabled');
    const [enabled] = await memberKeys(tp);
    expect(enabled).toMatchObject({ disabled_at: null, disabled_reason: null });
  });

  it('an administrator’s Disable of the member’s key holds: the member sees why, and their Enable is refused in words', async () => {
    const [key] = await memberKeys(tp);
    expect((await post(tp, admin, `/console/keys/${key!.id}/disable`, {})).status).toBe(303);
    const keys = (await page(member, `${tp.url}/console/keys`)).text;
    expect(keys).toContain(`data-disabled-key="${key!.id}"`);
    expect(keys).toContain('An administrator disabled this key; only an administrator can enable it again.');
    const refused = await post(tp, member, `/console/keys/${key!.id}/enable`, {});
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('An administrator disabled this key: ask an administrator to enable it again.');
    expect((await memberKeys(tp))[0]?.disabled_at).not.toBeNull();
    expect((await post(tp, admin, `/console/keys/${key!.id}/enable`, {})).location).toBe('/console/keys?done=enabled');
    expect((await memberKeys(tp))[0]).toMatchObject({ disabled_at: null, disabled_reason: null });
    expect((await page(member, `${tp.url}/console/keys`)).text).not.toContain(`data-disabled-key="${key!.id}"`);
  });

  it('an administrator made a member finds their key at an address members may not use disabled, and why', async () => {
    const former = { email: 'kim@example.com', password: 'kim has a long password' };
    expect((await post(tp, admin, '/console/users', { ...former, role: 'admin' })).status).toBe(303);
    const kim = await signIn(tp, former.email, former.password);
    expect((await post(tp, kim, '/console/keys', { provider: 'openai-compatible', api_key: 'sk-kim-0123456789abcdef', base_url: 'http://127.0.0.2:8080/v1', scope: 'personal' })).status).toBe(303);
    const db = tp.platform.ctx.db;
    const user = await db.selectFrom('users').select('id').where('email_normalized', '=', former.email).executeTakeFirstOrThrow();
    expect((await post(tp, admin, `/console/users/${user.id}/role`, { role: 'member' })).status).toBe(303);
    const key = await db.selectFrom('provider_keys').select(['id', 'base_url_policy', 'disabled_at']).where('user_id', '=', user.id).executeTakeFirstOrThrow();
    expect(key.base_url_policy).toBe('member');
    expect(key.disabled_at).not.toBeNull();
    const keys = (await page(kim, `${tp.url}/console/keys`)).text;
    expect(keys).toContain(`data-disabled-key="${key.id}"`);
    expect(keys).toContain('This key was disabled because its owner is no longer an administrator');
    expect(keys).toMatch(/&quot;127\.0\.0\.2:8080&quot; is neither/);
    const refused = await post(tp, kim, `/console/keys/${key.id}/enable`, {});
    expect(refused.status).toBe(400);
    expect(refused.text).toMatch(/&quot;127\.0\.0\.2:8080&quot; is neither/);
  });

  it('a member cannot post the allowed-hosts form (403) and it changes nothing', async () => {
    const response = await post(tp, member, '/console/keys/allowed-hosts', { allowed_hosts: '10.0.0.1' });
    expect(response.status).toBe(403);
    const row = await tp.platform.ctx.db.selectFrom('organization_settings').select('key_base_url_allow').executeTakeFirstOrThrow();
    expect(JSON.parse(row.key_base_url_allow!)).toEqual(['llm.example.net', upstreamHost]);
    expect((await page(member, `${tp.url}/console/keys`)).text).not.toContain('id="allowed_hosts"');
  });
});

describe(`a start with a shorter KEYWARD_KEY_BASE_URL_ALLOW (${testEngine()})`, () => {
  it('disables the member keys it no longer allows, with an audit event by Keyward itself and a notice', async () => {
    const database = await createTestDatabase();
    const first = await startTestPlatform({ KEYWARD_KEY_BASE_URL_ALLOW: upstreamHost }, database);
    const { member } = await withMember(first);
    expect((await post(first, member, '/console/keys', { provider: 'openai-compatible', api_key: 'sk-robin-0123456789abcdef', base_url: upstreamUrl, scope: 'personal' })).status).toBe(303);
    await first.stop();
    const second = await startTestPlatform({ KEYWARD_KEY_BASE_URL_ALLOW: '' }, database);
    try {
      const [key] = await memberKeys(second);
      expect(key?.disabled_at).not.toBeNull();
      const events = (await auditOf(second, 'key.disabled')).filter((e) => e.target_id === key!.id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ actor_user_id: null, actor_label: 'Keyward (system)' });
      const again = await signIn(second, MEMBER.email, MEMBER.password);
      expect((await page(again, `${second.url}/console/keys`)).text).toContain(`data-disabled-key="${key!.id}"`);
    } finally {
      await second.close();
    }
  }, 60_000);
});
