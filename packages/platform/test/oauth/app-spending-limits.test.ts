// Per-app spending limits chosen by the user: the consent page's "Spending limit for this app", the
// organization's default and maximum for self-registered apps (/console/apps), changing a limit in
// Connected apps, and revoking an app removing its limit. Over HTTP, as a browser without script would.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorActor } from '../../src/accounts/actors.js';
import { createUserAs } from '../../src/accounts/user-management.js';
import type { Actor } from '../../src/access/actor.js';
import { appCapLimitId, changeAppCap, capWithinMaximum, parseCapChoice, readAppCapPolicy, removeCapOfEndedGrant, setAppCapPolicy } from '../../src/limits/app-caps.js';
import { listLimits, setLimit } from '../../src/limits/spending-limits.js';
import { formToken, page, postForm, signIn } from '../console/console-session.js';
import { runKeyward } from '../support/cli.js';
import { CookieJar, authorizeCode, authorizeWithoutBrowser, registerPublicClient } from '../support/oauth-client.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

const MEMBER = { email: 'member.caps@example.com', password: 'member password is long enough' };

let tp: TestPlatform;
let operator: Actor;
let member: Actor;

beforeAll(async () => {
  tp = await startTestPlatform();
  operator = await operatorActor(tp.platform.ctx.db);
  const created = await createUserAs(tp.platform.ctx, operator, { ...MEMBER, role: 'member' });
  member = { userId: created.id, label: MEMBER.email, organizationId: operator.organizationId, role: 'member', ip: null };
}, 60_000);

afterAll(async () => {
  await tp?.close();
});

const setPolicy = (input: { defaultUsd?: string; defaultPeriod?: string; maximumUsd?: string; maximumPeriod?: string }) =>
  setAppCapPolicy(tp.platform.ctx, operator, input);

async function appLimits(userId: string, clientId: string) {
  return (await listLimits(tp.platform.ctx.db, operator.organizationId, { userId })).filter((l) => l.scope === 'app' && l.clientId === clientId);
}

async function adminId() {
  const row = await tp.platform.ctx.db.selectFrom('users').select('id').where('email_normalized', '=', tp.admin.email).executeTakeFirstOrThrow();
  return row.id;
}

/** The consent page for a fresh app, shown and not answered. */
async function consentPage(jar: CookieJar, clientId: string, email = tp.admin.email, password = tp.admin.password) {
  let shown = '';
  await authorizeCode(tp, { clientId, jar, email, password, decision: 'deny' }).then((r) => (shown = r.consentPage ?? ''));
  return shown;
}

const selectedOption = (html: string, selectId = 'spending-limit') => {
  const select = new RegExp(`<select id="${selectId}" name="spending_limit"[^>]*>([\\s\\S]*?)</select>`).exec(html)?.[1] ?? '';
  return /<option value="([^"]*)" selected>([^<]*)</.exec(select)?.slice(1, 3);
};
const optionLabels = (html: string, selectId = 'spending-limit') =>
  [...(new RegExp(`<select id="${selectId}" name="spending_limit"[^>]*>([\\s\\S]*?)</select>`).exec(html)?.[1] ?? '').matchAll(/<option[^>]*>([^<]*)</g)].map((m) => m[1]);

