import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig, type Config } from '../src/config.js';
import { createApp, type App } from '../src/server.js';
import { Browser, csrfTokenOf } from './browser.js';
import { PROXY_ID, startFakeKeyward, type FakeKeyward } from './fake-keyward.js';

const APP_ORIGIN = 'http://localhost:5174';
const REDIRECT_URI = `${APP_ORIGIN}/oauth/callback`;

let fake: FakeKeyward;
let dir: string;
let config: Config;
const apps: App[] = [];

beforeEach(async () => {
  fake = await startFakeKeyward();
  dir = await mkdtemp(join(tmpdir(), 'model-router-example-'));
  config = parseConfig({ KEYWARD_BASE_URL: fake.url, APP_BASE_URL: APP_ORIGIN, LLM_PROXY_ID: PROXY_ID });
});

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  await fake.close();
  await rm(dir, { recursive: true, force: true });
});

/** Starts the app on a free port; the browser still calls itself http://localhost:5174 (Origin). */
async function startApp(): Promise<Browser> {
  const app = createApp(config, { clientStoreFile: join(dir, '.keyward-client.json') });
  apps.push(app);
  await new Promise<void>((resolve) => app.server.listen(0, '127.0.0.1', resolve));
  return new Browser(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, APP_ORIGIN);
}

/** GET /login and return the authorization request the browser was sent to. */
async function startSignIn(browser: Browser): Promise<URL> {
  const page = await browser.get('/login');
  expect(page.status).toBe(302);
  return new URL(page.headers.get('location')!);
}

/** Plays Keyward's part: the user signs in and presses Allow. */
function approve(authorize: URL, overrides: Record<string, string | null> = {}): string {
  const callback = new URL(authorize.searchParams.get('redirect_uri')!);
  callback.searchParams.set('code', fake.issueCode(authorize.searchParams));
  callback.searchParams.set('state', authorize.searchParams.get('state')!);
  callback.searchParams.set('iss', fake.url);
  for (const [name, value] of Object.entries(overrides)) {
    if (value === null) callback.searchParams.delete(name);
    else callback.searchParams.set(name, value);
  }
  return `${callback.pathname}${callback.search}`;
}

async function signIn(browser: Browser): Promise<string> {
  const callback = await browser.get(approve(await startSignIn(browser)));
  expect(callback.headers.get('location')).toBe('/');
  const home = await browser.get('/');
  expect(home.body).toContain('Sign out');
  return csrfTokenOf(home.body);
}

const tokenRequests = () => fake.requestsTo('/api/auth/oauth2/token').map((r) => new URLSearchParams(r.body));

describe('the authorization request', () => {
  it('sends exactly the parameters of the doc page, with an S256 PKCE challenge and a random state', async () => {
    const browser = await startApp();
    const authorize = await startSignIn(browser);

    expect(`${authorize.origin}${authorize.pathname}`).toBe(`${fake.url}/api/auth/oauth2/authorize`);
    expect([...authorize.searchParams.keys()].sort()).toEqual(
      ['client_id', 'code_challenge', 'code_challenge_method', 'redirect_uri', 'response_type', 'scope', 'state'].sort(),
    );
    const params = Object.fromEntries(authorize.searchParams);
    expect(params).toMatchObject({
      response_type: 'code',
      client_id: [...fake.clients.keys()][0],
      redirect_uri: REDIRECT_URI,
      scope: 'llm:proxy offline_access',
      code_challenge_method: 'S256',
    });
    expect(params.code_challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.state).toMatch(/^[A-Za-z0-9_-]{20,}$/);
    expect((await startSignIn(browser)).searchParams.get('state')).not.toBe(params.state);
  });

  it('registers a public client with the redirect URI, and the session cookie is httpOnly and SameSite=Lax', async () => {
    const browser = await startApp();
    const page = await browser.get('/login');
    const [registration] = fake.requestsTo('/api/auth/oauth2/register');
    expect(JSON.parse(registration!.body)).toMatchObject({
      redirect_uris: [REDIRECT_URI],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    });
    expect(page.headers.get('set-cookie')).toMatch(/HttpOnly/);
    expect(page.headers.get('set-cookie')).toMatch(/SameSite=Lax/);
    // no-referrer would make browsers send `Origin: null` on the sign-out form, failing its check
    expect(page.headers.get('referrer-policy')).toBe('same-origin');
  });
});

