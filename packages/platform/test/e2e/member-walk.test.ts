// Issue 9's member walk in a real browser: an admin creates a member; the member signs in, adds a
// personal key (at the demo model, a host the operator allowed for members' keys), connects the
// example app, sends a prompt, sees the answer, and finds that call in their usage.
// KEYWARD_UPDATE_SCREENSHOTS=1 also refreshes the console overview and usage screenshots.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USER, startDemo, type RunningDemo } from '../../../../scripts/demo.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { createTestDatabase, freePort } from '../support/test-platform.js';

const DOCS_SCREENSHOTS = fileURLToPath(new URL('../../../../docs/screenshots/', import.meta.url));
const updateScreenshots = process.env.KEYWARD_UPDATE_SCREENSHOTS === '1';
const MEMBER = { email: 'jordan@example.com', password: 'jordan brings a key' };
const PROMPT = 'Hello from a member with their own key';

let demo: RunningDemo;
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let logDir: string;
let browser: TestBrowser | undefined;

beforeAll(async () => {
  database = await createTestDatabase();
  logDir = await mkdtemp(join(tmpdir(), 'keyward-e2e-'));
  const modelPort = await freePort();
  demo = await startDemo({
    keywardPort: await freePort(),
    modelPort,
    appPort: await freePort(),
    dataDir: database.dataDir,
    databaseUrl: database.databaseUrl,
    logFile: join(logDir, 'keyward.log'),
    // Members' keys may not point at loopback unless the operator lists the host.
    env: { KEYWARD_KEY_BASE_URL_ALLOW: `127.0.0.1:${modelPort}` },
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await demo?.stop();
  await database?.drop();
  await rm(logDir, { recursive: true, force: true });
});

afterEach(async (context) => {
  if (browser && context.task.result?.state === 'fail') console.error(`screenshot of the failure: ${await browser.screenshot(`member-walk-${context.task.name}`)}`);
});

async function snap(page: Page, name: string) {
  if (updateScreenshots) await page.screenshot({ path: join(DOCS_SCREENSHOTS, `${name}.png`), fullPage: true });
}

async function signIn(page: Page, user: { email: string; password: string }, to: string) {
  await page.goto(`${demo.keywardUrl}/sign-in?return_to=${encodeURIComponent(to)}`);
  await page.fill('input[name=email]', user.email);
  await page.fill('input[name=password]', user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.pathname === to);
}

describe('a member in a real browser', () => {
  it('adds a personal key, connects the example app, sends a prompt, and sees that call in their usage', async () => {
    browser = await launchBrowser();
    const { page } = browser;
    await page.setViewportSize({ width: 1200, height: 900 });

    // The admin creates the member.
    await signIn(page, DEMO_USER, '/console/users');
    await page.getByLabel('Email').fill(MEMBER.email);
    await page.getByLabel('Password').fill(MEMBER.password);
    await page.getByLabel('Role').selectOption('member');
    await page.getByRole('button', { name: 'Create user' }).click();
    await expect.poll(() => page.locator('tr', { hasText: MEMBER.email }).count()).toBe(1);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.pathname === '/sign-in');

    // The member adds a personal key at the demo model and tests it.
    await signIn(page, MEMBER, '/console/keys');
    await page.getByLabel('Provider').selectOption('openai-compatible');
    await page.getByLabel('API key').fill('sk-jordan-0123456789abcdef-JRDN');
    await page.getByLabel('Base URL').fill(`${demo.modelUrl}/v1`);
    await page.getByRole('button', { name: 'Add key' }).click();
    await expect.poll(() => page.getByText('Key added.').isVisible()).toBe(true);
    const row = page.locator('tr[data-key-id]').first();
    expect(await row.textContent()).toContain('…JRDN');
    await row.getByRole('button', { name: 'Test' }).click();
    await expect.poll(() => page.getByText(/The key works/).isVisible()).toBe(true);

    // The member connects the example app (already signed in at Keyward: straight to consent).
    await page.goto(demo.appUrl);
    await page.getByRole('link', { name: 'Sign in with Keyward' }).click();
    const allow = page.getByRole('button', { name: 'Allow', exact: true });
    await allow.waitFor();
    await allow.click();
    await page.waitForURL((url) => url.origin === new URL(demo.appUrl).origin && url.pathname === '/');

    // A prompt, and its answer.
    await page.getByLabel('Prompt').fill(PROMPT);
    await page.getByRole('button', { name: 'Send' }).click();
    const answer = page.getByTestId('answer');
    await expect.poll(() => answer.textContent(), { timeout: 20_000 }).toContain(`You said: ${PROMPT}`);
    await expect.poll(() => page.getByRole('button', { name: 'Stop' }).isVisible(), { timeout: 20_000 }).toBe(false);

    // The call in the member's usage (usage is written in batches: look again until it is there).
    // The app also lists models; the chat call is the row naming the model.
    const modelName = demo.model.split(':').pop()!;
    await expect
      .poll(
        async () => {
          await page.goto(`${demo.keywardUrl}/console/usage`);
          return page.locator('tr[data-usage-row]', { hasText: modelName }).count();
        },
        { timeout: 15_000, interval: 500 },
      )
      .toBe(1);
    expect(await page.locator('tr[data-usage-row]', { hasText: modelName }).textContent()).toContain('Model Router example app');
    await snap(page, 'console-usage');
    await page.goto(`${demo.keywardUrl}/console`);
    await snap(page, 'console-overview');
  }, 120_000);
});
