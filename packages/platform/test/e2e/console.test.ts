// The console in a real browser, as people walk it: an admin adds an org key and tests it,
// creates a proxy and a confidential client (whose secret gets a token that works at the router),
// creates a member; the member adds a personal key and is refused admin pages; the admin disables
// the member and the member's app token stops working within 5 s.
// KEYWARD_UPDATE_SCREENSHOTS=1 also refreshes the console screenshots in docs/screenshots/.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { clientCredentialsToken, userTokens } from '../support/oauth-client.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

const DOCS_SCREENSHOTS = fileURLToPath(new URL('../../../../docs/screenshots/', import.meta.url));
const updateScreenshots = process.env.KEYWARD_UPDATE_SCREENSHOTS === '1';
const ORG_KEY = 'sk-org-browser-0123456789abcdef-WXYZ';
const MEMBER = { email: 'morgan@example.com', password: 'morgan walks the console' };

let tp: TestPlatform;
let upstream: Server;
let upstreamUrl: string;
let browser: TestBrowser | undefined;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    const ok = req.headers.authorization === `Bearer ${ORG_KEY}`;
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify(ok ? { object: 'list', data: [{ id: 'gpt-4o-mini' }, { id: 'gpt-4o' }, { id: 'o3-mini' }] } : { error: { message: 'bad key' } }));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/v1`;
  tp = await startTestPlatform();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await tp?.close();
  upstream?.close();
});

afterEach(async (context) => {
  if (browser && context.task.result?.state === 'fail') console.error(`screenshot of the failure: ${await browser.screenshot(`console-${context.task.name}`)}`);
});

async function snap(page: Page, name: string) {
  if (updateScreenshots) await page.screenshot({ path: join(DOCS_SCREENSHOTS, `${name}.png`), fullPage: true });
}

async function signIn(page: Page, user: { email: string; password: string }, to: string) {
  await page.goto(`${tp.url}/sign-in?return_to=${encodeURIComponent(to)}`);
  await page.fill('input[name=email]', user.email);
  await page.fill('input[name=password]', user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname === to);
}

const routerStatus = async (token: string, proxyId: string) => {
  const response = await fetch(`${tp.url}/v1/model-router/${proxyId}/models`, { headers: { authorization: `Bearer ${token}` } });
  await response.body?.cancel();
  return response.status;
};

describe('the console in a real browser', () => {
  it('admin and member walk it; a disabled member’s token stops working within 5 s', async () => {
    browser = await launchBrowser();
    const { page } = browser;
    await page.setViewportSize({ width: 1200, height: 900 });

    // The admin adds an org key and tests it.
    await signIn(page, tp.admin, '/console/keys');
    await page.getByLabel('Provider').selectOption('openai');
    await page.getByLabel('API key').fill(ORG_KEY);
    await page.getByLabel('Base URL').fill(upstreamUrl);
    await page.getByLabel('Scope').selectOption('org');
    await page.getByRole('button', { name: 'Add key' }).click();
    await expect.poll(() => page.getByText('Key added.').isVisible()).toBe(true);
    const row = page.locator('tr[data-key-id]').first();
    await expect.poll(() => row.textContent()).toContain('…WXYZ');
    expect(await page.content()).not.toContain(ORG_KEY);
    await row.getByRole('button', { name: 'Test' }).click();
    await expect.poll(() => page.getByText('The key works: OpenAI lists 3 models.').isVisible()).toBe(true);
    await snap(page, 'console-keys');

    // A proxy and a confidential client; the secret is shown once and works.
    await page.getByRole('link', { name: 'Proxies' }).click();
    await page.getByLabel('Name').fill('Batch jobs');
    await page.getByLabel('Scope').selectOption('org');
    await page.getByRole('button', { name: 'Create proxy' }).click();
    await page.waitForURL(/\/console\/proxies\/[^/?]+\?done=created/);
    const proxyId = new URL(page.url()).pathname.split('/').pop()!;
    await page.getByLabel('Name').fill('Nightly report');
    await page.getByRole('button', { name: 'Create client' }).click();
    const clientId = (await page.locator('[data-field="client_id"]').textContent())!.trim();
    const clientSecret = (await page.locator('[data-field="client_secret"]').textContent())!.trim();
    const serviceToken = await clientCredentialsToken(tp, { client_id: clientId, client_secret: clientSecret });
    expect(await routerStatus(serviceToken.access_token, proxyId)).toBe(200);
    await snap(page, 'console-proxy');

    // A member.
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByLabel('Email').fill(MEMBER.email);
    await page.getByLabel('Password').fill(MEMBER.password);
    await page.getByLabel('Role').selectOption('member');
    await page.getByRole('button', { name: 'Create user' }).click();
    await expect.poll(() => page.locator('tr', { hasText: MEMBER.email }).count()).toBe(1);
    await snap(page, 'console-users');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.pathname === '/sign-in');

    // The member adds a personal key and is refused admin pages.
    await signIn(page, MEMBER, '/console/keys');
    expect(await page.getByRole('link', { name: 'Users' }).count()).toBe(0);
    expect(await page.getByLabel('Scope').locator('option').allTextContents()).toEqual(['personal']);
    await page.getByLabel('Provider').selectOption('anthropic');
    await page.getByLabel('API key').fill('sk-ant-morgan-0123456789abcdef');
    await page.getByRole('button', { name: 'Add key' }).click();
    await expect.poll(() => page.locator('tr[data-key-id]').first().textContent()).toContain('anthropic');
    await snap(page, 'console-member-keys');
    for (const path of ['/console/users', '/console/teams', '/console/apps', '/console/audit', `/console/proxies/${proxyId}`]) {
      const response = await page.goto(`${tp.url}${path}`);
      expect(response?.status()).toBe(403);
      expect(await page.getByRole('heading', { name: 'Not allowed' }).isVisible()).toBe(true);
    }
    const memberToken = await userTokens(tp, { email: MEMBER.email, password: MEMBER.password });
    expect(await routerStatus(memberToken.access_token, tp.defaultProxyId)).toBe(200);
    await page.goto(`${tp.url}/console/keys`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.pathname === '/sign-in');

    // The admin disables the member; the member's app token stops working within 5 s.
    await signIn(page, tp.admin, '/console/users');
    await page.locator('tr', { hasText: MEMBER.email }).getByRole('button', { name: 'Disable' }).click();
    await expect.poll(() => page.locator('tr', { hasText: MEMBER.email }).textContent()).toContain('disabled');
    const started = Date.now();
    await expect.poll(() => routerStatus(memberToken.access_token, tp.defaultProxyId), { timeout: 5000, interval: 100 }).not.toBe(200);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