describe('the callback', () => {
  it('exchanges the code with exactly the parameters of the doc page and shows the chat', async () => {
    const browser = await startApp();
    const authorize = await startSignIn(browser);
    expect((await browser.get(approve(authorize))).headers.get('location')).toBe('/');

    const [exchange] = tokenRequests();
    expect([...exchange!.keys()].sort()).toEqual(['client_id', 'code', 'code_verifier', 'grant_type', 'redirect_uri']);
    expect(exchange!.get('grant_type')).toBe('authorization_code');
    expect(exchange!.get('client_id')).toBe(authorize.searchParams.get('client_id'));
    expect(exchange!.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(createHash('sha256').update(exchange!.get('code_verifier')!).digest('base64url')).toBe(authorize.searchParams.get('code_challenge'));

    const home = await browser.get('/');
    expect(home.body).toContain('<option value="anthropic:claude-sonnet-4">');
    expect(home.body).toContain('<option value="openai:gpt-4o-mini" selected>');
  });

  it('rejects a state this browser did not start, without exchanging the code', async () => {
    const browser = await startApp();
    await browser.get(approve(await startSignIn(browser), { state: 'forged-state' }));
    expect(tokenRequests()).toHaveLength(0);
    expect((await browser.get('/')).body).toContain('This sign-in was not started here');
  });

  it('rejects a callback arriving in another browser (no session)', async () => {
    const victim = await startApp();
    const attacker = new Browser(victim.appUrl, APP_ORIGIN);
    await victim.get(approve(await startSignIn(attacker)));
    expect(tokenRequests()).toHaveLength(0);
  });

  it('rejects a response from another issuer (RFC 9207), and one without iss', async () => {
    const browser = await startApp();
    await browser.get(approve(await startSignIn(browser), { iss: 'https://evil.example' }));
    expect((await browser.get('/')).body).toContain('did not come from the Keyward server this app trusts');
    await browser.get(approve(await startSignIn(browser), { iss: null }));
    expect((await browser.get('/')).body).toContain('did not come from the Keyward server this app trusts');
    expect(tokenRequests()).toHaveLength(0);
  });

  it('explains a denied consent in plain words', async () => {
    const browser = await startApp();
    await browser.get(approve(await startSignIn(browser), { code: null, error: 'access_denied', error_description: 'End-User aborted interaction' }));
    const home = await browser.get('/');
    expect(home.body).toContain('You chose not to let this app use Keyward');
    expect(home.body).toContain('Sign in with Keyward');
  });

  it('uses each state once', async () => {
    const browser = await startApp();
    const callback = approve(await startSignIn(browser));
    await browser.get(callback);
    await browser.get(callback);
    expect(tokenRequests()).toHaveLength(1);
  });
});

describe('chat', () => {
  it('streams the router’s answer through, calling the router with the user’s token', async () => {
    const browser = await startApp();
    const csrf = await signIn(browser);
    const answer = await browser.postChat(csrf);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/text\/event-stream/);
    expect(answer.body).toContain('"content":" router"');
    expect(answer.body.trimEnd().endsWith('data: [DONE]')).toBe(true);

    const [call] = fake.requestsTo(`/v1/model-router/${PROXY_ID}/chat/completions`);
    expect(call!.headers.authorization).toBe(`Bearer ${fake.issuedTokens[0]}`);
    expect(JSON.parse(call!.body)).toEqual({ model: 'openai:gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }], stream: true });
  });

  it('refuses a POST without the page’s CSRF token, or from another origin', async () => {
    const browser = await startApp();
    const csrf = await signIn(browser);
    expect((await browser.postChat('wrong-token')).status).toBe(403);
    expect((await browser.postChat(csrf, undefined, { origin: 'https://evil.example' })).status).toBe(403);
    expect((await browser.postChat(csrf, undefined, { origin: null })).status).toBe(403);
    expect(fake.requestsTo(`/v1/model-router/${PROXY_ID}/chat/completions`)).toHaveLength(0);
  });

  it('answers 401 with a sign-in hint when there is no session', async () => {
    const browser = await startApp();
    const answer = await browser.postChat('anything');
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body).error).toMatchObject({ kind: 'session_ended', signIn: true });
  });
});

