// The seed's flow in a real browser: the example app, Keyward's sign-in and consent pages, the
// Model Router, and a local OpenAI-compatible model, all started by `npm run demo`'s own code.
// KEYWARD_UPDATE_SCREENSHOTS=1 also refreshes the screenshots in docs/screenshots/.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USER, startDemo, type RunningDemo } from '../../../../scripts/demo.js';
import { createUser } from '../../src/accounts/users.js';
import { addMembership, requirePrimaryOrganization } from '../../src/accounts/organizations.js';
import { openStorage } from '../../src/db/database.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { createTestDatabase, freePort } from '../support/test-platform.js';

const DOCS_SCREENSHOTS = fileURLToPath(new URL('../../../../docs/screenshots/', import.meta.url));
const updateScreenshots = process.env.KEYWARD_UPDATE_SCREENSHOTS === '1';
const SECOND_USER = { email: 'second.user@keyward.local', password: 'another offline passphrase' };

let demo: RunningDemo;
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let logDir: string;
let browser: TestBrowser | undefined;

beforeAll(async () => {
  database = await createTestDatabase();
  logDir = await mkdtemp(join(tmpdir(), 'keyward-e2e-'));
  demo = await startDemo({
    keywardPort: await freePort(),
    modelPort: await freePort(),
    appPort: await freePort(),
    dataDir: database.dataDir,
    databaseUrl: database.databaseUrl,
    logFile: join(logDir, 'keyward.log'),
  });
  // A second member, for the deny path (the first user's consent is remembered once given).
  const storage = openStorage(database);
  const org = await requirePrimaryOrganization(storage.db);
  const user = await createUser(storage.db, SECOND_USER);
  await addMembership(storage.db, org.id, user.id, 'member');
  await storage.close();
}, 120_000);

afterAll(async () => {
  await demo?.stop();
  await database?.drop();
  await rm(logDir, { recursive: true, force: true });
});

afterEach(async (context) => {
  if (browser && context.task.result?.state === 'fail') {
    const file = await browser.screenshot(`e2e-${context.task.name}`);
    console.error(`screenshot of the failure: ${file}`);
  }
  await browser?.close();
  browser = undefined;
});

async function snap(page: Page, name: string) {
  if (updateScreenshots) await page.screenshot({ path: join(DOCS_SCREENSHOTS, `${name}.png`) });
}

async function signInAtKeyward(page: Page, user: { email: string; password: string }) {
  await page.getByRole('link', { name: 'Sign in with Keyward' }).click();
  await page.waitForURL((url) => url.pathname === '/sign-in');
  await page.setViewportSize({ width: 900, height: 720 });
  await page.fill('input[name=email]', user.email);
  await page.fill('input[name=password]', user.password);
  await snap(page, 'sign-in');
  await page.getByRole('button', { name: 'Sign in' }).click();
}

describe('the example app in a real browser', () => {
  it('signs in with Keyward, asks consent, and streams the demo model answer into the page', async () => {
    browser = await launchBrowser();
    const { page } = browser;
    await page.goto(demo.appUrl);
    await signInAtKeyward(page, DEMO_USER);

    // Keyward's consent page: the app, where it sends you back, the scopes in words.
    const allow = page.getByRole('button', { name: 'Allow', exact: true });
    await allow.waitFor();
    await expect(page.getByRole('button', { name: 'Deny', exact: true }).isVisible()).resolves.toBe(true);
    const consent = await page.textContent('body');
    expect(consent).toContain('Model Router example app');
    expect(consent).toContain(new URL(demo.appUrl).host);
    expect(consent).toMatch(/Use models through this organization's LLM proxies/);
    expect(consent).toMatch(/Stay connected when you are away/);
    await snap(page, 'consent');
    await allow.click();

    // Back in the app, signed in: send a prompt and watch the answer arrive in pieces.
    await page.waitForURL((url) => url.origin === new URL(demo.appUrl).origin && url.pathname === '/');
    const prompt = page.getByLabel('Prompt');
    await prompt.fill('Hello from the browser test');
    await page.getByRole('button', { name: 'Send' }).click();
    const answer = page.getByTestId('answer');
    const seen = new Set<string>();
    const deadline = Date.now() + 20_000;
    let text = '';
    while (Date.now() < deadline) {
      text = (await answer.textContent().catch(() => '')) ?? '';
      if (text) seen.add(text);
      if (/You said: Hello from the browser test/.test(text) && !(await page.getByRole('button', { name: 'Stop' }).isVisible())) break;
      await page.waitForTimeout(25);
    }
    expect(text).toMatch(/offline demo model/i);
    expect(text).toContain('Hello from the browser test');
    // Streaming: the page showed the answer growing, not just its final form.
    expect(seen.size).toBeGreaterThan(2);
    await snap(page, 'chat');
  }, 90_000);

  it('shows a clear message when the user denies consent', async () => {
    browser = await launchBrowser();
    const { page } = browser;
    await page.goto(demo.appUrl);
    await signInAtKeyward(page, SECOND_USER);
    await page.getByRole('button', { name: 'Deny', exact: true }).click();
    await page.waitForURL((url) => url.origin === new URL(demo.appUrl).origin);
    const body = (await page.textContent('body')) ?? '';
    expect(body).toMatch(/chose not to let this app use Keyward/);
    await expect(page.getByRole('link', { name: 'Sign in with Keyward' }).isVisible()).resolves.toBe(true);
  }, 60_000);

  it('signs out: the app forgets the session and offers sign-in again', async () => {
    browser = await launchBrowser();
    const { page } = browser;
    await page.goto(demo.appUrl);
    await signInAtKeyward(page, DEMO_USER);
    // Consent was given in the first test, so Keyward goes straight back to the app.
    await page.waitForURL((url) => url.origin === new URL(demo.appUrl).origin && url.pathname === '/');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('link', { name: 'Sign in with Keyward' }).waitFor();
    expect(await page.getByLabel('Prompt').count()).toBe(0);
  }, 60_000);
});
