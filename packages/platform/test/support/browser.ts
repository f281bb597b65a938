// A real browser for OAuth tests: Debian's chromium driven by playwright-core, headless, in a fresh
// profile. Redirects to an app's callback are caught (nothing needs to listen there) and returned.

import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';
const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Saves a screenshot under test-results/ (call it when a test fails). */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const profile = await mkdtemp(join(tmpdir(), 'keyward-chromium-'));
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: ARGS });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    async screenshot(name) {
      const dir = join(process.cwd(), 'test-results');
      await mkdir(dir, { recursive: true });
      const file = join(dir, `${name.replace(/[^\w.-]+/g, '_')}.png`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
      return file;
    },
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Opens `authorizationUrl`, signs in if asked, presses Allow (or Deny) on the consent page, and
 * returns the URL the server redirected to under `callbackPrefix`.
 */
export async function authorizeInBrowser(
  browser: TestBrowser,
  authorizationUrl: string | URL,
  options: { callbackPrefix: string; email: string; password: string; decision?: 'Allow' | 'Deny' },
): Promise<URL> {
  const { page } = browser;
  let resolveCallback!: (url: URL) => void;
  const callback = new Promise<URL>((resolve) => (resolveCallback = resolve));
  const pattern = (url: URL) => url.href.startsWith(options.callbackPrefix);
  await page.route(pattern, async (route) => {
    resolveCallback(new URL(route.request().url()));
    await route.fulfill({ status: 200, contentType: 'text/html', body: '<p>callback received</p>' });
  });
  try {
    await page.goto(String(authorizationUrl));
    const signIn = page.locator('input[name=password]');
    const consent = page.getByRole('button', { name: options.decision ?? 'Allow', exact: true });
    const done = callback.then(() => 'callback' as const);
    const first = await Promise.race([
      signIn.waitFor({ timeout: 15_000 }).then(() => 'sign-in' as const),
      consent.waitFor({ timeout: 15_000 }).then(() => 'consent' as const),
      done,
    ]);
    if (first === 'sign-in') {
      await page.fill('input[name=email]', options.email);
      await page.fill('input[name=password]', options.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
    }
    if (first !== 'callback') {
      const next = await Promise.race([consent.waitFor({ timeout: 15_000 }).then(() => 'consent' as const), done]);
      if (next === 'consent') await consent.click();
    }
    return await callback;
  } finally {
    await page.unroute(pattern);
  }
}