describe('tokens', () => {
  it('refreshes once when the router answers 401, then retries with the new token', async () => {
    const browser = await startApp();
    const csrf = await signIn(browser);
    const [firstAccessToken] = fake.issuedTokens;
    fake.validAccessTokens.delete(firstAccessToken!); // Keyward considers it expired

    const answer = await browser.postChat(csrf);
    expect(answer.status).toBe(200);
    const refreshes = tokenRequests().filter((p) => p.get('grant_type') === 'refresh_token');
    expect(refreshes).toHaveLength(1);
    expect(refreshes[0]!.get('refresh_token')).toBe(fake.issuedTokens[1]);
    const calls = fake.requestsTo(`/v1/model-router/${PROXY_ID}/chat/completions`);
    expect(calls.map((c) => c.headers.authorization)).toEqual([`Bearer ${firstAccessToken}`, `Bearer ${fake.issuedTokens[2]}`]);
  });

  it('refreshes shortly before the access token expires, without waiting for a 401', async () => {
    fake.expiresIn = 10;
    const browser = await startApp();
    const csrf = await signIn(browser); // the home page's model list already refreshed once
    expect((await browser.postChat(csrf)).status).toBe(200);
    const calls = fake.requestsTo(`/v1/model-router/${PROXY_ID}/chat/completions`);
    expect(calls.every((c) => c.headers['authorization'] !== `Bearer ${fake.issuedTokens[0]}`)).toBe(true);
    expect(fake.requests.some((r) => r.path.startsWith('/v1/') && r.headers.authorization === `Bearer ${fake.issuedTokens[0]}`)).toBe(false);
  });

  it('shares one refresh between parallel requests (refresh tokens rotate)', async () => {
    const browser = await startApp();
    const csrf = await signIn(browser);
    fake.validAccessTokens.clear();
    const answers = await Promise.all([browser.postChat(csrf), browser.postChat(csrf), browser.postChat(csrf)]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(tokenRequests().filter((p) => p.get('grant_type') === 'refresh_token')).toHaveLength(1);
  });

  it('ends the session when the refresh token is refused', async () => {
    const browser = await startApp();
    const csrf = await signIn(browser);
    fake.validAccessTokens.clear();
    fake.validRefreshTokens.clear();
    const answer = await browser.postChat(csrf);
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body).error).toMatchObject({ kind: 'session_ended', signIn: true });
    expect((await browser.get('/')).body).toContain('Sign in with Keyward');
  });
});

describe('sign-out', () => {
  it('revokes the refresh token at Keyward (RFC 7009) and forgets the session', async () => {
    const browser = await startApp();
    const csrf = await signIn(browser);
    const page = await browser.post('/logout', new URLSearchParams({ csrf_token: csrf }).toString(), { 'content-type': 'application/x-www-form-urlencoded' });
    expect(page.status).toBe(303);
    expect(fake.revoked).toEqual([{ token: fake.issuedTokens[1], hint: 'refresh_token', clientId: [...fake.clients.keys()][0] }]);

    const home = await browser.get(page.headers.get('location')!);
    expect(home.body).toContain('You are signed out');
    expect(home.body).toContain('Sign in with Keyward');
    expect((await browser.postChat(csrf)).status).toBe(401);
  });

  it('refuses a sign-out posted from another site', async () => {
    const browser = await startApp();
    const csrf = await signIn(browser);
    const page = await browser.post('/logout', `csrf_token=${csrf}`, { 'content-type': 'application/x-www-form-urlencoded' }, { origin: 'https://evil.example' });
    expect(page.status).toBe(403);
    expect(fake.revoked).toHaveLength(0);
  });
});

