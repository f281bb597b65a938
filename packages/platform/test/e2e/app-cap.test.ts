// A spending limit the user chose, in a real browser: the user picks a small limit for the example
// app at consent, the app's calls stop at it with a clear error in the app's page (402
// budget_exceeded, naming the limit), the user raises it in Connected apps, and calls work again.
// KEYWARD_UPDATE_SCREENSHOTS=1 also refreshes its screenshots in docs/screenshots/.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PROVIDER, DEMO_USER, startDemo, type RunningDemo } from '../../../../scripts/demo.js';
import { DEMO_MODEL_ID } from '../../../../scripts/demo-model-server.js';
import { recordChange, type ChangeFeed, type ChangeTopic } from '../../src/db/change-log.js';
import { openStorage } from '../../src/db/database.js';
import { setModelPrice } from '../../src/usage/model-prices.js';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { createTestDatabase, freePort } from '../support/test-platform.js';

const DOCS_SCREENSHOTS = fileURLToPath(new URL('../../../../docs/screenshots/', import.meta.url));

async function snap(page: Page, name: string) {
  if (process.env.KEYWARD_UPDATE_SCREENSHOTS === '1') await page.screenshot({ path: join(DOCS_SCREENSHOTS, `${name}.png`), fullPage: true });
}

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
  // Output at $0.001 a token: each demo answer (about 15 tokens) costs about $0.015; input is nearly free,
  // so the test does not depend on how the router estimates input.
  // Written from outside the running platform: it reads the change from the log within a second.
  const storage = openStorage(database);
  const changes = { publish: (topic: ChangeTopic, id: string) => recordChange(storage.db, topic, id) } as ChangeFeed;
  await setModelPrice({ db: storage.db, changes }, { provider: DEMO_PROVIDER, model: DEMO_MODEL_ID, inputUsdPerMtok: '1', outputUsdPerMtok: '1000' });
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

/** Sends a prompt in the example app; resolves with the answer, or the error the page showed. */
async function ask(page: Page, text: string): Promise<{ answer?: string; error?: string }> {
  await page.getByLabel('Prompt').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  const error = page.getByTestId('error');
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (await error.isVisible()) return { error: (await error.textContent()) ?? '' };
    // The page removes an empty answer when the call fails: do not wait for it to come back.
    const answer = (await page.getByTestId('answer').textContent({ timeout: 100 }).catch(() => '')) ?? '';
    if (answer.includes(`You said: ${text}`) && !(await page.getByRole('button', { name: 'Stop' }).isVisible())) return { answer };
    await page.waitForTimeout(25);
  }
  throw new Error(`no answer and no error for "${text}": the page shows "${await page.getByTestId('answer').textContent({ timeout: 100 }).catch(() => '')}"`);
}

describe('a spending limit the user chose for an app, in a real browser', () => {
  it('stops the app at the limit chosen at consent, with a clear error, until the user raises it in Connected apps', async () => {
    browser = await launchBrowser();
    const { page } = browser;
    await page.goto(demo.appUrl);
    await page.getByRole('link', { name: 'Sign in with Keyward' }).click();
    await page.fill('input[name=email]', DEMO_USER.email);
    await page.fill('input[name=password]', DEMO_USER.password);
    await page.getByRole('button', { name: 'Sign in' }).click();

    // Consent: five cents a day, as "Another amount…".
    const control = page.getByLabel('Spending limit for this app');
    await control.waitFor();
    await control.selectOption({ label: 'Another amount…' });
    await page.getByLabel('Amount (USD)').fill('0.05');
    await page.getByLabel('Per', { exact: true }).selectOption('day');
    await snap(page, 'app-cap-consent');
    await page.getByRole('button', { name: 'Allow', exact: true }).click();
    await page.waitForURL((url) => url.origin === new URL(demo.appUrl).origin && url.pathname === '/');

    // Each call reserves what it may cost and settles to what it did; the limit pays for a few.
    const results: Array<{ answer?: string; error?: string }> = [];
    for (let i = 1; i <= 6; i++) {
      const result = await ask(page, `call ${i}`);
      results.push(result);
      if (result.error) break;
    }
    const answered = results.filter((r) => r.answer).length;
    console.log(`the $0.05 limit paid for ${answered} calls; the next was refused`);
    expect(answered).toBeGreaterThanOrEqual(1);
    const stopped = results.at(-1)!.error;
    expect(stopped).toBeDefined();
    expect(stopped).toMatch(/spending limit on Keyward stopped this call/);
    expect(stopped).toMatch(/Spending limit reached: your own spending limit for app .* \(.+\) of \$0\.05 per day cannot pay for this call; it resets at \d{4}-\d\d-\d\dT00:00:00\.000Z; you can raise it under Connected apps in Keyward/);
    await expect(page.getByRole('link', { name: /change its limit in Keyward/ }).getAttribute('href')).resolves.toBe(`${demo.keywardUrl}/account/apps`);
    await snap(page, 'app-cap-stopped');

    // Connected apps: the spend against the limit (settled within about a second), then a higher limit.
    await page.goto(`${demo.keywardUrl}/account/apps`);
    const spend = page.locator('[data-app-spend]');
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && /Spent \$0\.0000/.test((await spend.textContent()) ?? '')) {
      await page.waitForTimeout(250);
      await page.reload();
    }
    expect(await spend.textContent()).toMatch(/^Spent \$0\.0[1-5]\d\d of \$0\.05 today · resets \d{4}-\d\d-\d\d 00:00 UTC$/);
    await snap(page, 'app-cap-connected-apps');
    await page.getByLabel('Spending limit for this app').selectOption({ label: '$1 per day' });
    await page.getByRole('button', { name: 'Save limit', exact: true }).click();
    await page.getByText('Spending limit saved').waitFor();
    expect(await page.locator('[data-app-spend]').textContent()).toMatch(/of \$1\.00 today/);

    // Back in the app: calls work again.
    await page.goto(demo.appUrl);
    const again = await ask(page, 'after raising the limit');
    expect(again.error).toBeUndefined();
    expect(again.answer).toMatch(/offline demo model/);
  }, 90_000);
});
