// The console's usage pages and the account page, over HTTP as a browser without script would use
// them: who sees which rows, the CSV and its escaping, hostile names as text, sign-in required,
// and the password change with its refusals.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar, hiddenField } from '../support/cookie-jar.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { addApp, addPerson, addUsage, MEMBER_PASSWORD } from '../usage/support/usage-fixtures.js';

const form = { 'content-type': 'application/x-www-form-urlencoded' };
const HOSTILE = `<script>alert(1)</script> "quoted" \u202Egnp.exe`;
const FORMULA = `=HYPERLINK("http://evil.example","click")`;

let tp: TestPlatform;
let member: { id: string; email: string; password: string };
let other: { id: string; email: string; password: string };
let hostileApp: string;
let formulaApp: string;

async function signIn(email: string, password: string): Promise<CookieJar> {
  const jar = new CookieJar();
  const page = await (await jar.fetch(`${tp.url}/sign-in`)).text();
  const response = await jar.fetch(`${tp.url}/sign-in`, {
    method: 'POST',
    headers: form,
    body: new URLSearchParams({ csrf: hiddenField(page, 'csrf'), email, password, return_to: '/console' }),
  });
  expect(response.status).toBe(303);
  return jar;
}

const rowsIn = (page: string) => page.match(/<tr data-usage-row/g)?.length ?? 0;

beforeAll(async () => {
  tp = await startTestPlatform();
  member = await addPerson(tp, 'member@example.com');
  other = await addPerson(tp, 'other@example.com');
  hostileApp = await addApp(tp, HOSTILE);
  formulaApp = await addApp(tp, FORMULA);
  await addUsage(tp, { userId: member.id, clientId: hostileApp, requestId: 'req-member-1', inputTokens: 11, outputTokens: 4, timeToFirstTokenMs: 87, costNanoUsd: 1_234_000 });
  await addUsage(tp, { userId: member.id, clientId: formulaApp, requestId: 'req-member-2', outcome: 'upstream_timeout', status: 504, errorMessage: '-1+1 "timeout", then, more' });
  await addUsage(tp, { userId: other.id, clientId: hostileApp, requestId: 'req-other-1', unpriced: true });
  for (let i = 0; i < 120; i++) await addUsage(tp, { userId: other.id, requestId: `req-bulk-${i}`, createdAt: Date.now() - 60_000 - i * 1000 });
}, 60_000);
afterAll(() => tp?.close());

