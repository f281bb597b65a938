// prompt=login and max_age (OIDC Core §3.1.2.1): an app that asks for a fresh sign-in gets one,
// even from someone signed in to Keyward, and the ID token's auth_time is when the person really
// signed in, not when the code was issued.

import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hiddenField } from '../support/cookie-jar.js';
import { CookieJar, authorizeCode, exchangeCode, registerPublicClient, type RegisteredClient } from '../support/oauth-client.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

let tp: TestPlatform;
let app: RegisteredClient;
beforeAll(async () => {
  tp = await startTestPlatform();
  app = await registerPublicClient(tp, { metadata: { scope: 'openid llm:proxy offline_access' } });
}, 60_000);
afterAll(() => tp?.close());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowSeconds = () => Math.floor(Date.now() / 1000);

async function authorize(jar: CookieJar, extraParams: Record<string, string> = {}) {
  const result = await authorizeCode(tp, { clientId: app.client_id, jar, scope: 'openid llm:proxy', extraParams });
  expect(result.code).toBeTruthy();
  const tokens = (await (await exchangeCode(tp, { clientId: app.client_id, code: result.code!, codeVerifier: result.codeVerifier })).json()) as { id_token: string };
  return { signInShown: result.signInShown, authTime: decodeJwt(tokens.id_token).auth_time as number };
}

describe('a fresh sign-in when the app asks for one', () => {
  it('prompt=login asks a signed-in person to sign in again; max_age does when the sign-in is older; auth_time is the sign-in', async () => {
    const jar = new CookieJar();
    const signInFrom = nowSeconds();
    const first = await authorize(jar);
    const signInTo = nowSeconds();
    expect(first.signInShown).toBe(true);
    await sleep(2100);

    // Signed in and allowed before: no sign-in page, and auth_time (sent when max_age is) is still the first sign-in.
    expect((await authorize(jar)).signInShown).toBe(false);
    const remembered = await authorize(jar, { max_age: '3600' });
    expect(remembered.signInShown).toBe(false);
    expect(remembered.authTime).toBeGreaterThanOrEqual(signInFrom);
    expect(remembered.authTime).toBeLessThanOrEqual(signInTo);

    // The sign-in is over a second old: max_age=1 asks for it again.
    const before = nowSeconds();
    const aged = await authorize(jar, { max_age: '1' });
    expect(aged.signInShown).toBe(true);
    expect(aged.authTime).toBeGreaterThanOrEqual(before);

    await sleep(1100);
    const startedAt = nowSeconds();
    const forced = await authorize(jar, { prompt: 'login', max_age: '3600' });
    expect(forced.signInShown).toBe(true);
    expect(forced.authTime).toBeGreaterThanOrEqual(startedAt);
    // Interactions start on a whole second: a sign-in in that second counts as made for it.
    await sleep(1100);
    expect((await authorize(jar, { prompt: 'login' })).signInShown).toBe(true);
  }, 60_000);

  it('the sign-in page asked again shows its form to someone signed in, and the new sign-in replaces the old session', async () => {
    const jar = new CookieJar();
    await authorize(jar);
    // Without prompt=login a signed-in person is sent on at once, as before.
    const plain = await jar.fetch(`${tp.url}/sign-in?return_to=%2Fconsole`);
    expect(plain.status).toBe(303);
    const oldCookies = jar.header(`${tp.url}/console`)!;
    const page = await jar.fetch(`${tp.url}/sign-in?return_to=%2Fconsole&prompt=login`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('name="password"');
    const signIn = await jar.fetch(`${tp.url}/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: tp.admin.email, password: tp.admin.password, csrf: hiddenField(html, 'csrf'), return_to: '/console' }),
    });
    expect(signIn.status).toBe(303);
    // The new session works; the one it replaced no longer does.
    expect((await jar.fetch(`${tp.url}/console`)).status).toBe(200);
    const old = await fetch(`${tp.url}/console`, { headers: { cookie: oldCookies }, redirect: 'manual' });
    expect(old.status).toBe(303);
    expect(old.headers.get('location')).toMatch(/^\/sign-in/);
  });
});