describe('choosing a limit: what the control accepts', () => {
  it('reads No limit, a preset, another amount; refuses bad amounts and periods with a clear message', () => {
    expect(parseCapChoice({ choice: 'none' }, { nanoUsd: 1, period: 'day' })).toBeNull();
    expect(parseCapChoice({ choice: '1/day' }, null)).toEqual({ nanoUsd: 1_000_000_000, period: 'day' });
    expect(parseCapChoice({ choice: 'custom', usd: '$2.50', period: 'month' }, null)).toEqual({ nanoUsd: 2_500_000_000, period: 'month' });
    expect(parseCapChoice({}, { nanoUsd: 5, period: 'day' })).toEqual({ nanoUsd: 5, period: 'day' });
    expect(() => parseCapChoice({ choice: 'custom', usd: 'ten', period: 'day' }, null)).toThrow(/not an amount in USD/);
    expect(() => parseCapChoice({ choice: 'custom', usd: '', period: 'day' }, null)).toThrow(/Enter an amount/);
    expect(() => parseCapChoice({ choice: 'custom', usd: '0', period: 'day' }, null)).toThrow(/more than \$0/);
    expect(() => parseCapChoice({ choice: 'custom', usd: '-1', period: 'day' }, null)).toThrow(/not an amount/);
    // The same ceiling as any limit: past it, nano-USD sums would stop being exact integers.
    expect(parseCapChoice({ choice: 'custom', usd: '9000000', period: 'month' }, null)).toEqual({ nanoUsd: 9e15, period: 'month' });
    expect(() => parseCapChoice({ choice: 'custom', usd: '9999999.999999', period: 'month' }, null)).toThrow(/at most \$9,000,000/);
    expect(() => parseCapChoice({ choice: 'custom', usd: '1', period: 'year' }, null)).toThrow(/per day or per month/);
    expect(() => parseCapChoice({ choice: 'lots' }, null)).toThrow(/from the list/);
    // Hand-made values with a period the control never offers (each period counts apart).
    expect(() => parseCapChoice({ choice: '20/total' }, null)).toThrow(/from the list/);
    expect(() => parseCapChoice({ choice: '20/week' }, null)).toThrow(/from the list/);
  });

  it('compares a per-day limit with a per-month maximum as 31 days of it, a per-month limit with a per-day maximum as one day', () => {
    const month20 = { nanoUsd: 20e9, period: 'month' as const };
    expect(capWithinMaximum({ nanoUsd: 0.5e9, period: 'day' }, month20)).toBe(true); // $15.50 a month at most
    expect(capWithinMaximum({ nanoUsd: 1e9, period: 'day' }, month20)).toBe(false); // $31 a month
    expect(capWithinMaximum({ nanoUsd: 20e9, period: 'month' }, month20)).toBe(true);
    expect(capWithinMaximum({ nanoUsd: 2e9, period: 'month' }, { nanoUsd: 1e9, period: 'day' })).toBe(false);
    expect(capWithinMaximum(null, month20)).toBe(false);
    expect(capWithinMaximum(null, null)).toBe(true);
  });
});

