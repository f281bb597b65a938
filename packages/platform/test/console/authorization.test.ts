// Every console route × every role: signed out → /sign-in; a member on an admin page or action →
// 403 (a page, not a redirect); an admin gets the page. A member's replayed admin form changes
// nothing. Every form refuses a missing or foreign form token.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorActor } from '../../src/accounts/actors.js';
import { createTeamAs } from '../../src/accounts/team-management.js';
import { createUserAs } from '../../src/accounts/user-management.js';
import { addKey } from '../../src/keys/key-management.js';
import { setLimitAs } from '../../src/limits/limit-management.js';
import { createClientAs } from '../../src/oauth/client-management.js';
import { createProxy } from '../../src/proxies/proxy-management.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { formToken, page, postForm, signIn, type CookieJar } from './console-session.js';

const MEMBER = { email: 'member@example.com', password: 'member password is long enough' };

let tp: TestPlatform;
let adminJar: CookieJar;
let memberJar: CookieJar;
const ids: Record<string, string> = {};

beforeAll(async () => {
  tp = await startTestPlatform();
  const ctx = tp.platform.ctx;
  const operator = await operatorActor(ctx.db);
  ids.member = (await createUserAs(ctx, operator, { ...MEMBER, role: 'member' })).id;
  ids.team = (await createTeamAs(ctx, operator, 'Research')).id;
  ids.proxy = (await createProxy(ctx, operator, { name: 'Second proxy' })).id;
  ids.orgKey = (await addKey(ctx, operator, { provider: 'openai', apiKey: 'sk-org-0123456789abcdef', scope: 'org' })).id;
  ids.client = (await createClientAs(ctx, operator, { name: 'Service', proxyIds: [ids.proxy] })).client_id;
  ids.limit = (await setLimitAs(ctx, operator, { scope: 'org', usd: '100', period: 'month' })).id;
  adminJar = await signIn(tp, tp.admin.email, tp.admin.password);
  memberJar = await signIn(tp, MEMBER.email, MEMBER.password);
}, 60_000);

afterAll(async () => {
  await tp?.close();
});

const fill = (path: string) => path.replace(/:(\w+)/g, (_, name: string) => ids[name]!);

const MEMBER_PAGES = ['/console/keys', '/console/proxies', '/console/limits', '/console/prices'];
const ADMIN_PAGES = ['/console/proxies/:proxy', '/console/users', '/console/teams', '/console/apps', '/console/audit'];

/** Every form action a member must not take, with a body an admin's form would send. */
const ADMIN_ACTIONS: Array<[string, Record<string, string>]> = [
  ['/console/keys', { provider: 'openai', api_key: 'sk-member-org-0123456789', scope: 'org' }],
  ['/console/keys/:orgKey/primary', {}],
  ['/console/keys/:orgKey/disable', {}],
  ['/console/keys/:orgKey/enable', {}],
  ['/console/keys/:orgKey/delete', {}],
  ['/console/keys/:orgKey/test', {}],
  ['/console/keys/:orgKey/rotate', { api_key: 'sk-replaced-0123456789abcdef' }],
  ['/console/keys/allowed-hosts', { allowed_hosts: '10.0.0.1' }],
  ['/console/proxies', { name: 'Member proxy', scope: 'org' }],
  ['/console/proxies/:proxy/rename', { name: 'Renamed by member' }],
  ['/console/proxies/:proxy/models', { allowed_models: 'openai' }],
  ['/console/proxies/:proxy/delete', {}],
  ['/console/proxies/:proxy/clients', { name: 'Member client' }],
  ['/console/proxies/:proxy/clients/:client/rotate', {}],
  ['/console/proxies/:proxy/clients/:client/disable', {}],
  ['/console/users', { email: 'sneaky@example.com', password: 'a long enough password', role: 'admin' }],
  ['/console/users/:member/role', { role: 'admin' }],
  ['/console/users/:member/disable', {}],
  ['/console/users/:member/enable', {}],
  ['/console/users/:member/link', {}],
  ['/console/teams', { name: 'Member team' }],
  ['/console/teams/:team/members', { user: ':member' }],
  ['/console/teams/:team/remove', { user: ':member' }],
  ['/console/apps/:client/block', {}],
  ['/console/apps/spending-limits', { default_usd: '1', default_period: 'day', maximum_usd: '20', maximum_period: 'month' }],
  ['/console/limits', { scope: 'user', user: 'member@example.com', usd: '1000', period: 'day' }],
  ['/console/limits/:limit/remove', {}],
  ['/console/limits/unpriced', { policy: 'allow' }],
  ['/console/prices', { provider: 'openai', model: 'gpt-4o-mini', input_usd: '0', output_usd: '0' }],
  ['/console/prices/remove', { provider: 'openai', model: 'gpt-4o-mini' }],
];

