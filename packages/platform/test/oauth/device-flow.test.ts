// The device authorization grant (RFC 8628): a CLI with no redirect gets a code, the signed-in user
// enters it at /device and consents, and the CLI's polling gets tokens that work on the router.
// The CLI side is oauth4webapi; the user side a real browser, or plain form posts where a browser
// adds nothing.

import * as oauth from 'oauth4webapi';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../support/browser.js';
import { CookieJar, hiddenField } from '../support/cookie-jar.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { startRouterHarness, type RouterHarness } from '../router/support/router-harness.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const http = { [oauth.allowInsecureRequests]: true } as const;
const form = { 'content-type': 'application/x-www-form-urlencoded' };

let h: RouterHarness;
let tp: TestPlatform;
let browser: TestBrowser;
let as: oauth.AuthorizationServer;

beforeAll(async () => {
  h = await startRouterHarness({ KEYWARD_DEVICE_POLL_INTERVAL_SECONDS: '1' });
  tp = h.tp;
  await h.addKey('openai');
  browser = await launchBrowser();
  as = await discover(tp);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await h?.close();
});
afterEach(async (context) => {
  if (context.task.result?.state === 'fail') await browser.screenshot(context.task.name);
});

async function discover(platform: TestPlatform) {
  const issuer = new URL(platform.url);
  return oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...http, algorithm: 'oauth2' }));
}

/** What a CLI registers: a public client with the device grant and no redirect. */
async function registerCli(server: oauth.AuthorizationServer, name = 'Keyward CLI'): Promise<oauth.Client> {
  const registered = await oauth.processDynamicClientRegistrationResponse(
    await oauth.dynamicClientRegistrationRequest(
      server,
      { client_name: name, grant_types: [DEVICE_GRANT, 'refresh_token'], response_types: [], token_endpoint_auth_method: 'none' },
      http,
    ),
  );
  return { client_id: registered.client_id };
}

async function startDevice(server: oauth.AuthorizationServer, client: oauth.Client) {
  return oauth.processDeviceAuthorizationResponse(
    server,
    client,
    await oauth.deviceAuthorizationRequest(server, client, oauth.None(), { scope: 'llm:proxy offline_access' }, http),
  );
}

/** One poll of the token endpoint: the tokens, or the OAuth error code. */
async function poll(server: oauth.AuthorizationServer, client: oauth.Client, deviceCode: string) {
  try {
    return { tokens: await oauth.processDeviceCodeResponse(server, client, await oauth.deviceCodeGrantRequest(server, client, oauth.None(), deviceCode, http)) };
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError) return { error: error.error };
    throw error;
  }
}

/** Polls at the advertised interval until the answer is not authorization_pending. */
async function pollUntilDecided(server: oauth.AuthorizationServer, client: oauth.Client, deviceCode: string, interval: number) {
  for (let i = 0; i < 30; i++) {
    await new Promise((r) => setTimeout(r, interval * 1000));
    const answer = await poll(server, client, deviceCode);
    if (answer.error !== 'authorization_pending') return answer;
  }
  throw new Error('still pending');
}

async function signedInJar(platform: TestPlatform) {
  const jar = new CookieJar();
  const page = await (await jar.fetch(`${platform.url}/sign-in`)).text();
  const signIn = await jar.fetch(`${platform.url}/sign-in`, {
    method: 'POST',
    headers: form,
    body: new URLSearchParams({ csrf: hiddenField(page, 'csrf'), email: platform.admin.email, password: platform.admin.password, return_to: '/account' }),
  });
  expect(signIn.status).toBe(303);
  return jar;
}

/** Types a user code into /device and follows the redirects to the next page someone would see. */
async function enterUserCode(platform: TestPlatform, jar: CookieJar, userCode: string) {
  const input = await jar.fetch(`${platform.url}/device`);
  expect(input.status).toBe(200);
  const xsrf = hiddenField(await input.text(), 'xsrf');
  let response = await jar.fetch(`${platform.url}/device`, { method: 'POST', headers: form, body: new URLSearchParams({ xsrf, user_code: userCode, confirm: 'yes' }) });
  for (let hop = 0; hop < 10 && response.headers.get('location'); hop++) {
    await response.body?.cancel();
    response = await jar.fetch(new URL(response.headers.get('location')!, platform.url));
  }
  return { status: response.status, page: await response.text() };
}