describe('the consent page: "Spending limit for this app"', () => {
  it('offers No limit, presets and another amount, with a labelled amount and period, and no script', async () => {
    await setPolicy({});
    const client = await registerPublicClient(tp, { clientName: 'Control App' });
    const html = await consentPage(new CookieJar(), client.client_id);
    expect(html).toContain('<label for="spending-limit">Spending limit for this app</label>');
    expect(optionLabels(html)).toEqual(['No limit', '$1 per day', '$5 per month', '$20 per month', 'Another amount…']);
    expect(html).toContain('<label for="spending-limit-usd">Amount (USD)</label>');
    expect(html).toContain('<label for="spending-limit-period">Per</label>');
    expect(selectedOption(html)).toEqual(['none', 'No limit']);
    expect(html).not.toMatch(/<script(?![^>]*src=)/);
  });

  it('Allow with $1 per day makes it the app limit for this user and app; No limit leaves none', async () => {
    const jar = new CookieJar();
    const capped = await registerPublicClient(tp, { clientName: 'Capped App' });
    await authorizeWithoutBrowser(tp, { clientId: capped.client_id, jar, consentFields: { spending_limit: '1/day' } });
    expect(await appLimits(await adminId(), capped.client_id)).toMatchObject([{ usd: 1, period: 'day', spentUsd: 0 }]);

    const custom = await registerPublicClient(tp, { clientName: 'Custom App' });
    await authorizeWithoutBrowser(tp, { clientId: custom.client_id, jar, consentFields: { spending_limit: 'custom', spending_limit_usd: '0.25', spending_limit_period: 'month' } });
    expect(await appLimits(await adminId(), custom.client_id)).toMatchObject([{ usd: 0.25, period: 'month' }]);

    const free = await registerPublicClient(tp, { clientName: 'Free App' });
    await authorizeWithoutBrowser(tp, { clientId: free.client_id, jar, consentFields: { spending_limit: 'none' } });
    expect(await appLimits(await adminId(), free.client_id)).toEqual([]);
  });

  it('a bad amount shows the consent page again with the error (400) and grants nothing', async () => {
    const jar = new CookieJar();
    const client = await registerPublicClient(tp, { clientName: 'Typo App' });
    const refused = await authorizeCode(tp, { clientId: client.client_id, jar, consentFields: { spending_limit: 'custom', spending_limit_usd: 'ten dollars', spending_limit_period: 'day' } }).then(
      () => '',
      (error: Error) => error.message,
    );
    expect(refused).toMatch(/^consent failed: 400/);
    expect(refused).toContain('role="alert"');
    expect(refused).toContain('is not an amount in USD');
    expect(refused).toContain('value="ten dollars"');
    expect(refused).toContain('name="decision" value="allow"');
    const grants = await tp.platform.ctx.db.selectFrom('oauth_payloads').select('id').where('model', '=', 'Grant').where('client_id', '=', client.client_id).execute();
    expect(grants).toEqual([]);
    expect(await appLimits(await adminId(), client.client_id)).toEqual([]);
  });

  it('on re-consent (the scopes grew) the current limit is preselected', async () => {
    const jar = new CookieJar();
    const client = await registerPublicClient(tp, { clientName: 'Growing App', metadata: { scope: 'llm:proxy offline_access openid' } });
    await authorizeWithoutBrowser(tp, { clientId: client.client_id, jar, scope: 'llm:proxy', consentFields: { spending_limit: 'custom', spending_limit_usd: '3', spending_limit_period: 'day' } });
    const again = await authorizeCode(tp, { clientId: client.client_id, jar, scope: 'llm:proxy offline_access openid' });
    expect(again.consentPage).toContain('data-new="true"');
    expect(selectedOption(again.consentPage!)).toEqual(['3/day', '$3 per day']);
    // Posting only the decision keeps what was preselected.
    expect(await appLimits(await adminId(), client.client_id)).toMatchObject([{ usd: 3, period: 'day' }]);
  });
});