const withIds = (fields: Record<string, string>) => Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, fill(v)]));

describe('signed out', () => {
  it.each([...MEMBER_PAGES, ...ADMIN_PAGES])('GET %s redirects to /sign-in', async (path) => {
    const response = await fetch(`${tp.url}${fill(path)}`, { redirect: 'manual' });
    expect([302, 303]).toContain(response.status);
    expect(response.headers.get('location')).toMatch(/^\/sign-in\?return_to=%2Fconsole/);
  });
  it.each(ADMIN_ACTIONS)('POST %s redirects to /sign-in', async (path, fields) => {
    const response = await fetch(`${tp.url}${fill(path)}`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(withIds(fields)).toString(),
    });
    expect([302, 303]).toContain(response.status);
    expect(response.headers.get('location')).toMatch(/^\/sign-in/);
  });
});

describe('member', () => {
  it.each(MEMBER_PAGES)('GET %s is 200', async (path) => {
    expect((await page(memberJar, `${tp.url}${fill(path)}`)).status).toBe(200);
  });
  it.each(ADMIN_PAGES)('GET %s is a 403 page', async (path) => {
    const response = await page(memberJar, `${tp.url}${fill(path)}`);
    expect(response.status).toBe(403);
    expect(response.location).toBeNull();
    expect(response.text).toContain('Not allowed');
  });
  it.each(ADMIN_ACTIONS)('POST %s (replayed admin form, valid token) is a 403 page', async (path, fields) => {
    const csrf = await formToken(tp, memberJar);
    const response = await postForm(memberJar, `${tp.url}${fill(path)}`, { ...withIds(fields), csrf });
    expect(response.status).toBe(403);
    expect(response.location).toBeNull();
  });
  it('changed nothing with those forms, and the navigation hides admin pages', async () => {
    const db = tp.platform.ctx.db;
    expect((await db.selectFrom('provider_keys').select(['disabled_at', 'secret_sealed']).where('id', '=', ids.orgKey!).executeTakeFirst())?.disabled_at).toBeNull();
    expect((await db.selectFrom('llm_proxies').select('name').where('id', '=', ids.proxy!).executeTakeFirst())?.name).toBe('Second proxy');
    expect((await db.selectFrom('memberships').select('role').where('user_id', '=', ids.member!).executeTakeFirst())?.role).toBe('member');
    expect(await db.selectFrom('users').select('id').where('email_normalized', '=', 'sneaky@example.com').executeTakeFirst()).toBeUndefined();
    expect(await db.selectFrom('organization_settings').select('key_base_url_allow').executeTakeFirst()).toBeUndefined();
    expect((await db.selectFrom('spending_limits').select(['id', 'scope']).execute())).toEqual([{ id: ids.limit, scope: 'org' }]);
    expect(await db.selectFrom('model_prices').select('model').execute()).toEqual([]);
    expect((await db.selectFrom('organizations').select('unpriced_calls_under_limit').executeTakeFirstOrThrow()).unpriced_calls_under_limit).toBe('refuse');
    expect(await db.selectFrom('audit_log').select('id').where('actor_user_id', '=', ids.member!).execute()).toEqual([]);
    const nav = (await page(memberJar, `${tp.url}/console/keys`)).text;
    for (const hidden of ['/console/users', '/console/teams', '/console/apps', '/console/audit']) expect(nav).not.toContain(`href="${hidden}"`);
  });
});

describe('admin', () => {
  it.each([...MEMBER_PAGES, ...ADMIN_PAGES])('GET %s is 200 and marks where you are', async (path) => {
    const response = await page(adminJar, `${tp.url}${fill(path)}`);
    expect(response.status).toBe(200);
    expect(response.text).toContain('aria-current="page"');
    expect(response.text).toContain('href="/console/audit"');
  });
});

describe('form tokens', () => {
  it.each(ADMIN_ACTIONS)('POST %s without a token, or with another session’s, is refused with 403', async (path, fields) => {
    const missing = await postForm(adminJar, `${tp.url}${fill(path)}`, withIds(fields));
    expect(missing.status).toBe(403);
    const foreign = await postForm(adminJar, `${tp.url}${fill(path)}`, { ...withIds(fields), csrf: await formToken(tp, memberJar) });
    expect(foreign.status).toBe(403);
  });
  it('a member’s own-key form refuses a missing token too', async () => {
    const response = await postForm(memberJar, `${tp.url}/console/keys`, { provider: 'openai', api_key: 'sk-personal-0123456789abc', scope: 'personal' });
    expect(response.status).toBe(403);
    expect(await tp.platform.ctx.db.selectFrom('provider_keys').select('id').where('user_id', '=', ids.member!).execute()).toEqual([]);
  });
});