async function decide(platform: TestPlatform, jar: CookieJar, consentPage: string, decision: 'allow' | 'deny') {
  const action = /<form method="post" action="([^"]+)"/.exec(consentPage)![1]!;
  let response = await jar.fetch(new URL(action, platform.url), {
    method: 'POST',
    headers: form,
    body: new URLSearchParams({ csrf: hiddenField(consentPage, 'csrf'), decision }),
  });
  for (let hop = 0; hop < 10 && response.headers.get('location'); hop++) {
    await response.body?.cancel();
    response = await jar.fetch(new URL(response.headers.get('location')!, platform.url));
  }
  return { status: response.status, page: await response.text() };
}

describe('device flow: advertised and registrable', () => {
  it('the server metadata names the device authorization endpoint and grant', async () => {
    expect(as.device_authorization_endpoint).toBe(`${tp.url}/api/auth/oauth2/device-authorization`);
    expect(as.grant_types_supported).toContain(DEVICE_GRANT);
  });

  it('open registration accepts a public device-flow client without redirect URIs', async () => {
    const client = await registerCli(as);
    expect(client.client_id).toBeTruthy();
  });

  it('open registration still refuses a confidential device-flow client', async () => {
    const response = await fetch(`${tp.url}/api/auth/oauth2/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'x', grant_types: [DEVICE_GRANT], response_types: [], token_endpoint_auth_method: 'client_secret_basic' }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_client_metadata' });
  });

  it('a code-only client asking for a device code is unauthorized_client (RFC 8628 §3.1)', async () => {
    const register = await fetch(`${tp.url}/api/auth/oauth2/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'web', redirect_uris: ['https://app.example.com/cb'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'] }),
    });
    const { client_id } = (await register.json()) as { client_id: string };
    const response = await fetch(`${tp.url}/api/auth/oauth2/device-authorization`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id, scope: 'llm:proxy' }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'unauthorized_client' });
  });
});