describe('the organization default and maximum for self-registered apps', () => {
  it('preselects the default; a posted consent without the control gets it', async () => {
    await setPolicy({ defaultUsd: '2', defaultPeriod: 'month' });
    const client = await registerPublicClient(tp, { clientName: 'Default App' });
    const jar = new CookieJar();
    const html = await consentPage(jar, client.client_id);
    expect(selectedOption(html)).toEqual(['2/month', '$2 per month']);
    expect(optionLabels(html)).toContain('No limit');
    await authorizeWithoutBrowser(tp, { clientId: client.client_id, jar });
    expect(await appLimits(await adminId(), client.client_id)).toMatchObject([{ usd: 2, period: 'month' }]);
  });

  it('with a maximum, No limit is not offered and a limit above it is refused (a daily limit counts 31 times)', async () => {
    await setPolicy({ maximumUsd: '10', maximumPeriod: 'month' });
    const client = await registerPublicClient(tp, { clientName: 'Bounded App' });
    const jar = new CookieJar();
    const html = await consentPage(jar, client.client_id);
    expect(optionLabels(html)).toEqual(['$5 per month', '$10 per month', 'Another amount…']);
    expect(selectedOption(html)).toEqual(['10/month', '$10 per month']);
    expect(html).toContain('Your organization allows at most $10 per month per app.');
    for (const fields of [{ spending_limit: 'none' }, { spending_limit: '20/month' }, { spending_limit: '1/day' }]) {
      const refused = await authorizeCode(tp, { clientId: client.client_id, jar, consentFields: fields }).then(() => '', (e: Error) => e.message);
      expect(refused).toMatch(/^consent failed: 400/);
      expect(refused).toMatch(/requires a spending limit|above your organization&#39;s maximum of \$10 per month/);
    }
    expect(await appLimits(await adminId(), client.client_id)).toEqual([]);
    await authorizeWithoutBrowser(tp, { clientId: client.client_id, jar, consentFields: { spending_limit: 'custom', spending_limit_usd: '0.30', spending_limit_period: 'day' } });
    expect(await appLimits(await adminId(), client.client_id)).toMatchObject([{ usd: 0.3, period: 'day' }]);
    await setPolicy({});
  });

  it('refuses a default above the maximum and bad amounts; only an administrator may set them', async () => {
    await expect(setPolicy({ defaultUsd: '1', defaultPeriod: 'day', maximumUsd: '20', maximumPeriod: 'month' })).rejects.toThrow(/default \(\$1 per day\) is above the maximum/);
    await expect(setPolicy({ maximumUsd: 'x', maximumPeriod: 'month' })).rejects.toThrow(/Maximum limit: "x" is not an amount/);
    await expect(setAppCapPolicy(tp.platform.ctx, member, { maximumUsd: '5', maximumPeriod: 'month' })).rejects.toMatchObject({ status: 403 });
    expect(await readAppCapPolicy(tp.platform.ctx.db, operator.organizationId)).toEqual({ defaultCap: null, maximum: null });
  });

  it('/console/apps: an admin saves them (audit entry); a member gets 403; a bad amount shows the form again (400)', async () => {
    const adminJar = await signIn(tp, tp.admin.email, tp.admin.password);
    const shown = await page(adminJar, `${tp.url}/console/apps`);
    expect(shown.text).toContain('<label for="app-cap-max">Maximum limit (USD)</label>');
    const csrf = await formToken(tp, adminJar);
    const saved = await postForm(adminJar, `${tp.url}/console/apps/spending-limits`, { csrf, default_usd: '1', default_period: 'day', maximum_usd: '50', maximum_period: 'month' });
    expect(saved).toMatchObject({ status: 303, location: '/console/apps?done=limits' });
    expect(await readAppCapPolicy(tp.platform.ctx.db, operator.organizationId)).toEqual({
      defaultCap: { nanoUsd: 1e9, period: 'day' },
      maximum: { nanoUsd: 50e9, period: 'month' },
    });
    const after = await page(adminJar, `${tp.url}/console/apps?done=limits`);
    expect(after.text).toContain('value="50"');
    const audit = await tp.platform.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'app_cap_policy.set').execute();
    expect(audit.at(-1)).toMatchObject({ actor_label: tp.admin.email, detail: 'default $1 per day, maximum $50 per month' });

    const bad = await postForm(adminJar, `${tp.url}/console/apps/spending-limits`, { csrf, default_usd: 'abc', default_period: 'day', maximum_usd: '', maximum_period: 'month' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('Default limit: &quot;abc&quot; is not an amount in USD');
    expect(bad.text).toContain('value="abc"');

    const memberJar = await signIn(tp, MEMBER.email, MEMBER.password);
    const memberCsrf = await formToken(tp, memberJar);
    const forbidden = await postForm(memberJar, `${tp.url}/console/apps/spending-limits`, { csrf: memberCsrf, default_usd: '', default_period: 'day', maximum_usd: '', maximum_period: 'month' });
    expect(forbidden.status).toBe(403);
    expect((await readAppCapPolicy(tp.platform.ctx.db, operator.organizationId)).maximum).toEqual({ nanoUsd: 50e9, period: 'month' });
    await setPolicy({});
  });
});

describe('keyward limit apps: the same default and maximum from the admin CLI', () => {
  it('sets, keeps what is left out, clears with none, and refuses a default above the maximum', async () => {
    const env = { KEYWARD_DATA_DIR: tp.config.dataDir, DATABASE_URL: tp.config.databaseUrl ?? '' };
    const set = await runKeyward(['limit', 'apps', '--default-usd', '2', '--default-period', 'month', '--max-usd', '5', '--max-period', 'day', '--json'], env);
    expect(set.json).toEqual({ default: { usd: 2, period: 'month' }, maximum: { usd: 5, period: 'day' } });
    const kept = await runKeyward(['limit', 'apps', '--max-usd', '30', '--max-period', 'month', '--json'], env);
    expect(kept.json).toEqual({ default: { usd: 2, period: 'month' }, maximum: { usd: 30, period: 'month' } });
    const refused = await runKeyward(['limit', 'apps', '--default-usd', '1', '--default-period', 'day', '--json'], env);
    expect(refused.code).not.toBe(0);
    expect(refused.json.error.message).toMatch(/default \(\$1 per day\) is above the maximum \(\$30 per month\)/);
    const cleared = await runKeyward(['limit', 'apps', '--default-usd', 'none', '--max-usd', 'none'], env);
    expect(cleared.stdout).toContain("apps' spending limit at consent: default No limit, maximum none");
    expect(await readAppCapPolicy(tp.platform.ctx.db, operator.organizationId)).toEqual({ defaultCap: null, maximum: null });
  }, 60_000);
});

describe('Connected apps: spend against the limit, and changing it', () => {
  it('shows the spend against the limit and Save limit changes it within the maximum', async () => {
    const jar = new CookieJar();
    const client = await registerPublicClient(tp, { clientName: 'Ledger App' });
    await authorizeWithoutBrowser(tp, { clientId: client.client_id, email: MEMBER.email, password: MEMBER.password, jar, consentFields: { spending_limit: '1/day' } });
    const list = await page(jar, `${tp.url}/account/apps`);
    const item = list.text.slice(list.text.indexOf(`data-client-id="${client.client_id}"`));
    expect(item).toMatch(/Spent \$0\.0000 of \$1\.00 today · resets \d{4}-\d\d-\d\d 00:00 UTC/);
    expect(item).toContain('Spending limit for this app');
    expect(item).toMatch(/<button[^>]*>Save limit<\/button>/);
    const csrf = /name="csrf" value="([^"]*)"/.exec(list.text)![1]!;

    const raised = await postForm(jar, `${tp.url}/account/apps/limit`, { csrf, client_id: client.client_id, spending_limit: '20/month' });
    expect(raised).toMatchObject({ status: 303, location: '/account/apps?saved=1' });
    expect(await appLimits(member.userId!, client.client_id)).toMatchObject([{ usd: 20, period: 'month' }]);
    expect((await page(jar, `${tp.url}/account/apps?saved=1`)).text).toMatch(/Spending limit saved[\s\S]*Spent \$0\.0000 of \$20\.00 this month/);

    const bad = await postForm(jar, `${tp.url}/account/apps/limit`, { csrf, client_id: client.client_id, spending_limit: 'custom', spending_limit_usd: '1.2.3', spending_limit_period: 'day' });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('is not an amount in USD');

    await setPolicy({ maximumUsd: '5', maximumPeriod: 'month' });
    const above = await postForm(jar, `${tp.url}/account/apps/limit`, { csrf, client_id: client.client_id, spending_limit: '20/month' });
    expect(above.status).toBe(400);
    expect(above.text).toContain('above your organization&#39;s maximum of $5 per month');
    const none = await postForm(jar, `${tp.url}/account/apps/limit`, { csrf, client_id: client.client_id, spending_limit: 'none' });
    expect(none.status).toBe(400);
    await setPolicy({});
    const removed = await postForm(jar, `${tp.url}/account/apps/limit`, { csrf, client_id: client.client_id, spending_limit: 'none' });
    expect(removed.status).toBe(303);
    expect(await appLimits(member.userId!, client.client_id)).toEqual([]);
    expect((await page(jar, `${tp.url}/account/apps`)).text).toMatch(/Spent \$0\.0000 this month · No limit/);
    const audit = await tp.platform.ctx.db.selectFrom('audit_log').select(['action', 'detail']).where('target_id', '=', client.client_id).orderBy('created_at').execute();
    expect(audit.map((a) => a.action)).toEqual(['app_cap.set', 'app_cap.set', 'app_cap.removed']);
  });

  it('refuses a change without the form token (403), for an app the user has no grant for (404), and another user’s limit for a member (403)', async () => {
    const jar = new CookieJar();
    const client = await registerPublicClient(tp, { clientName: 'Guarded App' });
    await authorizeWithoutBrowser(tp, { clientId: client.client_id, jar, consentFields: { spending_limit: '1/day' } });
    const noToken = await postForm(jar, `${tp.url}/account/apps/limit`, { client_id: client.client_id, spending_limit: '20/month' });
    expect(noToken.status).toBe(403);

    const memberJar = await signIn(tp, MEMBER.email, MEMBER.password);
    const csrf = /name="csrf" value="([^"]*)"/.exec((await page(memberJar, `${tp.url}/account/apps`)).text)![1]!;
    const notGranted = await postForm(memberJar, `${tp.url}/account/apps/limit`, { csrf, client_id: client.client_id, spending_limit: '20/month' });
    expect(notGranted.status).toBe(404);

    await expect(changeAppCap(tp.platform.ctx, member, { userId: await adminId(), clientId: client.client_id, fields: { choice: 'none' } })).rejects.toMatchObject({ status: 403 });
    expect(await appLimits(await adminId(), client.client_id)).toMatchObject([{ usd: 1, period: 'day' }]);
  });
});