describe('what the browser sees', () => {
  it('never receives an access token, a refresh token or the PKCE verifier', async () => {
    const browser = await startApp();
    const csrf = await signIn(browser);
    await browser.postChat(csrf);
    fake.validAccessTokens.clear();
    await browser.postChat(csrf);
    await browser.get('/');
    await browser.post('/logout', `csrf_token=${csrf}`, { 'content-type': 'application/x-www-form-urlencoded' });

    const verifiers = tokenRequests().map((p) => p.get('code_verifier')).filter((v): v is string => !!v);
    const registrationTokens = [...fake.clients.values()].map((c) => c.registrationAccessToken);
    expect(fake.issuedTokens.length).toBeGreaterThanOrEqual(4);
    for (const secret of [...fake.issuedTokens, ...verifiers, ...registrationTokens]) expect(browser.received).not.toContain(secret);
  });
});

describe('errors, in words a user understands', () => {
  const cases = [
    { status: 400, code: 'provider_key_missing', message: 'No anthropic key available.', expected: 'You have no anthropic key in Keyward for anthropic:claude-sonnet-4' },
    { status: 403, code: 'proxy_forbidden', message: 'Not allowed.', expected: `Your Keyward account may not use the LLM proxy ${PROXY_ID}` },
    { status: 429, code: 'rate_limit_exceeded', message: 'Token limit reached.', expected: 'You have reached a usage limit on Keyward' },
    { status: 503, code: 'upstream_unavailable', message: 'Provider down.', expected: 'Keyward or the model provider is having trouble right now (HTTP 503)' },
    { status: 504, code: 'upstream_timeout', message: 'Timed out.', expected: 'The model took too long to answer' },
  ];
  for (const { status, code, message, expected } of cases) {
    it(`HTTP ${status} ${code}`, async () => {
      const browser = await startApp();
      const csrf = await signIn(browser);
      fake.routerFailure = { status, code, message };
      const answer = await browser.postChat(csrf, { model: 'anthropic:claude-sonnet-4', messages: [{ role: 'user', content: 'Hi' }] });
      expect(answer.status).toBe(status);
      const error = JSON.parse(answer.body).error as { message: string };
      expect(error.message).toContain(expected);
      expect(error.message).toContain(message);
    });
  }

  it('the same messages show on the chat page when the model list fails', async () => {
    const browser = await startApp();
    await signIn(browser);
    fake.routerFailure = { status: 403, code: 'proxy_forbidden', message: 'Not allowed.' };
    const home = await browser.get('/');
    expect(home.body).toContain('may not use the LLM proxy');
    expect(home.body).toContain('<option value="openai:gpt-4o-mini" selected>');
  });

  it('Keyward down: sign-in and chat say so instead of failing', async () => {
    const browser = await startApp();
    const csrf = await signIn(browser);
    await fake.close();
    const answer = await browser.postChat(csrf);
    expect(answer.status).toBe(502);
    expect(JSON.parse(answer.body).error.message).toContain(`Keyward can’t be reached at ${fake.url}`);
    expect((await browser.get('/')).body).toContain('Keyward can’t be reached');
    const signOut = await browser.post('/logout', `csrf_token=${csrf}`, { 'content-type': 'application/x-www-form-urlencoded' });
    expect((await browser.get(signOut.headers.get('location')!)).body).toContain('You are signed out of this app. Keyward could not be reached');

    const fresh = await startApp();
    const login = await fresh.get('/login');
    expect(login.status).toBe(502);
    expect(login.body).toContain('Keyward can’t be reached');
  });
});