describe('device flow: the user allows the CLI in a browser', () => {
  it('gets an access token that works on the router, and a refresh token', async () => {
    const client = await registerCli(as, 'Terminal Helper');
    const device = await startDevice(as, client);
    expect(device.verification_uri).toBe(`${tp.url}/device`);
    expect(device.user_code).toMatch(/^[A-Z]{4}-[A-Z]{4}$/);
    expect(device.interval).toBe(1);
    expect(await poll(as, client, device.device_code)).toEqual({ error: 'authorization_pending' });

    // The user opens the complete link: sign-in first, then the code is already filled in.
    const { page } = browser;
    await page.goto(device.verification_uri_complete!);
    await page.fill('input[name=email]', tp.admin.email);
    await page.fill('input[name=password]', tp.admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Code').waitFor();
    expect(await page.getByLabel('Code').inputValue()).toBe(device.user_code);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: 'Allow', exact: true }).waitFor();
    expect(await page.locator('h1').textContent()).toContain('Terminal Helper');
    expect(await page.locator('li[data-scope="llm:proxy"]').count()).toBe(1);
    await page.getByRole('button', { name: 'Allow', exact: true }).click();
    await page.getByRole('heading', { name: 'Device connected' }).waitFor();

    const answer = await pollUntilDecided(as, client, device.device_code, device.interval ?? 5);
    const tokens = answer.tokens!;
    expect(tokens.refresh_token).toBeTruthy();
    expect(tokens.scope).toContain('llm:proxy');

    h.upstreams.openai.enqueue({ type: 'text', text: 'hello from the device', usage: { input: 3, output: 4 } });
    const completion = await h.openai(tokens.access_token).chat.completions.create({ model: 'openai:gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(completion.choices[0]!.message.content).toBe('hello from the device');

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, http),
    );
    h.upstreams.openai.enqueue({ type: 'text', text: 'still here', usage: { input: 1, output: 1 } });
    const again = await h.openai(refreshed.access_token).chat.completions.create({ model: 'openai:gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] });
    expect(again.choices[0]!.message.content).toBe('still here');

    // The device code is spent.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await poll(as, client, device.device_code)).error).toBe('invalid_grant');
  }, 60_000);
});

describe('device flow: the user denies', () => {
  it('the page says so in words and the CLI gets access_denied', async () => {
    const client = await registerCli(as, 'Unwanted Agent');
    const device = await startDevice(as, client);
    const jar = await signedInJar(tp);
    const consent = await enterUserCode(tp, jar, device.user_code);
    expect(consent.page).toContain('Allow Unwanted Agent to use Keyward?');
    expect(consent.page).toContain('continues on the device that showed you the code');
    const denied = await decide(tp, jar, consent.page, 'deny');
    expect(denied.page).toContain('Access denied');
    expect(denied.page).toContain('Nothing was shared with it');
    expect(await pollUntilDecided(as, client, device.device_code, 1)).toEqual({ error: 'access_denied' });
  }, 30_000);
});

describe('device flow: polling too fast', () => {
  it('answers slow_down to a poll sooner than the interval, then authorization_pending again', async () => {
    const client = await registerCli(as);
    const device = await startDevice(as, client);
    expect(await poll(as, client, device.device_code)).toEqual({ error: 'authorization_pending' });
    expect(await poll(as, client, device.device_code)).toEqual({ error: 'slow_down' });
    await new Promise((r) => setTimeout(r, 1100));
    expect(await poll(as, client, device.device_code)).toEqual({ error: 'authorization_pending' });
  });
});

describe('device flow: polling at once from several places', () => {
  it('lets exactly one of simultaneous polls through; the rest hear slow_down', async () => {
    const client = await registerCli(as);
    const device = await startDevice(as, client);
    const answers = await Promise.all(Array.from({ length: 20 }, () => poll(as, client, device.device_code)));
    expect(answers.filter((a) => a.error === 'authorization_pending')).toHaveLength(1);
    expect(answers.filter((a) => a.error === 'slow_down')).toHaveLength(19);
  });
});

describe('device flow: the /device page', () => {
  it('sends a signed-out visitor to sign in, keeping the code', async () => {
    const response = await fetch(`${tp.url}/device?user_code=ABCD-EFGH`, { redirect: 'manual' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe(`/sign-in?return_to=${encodeURIComponent('/device?user_code=ABCD-EFGH')}`);
  });

  it('is a Keyward page under the strict CSP, with a labelled code field', async () => {
    const jar = await signedInJar(tp);
    const response = await jar.fetch(`${tp.url}/device`);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    const page = await response.text();
    expect(page).toContain('<label for="user_code">Code</label>');
    expect(page).not.toContain('<script');
  });

  it('says in words that a wrong code is not right, and asks again', async () => {
    const jar = await signedInJar(tp);
    const wrong = await enterUserCode(tp, jar, 'BCDF-GHJK');
    expect(wrong.status).toBe(400);
    expect(wrong.page).toContain('That code is not right');
    expect(wrong.page).toContain('name="user_code"');
  });

  it('refuses a form without its xsrf field, in words', async () => {
    const jar = await signedInJar(tp);
    await (await jar.fetch(`${tp.url}/device`)).body?.cancel();
    const response = await jar.fetch(`${tp.url}/device`, { method: 'POST', headers: form, body: new URLSearchParams({ user_code: 'BCDF-GHJK', confirm: 'yes' }) });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('Start again on your device');
  });

  it('sends a form posted from nowhere (no page was shown) back to the page, not a 500', async () => {
    const jar = await signedInJar(tp);
    const response = await jar.fetch(`${tp.url}/device`, { method: 'POST', headers: form, body: new URLSearchParams({ user_code: 'BCDF-GHJK', confirm: 'yes' }) });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/device');
    // A session cookie that names no session (expired, or made up) is the same.
    const stale = await fetch(`${tp.url}/device`, {
      method: 'POST',
      redirect: 'manual',
      headers: { ...form, cookie: `${jar.header(`${tp.url}/device`)}; keyward_oauth_session=made-up` },
      body: new URLSearchParams({ xsrf: 'x', user_code: 'BCDF-GHJK', confirm: 'yes' }),
    });
    expect(stale.status).toBe(303);
  });

  it('sends the page a form comes back to (/device/{uid}) without a session back to the device page, not a 500', async () => {
    for (const cookie of [undefined, 'keyward_oauth_session=made-up']) {
      const response = await fetch(`${tp.url}/device/abc`, { redirect: 'manual', ...(cookie ? { headers: { cookie } } : {}) });
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toBe('/device');
    }
  });
});

describe('device flow: expiry', () => {
  let short: TestPlatform;
  beforeAll(async () => {
    short = await startTestPlatform({ KEYWARD_DEVICE_CODE_TTL_SECONDS: '1', KEYWARD_DEVICE_POLL_INTERVAL_SECONDS: '1' });
  }, 60_000);
  afterAll(() => short?.close());

  it('the CLI gets expired_token and the page says the code expired', async () => {
    const server = await discover(short);
    const client = await registerCli(server);
    const device = await startDevice(server, client);
    expect(device.expires_in).toBe(1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await poll(server, client, device.device_code)).toEqual({ error: 'expired_token' });
    const jar = await signedInJar(short);
    const expired = await enterUserCode(short, jar, device.user_code);
    expect(expired.status).toBe(400);
    expect(expired.page).toContain('That code has expired');
  });
});