describe('revoking an app removes its limit', () => {
  it('Revoke in Connected apps ends the grant and its limit, with an audit entry', async () => {
    const jar = new CookieJar();
    const client = await registerPublicClient(tp, { clientName: 'Revoked App' });
    await authorizeWithoutBrowser(tp, { clientId: client.client_id, email: MEMBER.email, password: MEMBER.password, jar, consentFields: { spending_limit: '5/month' } });
    expect(await appLimits(member.userId!, client.client_id)).toHaveLength(1);
    const html = (await page(jar, `${tp.url}/account/apps`)).text;
    const item = html.slice(html.indexOf(`data-client-id="${client.client_id}"`));
    const grantId = /name="grant_id" value="([^"]*)"/.exec(item)![1]!;
    const csrf = /name="csrf" value="([^"]*)"/.exec(item)![1]!;
    const revoked = await postForm(jar, `${tp.url}/account/apps/revoke`, { csrf, grant_id: grantId });
    expect(revoked.status).toBe(303);
    expect(await appLimits(member.userId!, client.client_id)).toEqual([]);
    const audit = await tp.platform.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'app.revoked').where('target_id', '=', client.client_id).execute();
    expect(audit).toMatchObject([{ actor_label: MEMBER.email, target_label: 'Revoked App' }]);
  });

  it('the app signing out (RFC 7009 revocation of its refresh token) ends the grant and its limit', async () => {
    const client = await registerPublicClient(tp, { clientName: 'Signing Out App' });
    const tokens = await authorizeWithoutBrowser(tp, { clientId: client.client_id, jar: new CookieJar(), consentFields: { spending_limit: '1/day' } });
    expect(await appLimits(await adminId(), client.client_id)).toHaveLength(1);
    const revoked = await fetch(`${tp.url}/api/auth/oauth2/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.refresh_token!, token_type_hint: 'refresh_token', client_id: client.client_id }),
    });
    expect(revoked.status).toBe(200);
    const grants = await tp.platform.ctx.db.selectFrom('oauth_payloads').select('id').where('model', '=', 'Grant').where('client_id', '=', client.client_id).execute();
    expect(grants).toEqual([]);
    expect(await appLimits(await adminId(), client.client_id)).toEqual([]);
  });

  it('keeps the limit while the user holds another grant for the app (two consents answered at once)', async () => {
    const client = await registerPublicClient(tp, { clientName: 'Two Grants App' });
    const jar = new CookieJar();
    await authorizeWithoutBrowser(tp, { clientId: client.client_id, email: MEMBER.email, password: MEMBER.password, jar, consentFields: { spending_limit: '1/day' } });
    const db = tp.platform.ctx.db;
    const grant = await db.selectFrom('oauth_payloads').selectAll().where('model', '=', 'Grant').where('client_id', '=', client.client_id).executeTakeFirstOrThrow();
    await db.insertInto('oauth_payloads').values({ ...grant, id: `${grant.id}-second` }).execute();
    const csrf = /name="csrf" value="([^"]*)"/.exec((await page(jar, `${tp.url}/account/apps`)).text)![1]!;
    await postForm(jar, `${tp.url}/account/apps/revoke`, { csrf, grant_id: grant.id });
    expect(await appLimits(member.userId!, client.client_id)).toMatchObject([{ usd: 1, period: 'day' }]);
    await postForm(jar, `${tp.url}/account/apps/revoke`, { csrf, grant_id: `${grant.id}-second` });
    expect(await appLimits(member.userId!, client.client_id)).toEqual([]);
  });
});

describe('a person\'s cap and an administrator\'s app limit', () => {
  it('are two limits: the person can neither loosen nor remove the administrator\'s, and both apply', async () => {
    const client = await registerPublicClient(tp, { clientName: 'Admin Limited App' });
    await setLimit(tp.platform.ctx, { organizationId: operator.organizationId, scope: 'app', userId: member.userId!, clientId: client.client_id, usd: '1', period: 'day' });
    const jar = new CookieJar();
    await authorizeWithoutBrowser(tp, { clientId: client.client_id, email: MEMBER.email, password: MEMBER.password, jar, consentFields: { spending_limit: 'none' } });
    expect(await appLimits(member.userId!, client.client_id)).toMatchObject([{ usd: 1, period: 'day', chosenBy: null }]);
    await changeAppCap(tp.platform.ctx, member, { userId: member.userId!, clientId: client.client_id, fields: { choice: '5/month' } });
    const both = await appLimits(member.userId!, client.client_id);
    expect(both).toHaveLength(2);
    expect(both).toEqual(expect.arrayContaining([expect.objectContaining({ usd: 1, period: 'day', chosenBy: null }), expect.objectContaining({ usd: 5, period: 'month', chosenBy: 'user' })]));
    // Revoking the app ends the person's cap, not the administrator's limit.
    const html = (await page(jar, `${tp.url}/account/apps`)).text;
    const item = html.slice(html.indexOf(`data-client-id="${client.client_id}"`));
    await postForm(jar, `${tp.url}/account/apps/revoke`, { csrf: /name="csrf" value="([^"]*)"/.exec(item)![1]!, grant_id: /name="grant_id" value="([^"]*)"/.exec(item)![1]! });
    expect(await appLimits(member.userId!, client.client_id)).toMatchObject([{ usd: 1, period: 'day', chosenBy: null }]);
  });

  it('revoking and allowing the app again keeps counting the same period\'s spend (one id for good)', async () => {
    const client = await registerPublicClient(tp, { clientName: 'Comes Back App' });
    const id = appCapLimitId(operator.organizationId, member.userId!, client.client_id);
    const allow = () => authorizeWithoutBrowser(tp, { clientId: client.client_id, email: MEMBER.email, password: MEMBER.password, jar: new CookieJar(), consentFields: { spending_limit: '1/day' } });
    await allow();
    expect(await appLimits(member.userId!, client.client_id)).toMatchObject([{ id, usd: 1 }]);
    const start = new Date(new Date().toISOString().slice(0, 10)).getTime();
    await tp.platform.ctx.db.insertInto('limit_periods').values({ limit_id: id, period_start: start, spent_nano_usd: 900_000_000, leased_nano_usd: 0, alerted_at: null }).execute();
    // The app ends its own grant (as an app that ran out would), then sends the person to consent again.
    await tp.platform.ctx.db.deleteFrom('oauth_payloads').where('model', '=', 'Grant').where('client_id', '=', client.client_id).execute();
    await removeCapOfEndedGrant(tp.platform.ctx, { id: 'gone', accountId: member.userId!, clientId: client.client_id });
    expect(await appLimits(member.userId!, client.client_id)).toEqual([]);
    await allow();
    expect(await appLimits(member.userId!, client.client_id)).toMatchObject([{ id, usd: 1, spentUsd: 0.9 }]);
  });

  it('twenty consents answered at once leave one cap', async () => {
    const client = await registerPublicClient(tp, { clientName: 'Racing Consents App' });
    await authorizeWithoutBrowser(tp, { clientId: client.client_id, email: MEMBER.email, password: MEMBER.password, jar: new CookieJar(), consentFields: { spending_limit: '1/day' } });
    await Promise.all(Array.from({ length: 20 }, (_, i) => changeAppCap(tp.platform.ctx, member, { userId: member.userId!, clientId: client.client_id, fields: { choice: 'custom', usd: String(i + 2), period: 'month' } })));
    expect(await appLimits(member.userId!, client.client_id)).toHaveLength(1);
  });
});
