import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar, hiddenField } from '../support/cookie-jar.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

let tp: TestPlatform;
beforeAll(async () => {
  tp = await startTestPlatform();
});
afterAll(() => tp.close());

async function openSignIn(jar: CookieJar, returnTo = '/account') {
  const page = await jar.fetch(`${tp.url}/sign-in?return_to=${encodeURIComponent(returnTo)}`);
  expect(page.status).toBe(200);
  return { html: await page.text(), headers: page.headers };
}

function submit(jar: CookieJar, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return jar.fetch(`${tp.url}/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(fields).toString(),
  });
}

describe('the sign-in page', () => {
  it('is a form with email, password and a submit button, protected from framing', async () => {
    const { html, headers } = await openSignIn(new CookieJar());
    expect(html).toMatch(/<input[^>]+name="email"/);
    expect(html).toMatch(/<input[^>]+name="password"[^>]+type="password"|<input[^>]+type="password"[^>]+name="password"/);
    expect(html).toMatch(/<button[^>]+type="submit"/);
    expect(headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(headers.get('x-frame-options')).toBe('DENY');
  });
});

describe('signing in', () => {
  it('with the right password sets an httpOnly SameSite=Lax session cookie and redirects (303) to return_to', async () => {
    const jar = new CookieJar();
    const { html } = await openSignIn(jar, '/account');
    const response = await submit(jar, {
      email: tp.admin.email.toUpperCase(),
      password: tp.admin.password,
      csrf: hiddenField(html, 'csrf'),
      return_to: '/account',
    });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/account');
    const cookie = response.headers.getSetCookie().find((c) => c.startsWith('keyward_session='))!;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).not.toMatch(/Secure/i); // PUBLIC_URL is http here
    const account = await jar.fetch(`${tp.url}/account`);
    expect(account.status).toBe(200);
    expect(await account.text()).toContain(tp.admin.email);
  });

  it('with a wrong password answers 401 and no session', async () => {
    const jar = new CookieJar();
    const { html } = await openSignIn(jar);
    const response = await submit(jar, { email: tp.admin.email, password: 'not the password', csrf: hiddenField(html, 'csrf') });
    expect(response.status).toBe(401);
    expect(await response.text()).toContain('do not match');
    expect(jar.get('keyward_session')).toBeUndefined();
  });

  it('never redirects off-site, whatever return_to says', async () => {
    for (const evil of ['https://evil.example/', '//evil.example/', '/\\evil.example']) {
      const jar = new CookieJar();
      const { html } = await openSignIn(jar);
      const response = await submit(jar, { email: tp.admin.email, password: tp.admin.password, csrf: hiddenField(html, 'csrf'), return_to: evil });
      expect(response.status).toBe(303);
      // Without a usable return_to, everyone lands on the console.
      expect(response.headers.get('location')).toBe('/console');
    }
  });

  it('a return_to beyond printable ASCII ("/€", U+007F) is percent-encoded in the redirect, not a 500', async () => {
    for (const [returnTo, location] of [['/console/usage?q=€', '/console/usage?q=%E2%82%AC'], ['/console\u007f', '/console%7F']] as const) {
      const jar = new CookieJar();
      const { html } = await openSignIn(jar, returnTo);
      const response = await submit(jar, { email: tp.admin.email, password: tp.admin.password, csrf: hiddenField(html, 'csrf'), return_to: returnTo });
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toBe(location);
      // Signed in already: the sign-in page sends the browser on at once, the same way.
      const again = await jar.fetch(`${tp.url}/sign-in?return_to=${encodeURIComponent(returnTo)}`);
      expect(again.status).toBe(303);
      expect(again.headers.get('location')).toBe(location);
    }
  });
});

describe('CSRF protection of the sign-in form', () => {
  it('refuses a POST without the token (403), even with the right password', async () => {
    const jar = new CookieJar();
    await openSignIn(jar);
    const response = await submit(jar, { email: tp.admin.email, password: tp.admin.password });
    expect(response.status).toBe(403);
    expect(jar.get('keyward_session')).toBeUndefined();
  });

  it('refuses a token bound to another browser', async () => {
    const other = await openSignIn(new CookieJar());
    const jar = new CookieJar();
    await openSignIn(jar);
    const response = await submit(jar, { email: tp.admin.email, password: tp.admin.password, csrf: hiddenField(other.html, 'csrf') });
    expect(response.status).toBe(403);
  });

  it('refuses a cross-origin POST', async () => {
    const jar = new CookieJar();
    const { html } = await openSignIn(jar);
    const response = await submit(
      jar,
      { email: tp.admin.email, password: tp.admin.password, csrf: hiddenField(html, 'csrf') },
      { origin: 'https://evil.example' },
    );
    expect(response.status).toBe(403);
  });
});

describe('lockout after repeated failures', () => {
  it('locks the account after 5 failures (429 with Retry-After) even for the right password, without affecting others', async () => {
    const email = 'locked@example.com';
    const { runKeyward } = await import('../support/cli.js');
    await runKeyward(['user', 'create', '--email', email, '--password', 'the right passphrase', '--json'], {
      KEYWARD_DATA_DIR: tp.config.dataDir,
      DATABASE_URL: tp.config.databaseUrl ?? '',
    });
    const jar = new CookieJar();
    for (let i = 0; i < 5; i++) {
      const { html } = await openSignIn(jar);
      expect((await submit(jar, { email, password: `wrong ${i}`, csrf: hiddenField(html, 'csrf') })).status).toBe(401);
    }
    const { html } = await openSignIn(jar);
    const locked = await submit(jar, { email, password: 'the right passphrase', csrf: hiddenField(html, 'csrf') });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await locked.text()).toMatch(/Too many failed sign-in attempts/);
    // The lockout is in the audit log, once, with where the attempts came from.
    const audit = await tp.platform.ctx.db.selectFrom('audit_log').selectAll().where('action', '=', 'user.locked_out').execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ target_label: email, source_ip: '127.0.0.1' });
    // Another account from the same IP still signs in.
    const fresh = new CookieJar();
    const page = await openSignIn(fresh);
    const ok = await submit(fresh, { email: tp.admin.email, password: tp.admin.password, csrf: hiddenField(page.html, 'csrf') });
    expect(ok.status).toBe(303);
  }, 90_000);
});

describe('signing out', () => {
  it('ends the session (POST with CSRF token, 303 to sign-in)', async () => {
    const jar = new CookieJar();
    const { html } = await openSignIn(jar);
    await submit(jar, { email: tp.admin.email, password: tp.admin.password, csrf: hiddenField(html, 'csrf') });
    const account = await (await jar.fetch(`${tp.url}/account`)).text();
    const forged = await jar.fetch(`${tp.url}/sign-out`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(forged.status).toBe(403);
    const out = await jar.fetch(`${tp.url}/sign-out`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf: hiddenField(account, 'csrf') }).toString(),
    });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/sign-in');
    const after = await jar.fetch(`${tp.url}/account`);
    expect(after.status).toBe(303);
    expect(after.headers.get('location')).toMatch(/^\/sign-in/);
  });
});

describe('health', () => {
  it('/healthz and /readyz answer', async () => {
    expect((await fetch(`${tp.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${tp.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
    expect((await fetch(`${tp.url}/healthz`)).headers.get('x-request-id')).toBeTruthy();
  });
});