describe('signed out', () => {
  it.each(['/console', '/console/usage', '/console/usage.csv', '/account'])('%s redirects to sign-in', async (path) => {
    const response = await fetch(`${tp.url}${path}`, { redirect: 'manual' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe(`/sign-in?return_to=${encodeURIComponent(path)}`);
  });
});

describe('/console overview', () => {
  it('a member sees their own totals and chart, not the top users', async () => {
    const jar = await signIn(member.email, member.password);
    const response = await jar.fetch(`${tp.url}/console`);
    const page = await response.text();
    expect(response.status).toBe(200);
    expect(page).toContain('data-total="calls">2<');
    // Spend is summed from integer nano-USD: 1,234,000 nano-USD is $0.0012.
    expect(page).toContain('data-total="cost_usd">$0.0012<');
    expect(page).toContain('<svg');
    expect(page).not.toContain('<script');
    expect(page).not.toContain('data-top="user"');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it("an administrator sees the organization's totals and top users", async () => {
    const jar = await signIn(tp.admin.email, tp.admin.password);
    const page = await (await jar.fetch(`${tp.url}/console`)).text();
    expect(page).toContain('data-total="calls">123<');
    expect(page).toContain('1 call with no known price not included');
    expect(page).toContain('data-top="user"');
    expect(page).toContain('other@example.com');
  });
});

describe('/console/usage', () => {
  it('a member sees only their own rows, with each call’s detail', async () => {
    const jar = await signIn(member.email, member.password);
    const page = await (await jar.fetch(`${tp.url}/console/usage`)).text();
    expect(rowsIn(page)).toBe(2);
    expect(page).toContain('req-member-1');
    expect(page).not.toContain('req-other-1');
    expect(page).toContain('87 ms');
    expect(page).toContain('Provider timed out');
  });

  it('a member cannot widen their view with ?user=', async () => {
    const jar = await signIn(member.email, member.password);
    const page = await (await jar.fetch(`${tp.url}/console/usage?user=${other.id}`)).text();
    expect(rowsIn(page)).toBe(0);
  });

  it('an administrator sees everyone, 50 rows a page, and the pages keep the filters', async () => {
    const jar = await signIn(tp.admin.email, tp.admin.password);
    const first = await (await jar.fetch(`${tp.url}/console/usage`)).text();
    expect(rowsIn(first)).toBe(50);
    expect(first).toContain('Page 1 of 3');
    const last = await (await jar.fetch(`${tp.url}/console/usage?page=3`)).text();
    expect(rowsIn(last)).toBe(23);
    const answered = await (await jar.fetch(`${tp.url}/console/usage?outcome=ok`)).text();
    expect(answered).toContain('href="/console/usage?from=');
    expect(answered).toMatch(/href="\/console\/usage\?[^"]*outcome=ok&amp;page=2" rel="next"/);
    const filtered = await (await jar.fetch(`${tp.url}/console/usage?user=${member.id}&outcome=upstream_timeout`)).text();
    expect(rowsIn(filtered)).toBe(1);
    expect(filtered).toContain('req-member-2');
  });

  it('hostile names render as text', async () => {
    const jar = await signIn(tp.admin.email, tp.admin.password);
    const page = await (await jar.fetch(`${tp.url}/console/usage?app=${hostileApp}`)).text();
    expect(page).not.toContain('<script>alert(1)</script>');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &quot;quoted&quot;');
  });

  it('a bad date is said in words next to the field', async () => {
    const jar = await signIn(member.email, member.password);
    const response = await jar.fetch(`${tp.url}/console/usage?from=yesterday`);
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('id="f-from-error" role="alert">Enter a date as YYYY-MM-DD.');
  });
});

describe('/console/usage.csv', () => {
  it('has the same rows as the page, RFC 4180 quoted, formulas defused', async () => {
    const jar = await signIn(member.email, member.password);
    const response = await jar.fetch(`${tp.url}/console/usage.csv`);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="keyward-usage-/);
    const text = await response.text();
    const lines = text.split('\r\n');
    expect(lines[0]).toMatch(/^time_utc,request_id,user,app,/);
    expect(lines.filter((l) => l.includes('req-'))).toHaveLength(2);
    expect(text).not.toContain('req-other-1');
    // A formula-looking app name is prefixed with an apostrophe, and quoted since it holds quotes and commas.
    expect(text).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
    expect(text).toContain(`"'-1+1 ""timeout"", then, more"`);
    expect(text).toContain(`"<script>alert(1)</script> ""quoted"" \u202Egnp.exe"`);
    expect(text.endsWith('\r\n')).toBe(true);
  });

  it('an administrator gets every row of the range', async () => {
    const jar = await signIn(tp.admin.email, tp.admin.password);
    const text = await (await jar.fetch(`${tp.url}/console/usage.csv`)).text();
    expect(text.trimEnd().split('\r\n')).toHaveLength(1 + 123);
  });
});

describe('/account/apps', () => {
  it("shows each connected app's recent usage", async () => {
    // A real grant for the member, then calls recorded for that app.
    const { userTokens } = await import('../support/oauth-client.js');
    const jar = new CookieJar();
    const tokens = await userTokens(tp, { email: other.email, password: other.password, clientName: 'Usage App', jar });
    await addUsage(tp, { userId: other.id, clientId: tokens.client.client_id, inputTokens: 1234, outputTokens: 56 });
    const page = await (await jar.fetch(`${tp.url}/account/apps`)).text();
    expect(page).toContain('Usage App');
    expect(page).toContain('Last 30 days: 1 call, 1,234 tokens in / 56 out.');
  });
});

describe('/account: change password', () => {
  const post = async (jar: CookieJar, fields: Record<string, string>) =>
    jar.fetch(`${tp.url}/account/password`, { method: 'POST', headers: form, body: new URLSearchParams(fields) });

  it('refuses a wrong current password, in words next to the field', async () => {
    const person = await addPerson(tp, 'pw1@example.com');
    const jar = await signIn(person.email, person.password);
    const csrf = hiddenField(await (await jar.fetch(`${tp.url}/account`)).text(), 'csrf');
    const response = await post(jar, { csrf, current_password: 'not my password at all', new_password: 'a brand new passphrase' });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('id="current_password-error" role="alert">That is not your current password.');
    await signIn(person.email, MEMBER_PASSWORD);
  });

  it('a burst of wrong current passwords gets no more checks than the sign-in lockout allows (five from one IP)', async () => {
    const person = await addPerson(tp, 'pw-burst@example.com');
    const jar = await signIn(person.email, person.password);
    const csrf = hiddenField(await (await jar.fetch(`${tp.url}/account`)).text(), 'csrf');
    const statuses = await Promise.all(
      Array.from({ length: 12 }, (_, i) => post(jar, { csrf, current_password: `wrong guess ${i}`, new_password: 'a brand new passphrase' }).then((r) => r.status)),
    );
    expect(statuses.filter((s) => s === 400)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(7);
  }, 60_000);

  it('refuses a weak new password with the same rules as the CLI', async () => {
    const person = await addPerson(tp, 'pw2@example.com');
    const jar = await signIn(person.email, person.password);
    const csrf = hiddenField(await (await jar.fetch(`${tp.url}/account`)).text(), 'csrf');
    const short = await post(jar, { csrf, current_password: person.password, new_password: 'short' });
    expect(short.status).toBe(400);
    expect(await short.text()).toContain('id="new_password-error" role="alert">Password must be at least 8 characters.');
    const common = await post(jar, { csrf, current_password: person.password, new_password: 'password123' });
    expect(await common.text()).toContain('too common');
  });

  it('refuses a form without its CSRF token, and one with a foreign token', async () => {
    const person = await addPerson(tp, 'pw3@example.com');
    const jar = await signIn(person.email, person.password);
    await (await jar.fetch(`${tp.url}/account`)).body?.cancel();
    const missing = await post(jar, { current_password: person.password, new_password: 'a brand new passphrase' });
    expect(missing.status).toBe(403);
    const foreignJar = await signIn(tp.admin.email, tp.admin.password);
    const foreign = hiddenField(await (await foreignJar.fetch(`${tp.url}/account`)).text(), 'csrf');
    const forged = await post(jar, { csrf: foreign, current_password: person.password, new_password: 'a brand new passphrase' });
    expect(forged.status).toBe(403);
    await signIn(person.email, person.password);
  });

  it('changes it: the new password signs in, the old does not, other sessions end, this one stays', async () => {
    const person = await addPerson(tp, 'pw4@example.com');
    const jar = await signIn(person.email, person.password);
    const elsewhere = await signIn(person.email, person.password);
    const csrf = hiddenField(await (await jar.fetch(`${tp.url}/account`)).text(), 'csrf');
    const response = await post(jar, { csrf, current_password: person.password, new_password: 'a brand new passphrase' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/account?changed=1');
    const after = await jar.fetch(`${tp.url}/account?changed=1`);
    expect(after.status).toBe(200);
    expect(await after.text()).toContain('Your password was changed.');
    expect((await elsewhere.fetch(`${tp.url}/account`)).status).toBe(303);
    await signIn(person.email, 'a brand new passphrase');
    const signInPage = new CookieJar();
    const page = await (await signInPage.fetch(`${tp.url}/sign-in`)).text();
    const old = await signInPage.fetch(`${tp.url}/sign-in`, {
      method: 'POST',
      headers: form,
      body: new URLSearchParams({ csrf: hiddenField(page, 'csrf'), email: person.email, password: person.password, return_to: '/console' }),
    });
    expect(old.status).toBe(401);
  });
});
