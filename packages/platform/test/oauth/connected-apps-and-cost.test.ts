// Connected apps (list + revoke ends the tokens at the router) and the cost of authenticateBearer.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar, authorizeWithoutBrowser, userTokens } from '../support/oauth-client.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { bearerCheckFor, eventually } from './bearer-support.js';

let tp: TestPlatform;
let bearer: Awaited<ReturnType<typeof bearerCheckFor>>;
beforeAll(async () => {
  tp = await startTestPlatform();
  bearer = await bearerCheckFor(tp);
}, 60_000);
afterAll(async () => {
  bearer?.stop();
  await tp?.close();
});

describe('connected apps: the user sees what they granted and can revoke it', () => {
  it('lists the app and Revoke stops its tokens at the router within 5 seconds', async () => {
    const jar = new CookieJar();
    const tokens = await userTokens(tp, { clientName: 'Notes App', jar });
    await bearer.authenticate(tokens.access_token);
    const page = await jar.fetch(`${tp.url}/account/apps`);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(html).toContain('Notes App');
    expect(html).toContain("Use models through this organization&#39;s LLM proxies, billed to you");
    const csrf = /name="csrf" value="([^"]*)"/.exec(html)![1]!;
    const grantId = /name="grant_id" value="([^"]*)"/.exec(html)![1]!;
    const revoke = await jar.fetch(`${tp.url}/account/apps/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ csrf, grant_id: grantId }),
    });
    expect(revoke.status).toBe(303);
    const took = await eventually(async () => bearer.authenticate(tokens.access_token).then(() => false, () => true));
    expect(took).toBeLessThan(5000);
    expect(await (await jar.fetch(`${tp.url}/account/apps`)).text()).not.toContain('Notes App');
  });

  it('a Revoke POST without its CSRF token revokes nothing (403)', async () => {
    const jar = new CookieJar();
    const tokens = await userTokens(tp, { clientName: 'Other App', jar });
    const html = await (await jar.fetch(`${tp.url}/account/apps`)).text();
    const grantId = /name="grant_id" value="([^"]*)"/.exec(html)![1]!;
    const revoke = await jar.fetch(`${tp.url}/account/apps/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_id: grantId }),
    });
    expect(revoke.status).toBe(403);
    await bearer.authenticate(tokens.access_token);
  });
});

describe('the cost of authenticateBearer per router request', () => {
  it('measures µs/op for a first sight (signature check) and a repeat (cached verification)', async () => {
    const tokens = await userTokens(tp);
    const n = 10_000;
    let started = performance.now();
    for (let i = 0; i < n; i++) await bearer.authenticate(tokens.access_token);
    const cached = ((performance.now() - started) * 1000) / n;
    const jar = new CookieJar();
    const fresh: string[] = [];
    for (let i = 0; i < 100; i++) fresh.push((await authorizeWithoutBrowser(tp, { clientId: tokens.client.client_id, jar })).access_token);
    const cold = await bearerCheckFor(tp);
    started = performance.now();
    for (const token of fresh) await cold.authenticate(token);
    const verify = ((performance.now() - started) * 1000) / fresh.length;
    cold.stop();
    console.log(`authenticateBearer: ${verify.toFixed(1)} µs/op first sight (ES256 verify), ${cached.toFixed(2)} µs/op repeat (${n} calls)`);
    expect(cached).toBeLessThan(100);
  }, 120_000);
});
