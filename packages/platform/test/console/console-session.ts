// Driving the console over plain HTTP as a browser would: sign in, read a page's form token,
// post forms (urlencoded, manual redirects).

import { CookieJar, hiddenField } from '../support/cookie-jar.js';
import type { TestPlatform } from '../support/test-platform.js';

export { CookieJar, hiddenField };

export async function signIn(tp: TestPlatform, email: string, password: string): Promise<CookieJar> {
  const jar = new CookieJar();
  const page = await (await jar.fetch(`${tp.url}/sign-in`)).text();
  const response = await jar.fetch(`${tp.url}/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, password, csrf: hiddenField(page, 'csrf') }).toString(),
  });
  if (response.status !== 303) throw new Error(`sign-in failed for ${email}: ${response.status}`);
  return jar;
}

export async function page(jar: CookieJar, url: string): Promise<{ status: number; location: string | null; text: string }> {
  const response = await jar.fetch(url);
  return { status: response.status, location: response.headers.get('location'), text: await response.text() };
}

/** This session's form token, read from a console page every member may open. */
export async function formToken(tp: TestPlatform, jar: CookieJar): Promise<string> {
  return hiddenField((await page(jar, `${tp.url}/console/keys`)).text, 'csrf');
}

export async function postForm(jar: CookieJar, url: string, fields: Record<string, string>) {
  const response = await jar.fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: response.status, location: response.headers.get('location'), text: await response.text() };
}
