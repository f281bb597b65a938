// What the authorization server refuses, each with its exact error. Tables: one row per attack.

import { SignJWT, importJWK, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearerTokenFromHeader, wwwAuthenticate } from '../../src/oauth/resource-server.js';
import { BearerError } from '../../src/oauth/principal.js';
import { disableClient } from '../../src/oauth/clients.js';
import { loadSigningKeys } from '../../src/oauth/signing-keys.js';
import {
  CookieJar,
  SEED_REDIRECT_URI,
  authorizeCode,
  clientCredentialsToken,
  createConfidentialClient,
  exchangeCode,
  pkcePair,
  refreshTokens,
  registerPublicClient,
  tokenResponse,
  userTokens,
} from '../support/oauth-client.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { bearerCheckFor, eventually } from './bearer-support.js';

let tp: TestPlatform;
let bearer: Awaited<ReturnType<typeof bearerCheckFor>>;
let web: { client_id: string };
const WEB_REDIRECT = 'https://app.example.com/cb';

beforeAll(async () => {
  tp = await startTestPlatform();
  bearer = await bearerCheckFor(tp);
  web = await registerPublicClient(tp, { redirectUris: [WEB_REDIRECT, SEED_REDIRECT_URI] });
}, 60_000);
afterAll(async () => {
  bearer?.stop();
  await tp?.close();
});

function authorizeUrl(params: Record<string, string | undefined>) {
  const { codeChallenge } = pkcePair();
  const url = new URL(`${tp.url}/api/auth/oauth2/authorize`);
  const all: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: web.client_id,
    redirect_uri: WEB_REDIRECT,
    scope: 'llm:proxy',
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
    state: 'st4te',
    ...params,
  };
  for (const [k, v] of Object.entries(all)) if (v !== undefined) url.searchParams.set(k, v);
  return url;
}

const register = (body: string, contentType = 'application/json') =>
  fetch(`${tp.url}/api/auth/oauth2/register`, { method: 'POST', headers: { 'content-type': contentType }, body });
const publicMetadata = (extra: Record<string, unknown>) =>
  JSON.stringify({ client_name: 'x', redirect_uris: [WEB_REDIRECT], token_endpoint_auth_method: 'none', ...extra });

async function expectRouterRefuses(token: string, status: 401 | 403, error: string) {
  const failure = await bearer.authenticate(token).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(failure).toBeInstanceOf(BearerError);
  expect(failure).toMatchObject({ status, error });
}

describe('redirect URI near-misses are shown as an error page, never redirected to', () => {
  it.each([
    ['trailing slash', `${WEB_REDIRECT}/`],
    ['different case', 'https://app.example.com/CB'],
    ['extra query', `${WEB_REDIRECT}?x=1`],
    ['fragment', `${WEB_REDIRECT}#frag`],
    ['userinfo (https://good@evil)', 'https://app.example.com@evil.example/cb'],
    ['other port on a non-loopback host', 'https://app.example.com:8443/cb'],
    ['localhost.evil.com', 'http://localhost.evil.com:5174/oauth/callback'],
    ['http instead of https', 'http://app.example.com/cb'],
    ['other path on loopback', 'http://localhost:5174/oauth/callback2'],
  ])('%s', async (_name, redirectUri) => {
    const response = await fetch(authorizeUrl({ redirect_uri: redirectUri }), { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(await response.text()).toContain('invalid_redirect_uri');
  });

  it('an unknown client_id is an error page too', async () => {
    const response = await fetch(authorizeUrl({ client_id: 'nobody' }), { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(await response.text()).toContain('invalid_client');
  });

  it('a loopback redirect may change only its port (RFC 8252)', async () => {
    const response = await fetch(authorizeUrl({ redirect_uri: 'http://localhost:61234/oauth/callback' }), { redirect: 'manual' });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toMatch(/\/api\/auth\/oauth2\/interaction\//);
  });
});

describe('registration refuses anything but a public code client', () => {
  it.each([
    ['client_secret_basic', publicMetadata({ token_endpoint_auth_method: 'client_secret_basic' }), 'invalid_client_metadata'],
    ['client_secret_post', publicMetadata({ token_endpoint_auth_method: 'client_secret_post' }), 'invalid_client_metadata'],
    ['private_key_jwt', publicMetadata({ token_endpoint_auth_method: 'private_key_jwt' }), 'invalid_client_metadata'],
    ['client_credentials grant', publicMetadata({ grant_types: ['client_credentials'] }), 'invalid_client_metadata'],
    ['implicit grant', publicMetadata({ grant_types: ['authorization_code', 'implicit'] }), 'invalid_client_metadata'],
    ['id_token response type', publicMetadata({ response_types: ['code id_token'] }), 'invalid_client_metadata'],
    ['http redirect on a public host', publicMetadata({ redirect_uris: ['http://app.example.com/cb'] }), 'invalid_redirect_uri'],
    ['redirect with a fragment', publicMetadata({ redirect_uris: ['https://app.example.com/cb#x'] }), 'invalid_redirect_uri'],
    ['redirect with userinfo', publicMetadata({ redirect_uris: ['https://good@evil.example/cb'] }), 'invalid_redirect_uri'],
    ['javascript: redirect', publicMetadata({ redirect_uris: ['javascript:alert(1)'] }), 'invalid_redirect_uri'],
    ['unknown scope', publicMetadata({ scope: 'llm:proxy admin' }), 'invalid_client_metadata'],
    ['malformed JSON', '{"redirect_uris": [', 'invalid_client_metadata'],
    ['huge body', JSON.stringify({ redirect_uris: [WEB_REDIRECT], client_name: 'x'.repeat(200_000) }), 'invalid_client_metadata'],
    ['U+0000 in client_name', publicMetadata({ client_name: 'my\u0000app' }), 'invalid_client_metadata'],
    ['U+0000 in contacts', publicMetadata({ contacts: ['me\u0000@example.com'] }), 'invalid_client_metadata'],
  ])('%s', async (_name, body, error) => {
    const response = await register(body);
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error });
  });
});

describe('a refused redirect URI is named with the reason', () => {
  it.each([
    ['https://app.example.com/cb#x', /must not have a fragment/],
    ['http://app.example.com/cb', /must use https/],
    ['https://good@evil.example/cb', /must not carry user information/],
  ])('%s', async (uri, reason) => {
    const response = await register(publicMetadata({ redirect_uris: [uri] }));
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; error_description: string };
    expect(body.error).toBe('invalid_redirect_uri');
    expect(body.error_description).toMatch(reason);
    expect(body.error_description).toContain(uri);
  });
});

// PostgreSQL cannot bind U+0000 in text: every lookup a caller can aim it at was a 500 there.
// Now the same answer on both engines as for any other value that matches nothing.
describe('U+0000 wherever a caller can put it is refused like any unknown value, never a 500', () => {
  const NUL = 'a\u0000b';
  const form = (fields: Record<string, string>) => ({
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  const token = (fields: Record<string, string>) => fetch(`${tp.url}/api/auth/oauth2/token`, form(fields));
  const { codeVerifier } = pkcePair();

  it.each([
    ['client_id at the token endpoint', () => token({ grant_type: 'client_credentials', client_id: NUL, client_secret: 'x' }), 401, 'invalid_client'],
    ['an authorization code', () => token({ grant_type: 'authorization_code', client_id: web.client_id, code: NUL, redirect_uri: WEB_REDIRECT, code_verifier: codeVerifier }), 400, 'invalid_grant'],
    ['a refresh token', () => token({ grant_type: 'refresh_token', client_id: web.client_id, refresh_token: NUL }), 400, 'invalid_grant'],
    ['client_id at device authorization', () => fetch(`${tp.url}/api/auth/oauth2/device-authorization`, form({ client_id: NUL, scope: 'llm:proxy' })), 401, 'invalid_client'],
  ])('%s', async (_name, send, status, error) => {
    const response = await send();
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ error });
  });

  it('a device code, from a client that may poll', async () => {
    const cli = await registerPublicClient(tp, { metadata: { grant_types: ['urn:ietf:params:oauth:grant-type:device_code'], response_types: [], redirect_uris: [] } });
    const response = await token({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', client_id: cli.client_id, device_code: NUL });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('client_id at /authorize is the unknown-client error page', async () => {
    const response = await fetch(authorizeUrl({ client_id: NUL }), { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('invalid_client');
  });

  it('an interaction id is the expired-interaction page', async () => {
    const response = await fetch(`${tp.url}/api/auth/oauth2/interaction/a%00b`, { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('This sign-in request expired or was already used.');
  });
});

describe('authorization requests the server refuses, redirected (to a signed-in person) with error, state and iss', () => {
  it.each([
    ['missing PKCE challenge', { code_challenge: undefined, code_challenge_method: undefined }, 'invalid_request'],
    ['plain PKCE', { code_challenge_method: 'plain' }, 'invalid_request'],
    ['unknown scope', { scope: 'llm:proxy admin' }, 'invalid_scope'],
    ['implicit response type', { response_type: 'token' }, 'unsupported_response_type'],
    ['a resource that is not the router', { resource: 'https://evil.example/api' }, 'invalid_target'],
  ])('%s', async (_name, params, error) => {
    // Nobody signed in: an error page, not a redirect (authorization-responses.test.ts).
    const jar = new CookieJar();
    await userTokens(tp, { jar });
    const response = await jar.fetch(authorizeUrl(params));
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get('location')!);
    expect(location.origin + location.pathname).toBe(WEB_REDIRECT);
    // A response_type that would use the fragment answers in the fragment (OAuth 2.0 Multiple Response Types).
    const answer = location.hash ? new URLSearchParams(location.hash.slice(1)) : location.searchParams;
    expect(answer.get('error')).toBe(error);
    expect(answer.get('state')).toBe('st4te');
    expect(answer.get('iss')).toBe(tp.url);
  });

  it('Deny → access_denied with state and iss', async () => {
    const result = await authorizeCode(tp, { clientId: web.client_id, redirectUri: WEB_REDIRECT, decision: 'deny' });
    expect(result.error).toBe('access_denied');
    expect(result.iss).toBe(tp.url);
    expect(result.state).toBeTruthy();
    expect(result.code).toBeNull();
  });

  it('a consent POST without its CSRF token allows nothing (403)', async () => {
    const jar = new CookieJar();
    // Sign in and reach the consent page, then post without the token.
    const client = await registerPublicClient(tp, { redirectUris: [WEB_REDIRECT] });
    let next = authorizeUrl({ client_id: client.client_id });
    let consentPath: string | undefined;
    for (let i = 0; i < 10 && !consentPath; i++) {
      const response = await jar.fetch(next);
      const location = response.headers.get('location');
      const page = await response.text();
      if (location) next = new URL(location, tp.url);
      else if (page.includes('name="password"')) {
        const csrf = /name="csrf" value="([^"]*)"/.exec(page)![1]!;
        const returnTo = /name="return_to" value="([^"]*)"/.exec(page)![1]!.replace(/&amp;/g, '&');
        const signIn = await jar.fetch(`${tp.url}/sign-in`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ email: tp.admin.email, password: tp.admin.password, csrf, return_to: returnTo }),
        });
        next = new URL(signIn.headers.get('location')!, tp.url);
      } else if (page.includes('name="decision"')) consentPath = next.pathname;
      else throw new Error(page);
    }
    const response = await jar.fetch(`${tp.url}${consentPath}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ decision: 'allow' }),
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('location')).toBeNull();
  });
});

describe('the token endpoint refuses codes and refresh tokens that do not fit', () => {
  const code = async (clientId = web.client_id, redirectUri = WEB_REDIRECT) => authorizeCode(tp, { clientId, redirectUri });

  it('wrong PKCE verifier → invalid_grant', async () => {
    const result = await code();
    const response = await exchangeCode(tp, { clientId: web.client_id, redirectUri: WEB_REDIRECT, code: result.code!, codeVerifier: pkcePair().codeVerifier });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('missing PKCE verifier → invalid_grant', async () => {
    const result = await code();
    const response = await exchangeCode(tp, { clientId: web.client_id, redirectUri: WEB_REDIRECT, code: result.code! });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('another redirect_uri than the code was issued for → invalid_grant', async () => {
    const result = await code();
    const response = await exchangeCode(tp, { clientId: web.client_id, redirectUri: SEED_REDIRECT_URI, code: result.code!, codeVerifier: result.codeVerifier });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('a code from another client → invalid_grant', async () => {
    const other = await registerPublicClient(tp, { redirectUris: [WEB_REDIRECT] });
    const result = await code();
    const response = await exchangeCode(tp, { clientId: other.client_id, redirectUri: WEB_REDIRECT, code: result.code!, codeVerifier: result.codeVerifier });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('code replay → invalid_grant, and the tokens it issued are revoked', async () => {
    const result = await code();
    const first = await tokenResponse(await exchangeCode(tp, { clientId: web.client_id, redirectUri: WEB_REDIRECT, code: result.code!, codeVerifier: result.codeVerifier }));
    await bearer.authenticate(first.access_token);
    const replay = await exchangeCode(tp, { clientId: web.client_id, redirectUri: WEB_REDIRECT, code: result.code!, codeVerifier: result.codeVerifier });
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error: 'invalid_grant' });
    expect(await (await refreshTokens(tp, { clientId: web.client_id, refreshToken: first.refresh_token! })).json()).toMatchObject({ error: 'invalid_grant' });
    await eventually(async () => bearer.authenticate(first.access_token).then(() => false, () => true));
    await expectRouterRefuses(first.access_token, 401, 'invalid_token');
  });

  it('refresh-token replay → invalid_grant, and the whole grant is revoked', async () => {
    const result = await code();
    const first = await tokenResponse(await exchangeCode(tp, { clientId: web.client_id, redirectUri: WEB_REDIRECT, code: result.code!, codeVerifier: result.codeVerifier }));
    const second = await tokenResponse(await refreshTokens(tp, { clientId: web.client_id, refreshToken: first.refresh_token! }));
    const replay = await refreshTokens(tp, { clientId: web.client_id, refreshToken: first.refresh_token! });
    expect(replay.status).toBe(400);
    expect(await replay.json()).toMatchObject({ error: 'invalid_grant' });
    expect(await (await refreshTokens(tp, { clientId: web.client_id, refreshToken: second.refresh_token! })).json()).toMatchObject({ error: 'invalid_grant' });
    await eventually(async () => bearer.authenticate(second.access_token).then(() => false, () => true));
    await expectRouterRefuses(second.access_token, 401, 'invalid_token');
  });

  it('a refresh token used by another client → invalid_grant', async () => {
    const other = await registerPublicClient(tp, { redirectUris: [WEB_REDIRECT] });
    const result = await code();
    const tokens = await tokenResponse(await exchangeCode(tp, { clientId: web.client_id, redirectUri: WEB_REDIRECT, code: result.code!, codeVerifier: result.codeVerifier }));
    const response = await refreshTokens(tp, { clientId: other.client_id, refreshToken: tokens.refresh_token! });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('widening the scope on refresh → invalid_scope', async () => {
    const result = await code();
    const tokens = await tokenResponse(await exchangeCode(tp, { clientId: web.client_id, redirectUri: WEB_REDIRECT, code: result.code!, codeVerifier: result.codeVerifier }));
    const response = await refreshTokens(tp, { clientId: web.client_id, refreshToken: tokens.refresh_token!, scope: 'llm:proxy openid' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_scope' });
  });

  it('token responses are not cacheable', async () => {
    const result = await code();
    const response = await exchangeCode(tp, { clientId: web.client_id, redirectUri: WEB_REDIRECT, code: result.code!, codeVerifier: result.codeVerifier });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
  });
});

describe('client credentials are for admin-created confidential clients only', () => {
  it('a public client asking for client_credentials → unauthorized_client', async () => {
    const response = await fetch(`${tp.url}/api/auth/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: web.client_id, scope: 'llm:proxy' }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'unauthorized_client' });
  });

  it.each([['basic'], ['post']] as const)('a wrong secret (client_secret_%s) → 401 invalid_client', async (method) => {
    const client = await createConfidentialClient(tp);
    await expect(clientCredentialsToken(tp, { ...client, client_secret: 'kws_wrong' }, { method })).rejects.toThrow(/401 .*invalid_client/);
  });

  it.each([['basic'], ['post']] as const)('the right secret (client_secret_%s) → a router token with the client principal', async (method) => {
    const client = await createConfidentialClient(tp);
    const tokens = await clientCredentialsToken(tp, client, { method });
    expect(await bearer.authenticate(tokens.access_token)).toMatchObject({ kind: 'client', clientId: client.client_id, proxyIds: [tp.defaultProxyId], keyIds: null });
  });

  it('a disabled client stops working at the router within 5 seconds', async () => {
    const client = await createConfidentialClient(tp);
    const tokens = await clientCredentialsToken(tp, client);
    await bearer.authenticate(tokens.access_token);
    await disableClient(tp.platform.ctx, client.client_id);
    const took = await eventually(async () => bearer.authenticate(tokens.access_token).then(() => false, () => true));
    expect(took).toBeLessThan(5000);
    await expect(clientCredentialsToken(tp, client)).rejects.toThrow(/invalid_client/);
  });
});

describe('the router accepts only our own, live, audience-bound tokens in the Authorization header', () => {
  let privateJwk: JWK;
  const sign = async (claims: Record<string, unknown>, header: Record<string, unknown> = {}) => {
    const key = await importJWK(privateJwk, 'ES256');
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: tp.url,
      sub: 'user-1',
      aud: `${tp.url}/v1/model-router`,
      iat: now,
      exp: now + 300,
      scope: 'llm:proxy',
      client_id: web.client_id,
      gid: 'g1',
      ...claims,
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: privateJwk.kid!, ...header })
      .sign(key);
  };
  beforeAll(async () => {
    privateJwk = (await loadSigningKeys(tp.platform.ctx)).jwks.keys[0]!;
  });

  it('a well-formed token is accepted (control)', async () => {
    expect(await bearer.authenticate(await sign({}))).toMatchObject({ kind: 'user', userId: 'user-1' });
  });

  it.each([
    ['a token for another audience', () => sign({ aud: 'https://other.example/api' })],
    ['an expired token', () => sign({ exp: Math.floor(Date.now() / 1000) - 10 })],
    ['another issuer', () => sign({ iss: 'https://evil.example' })],
    ['alg none', async () => {
      const [, payload] = (await sign({})).split('.');
      return `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${payload}.`;
    }],
    ['a tampered payload', async () => {
      const [h, , s] = (await sign({})).split('.');
      return `${h}.${Buffer.from(JSON.stringify({ sub: 'admin', aud: `${tp.url}/v1/model-router`, iss: tp.url, exp: 9999999999, client_id: 'x', gid: 'g', scope: 'llm:proxy' })).toString('base64url')}.${s}`;
    }],
    ['a wrong typ', () => sign({}, { typ: 'JWT' })],
    ['garbage', async () => 'not-a-token'],
  ])('%s → 401 invalid_token', async (_name, make) => {
    await expectRouterRefuses(await make(), 401, 'invalid_token');
  });

  it('a token without llm:proxy → 403 insufficient_scope', async () => {
    await expectRouterRefuses(await sign({ scope: 'openid' }), 403, 'insufficient_scope');
  });

  it('a token in a query string is never read: only the Authorization header counts', () => {
    expect(bearerTokenFromHeader(undefined)).toBeUndefined();
    expect(bearerTokenFromHeader('Basic abc')).toBeUndefined();
    expect(bearerTokenFromHeader('Bearer abc.def.ghi')).toBe('abc.def.ghi');
    expect(bearerTokenFromHeader(['Bearer a', 'Bearer b'])).toBeUndefined();
  });

  it('401 and 403 challenges name the protected-resource metadata', () => {
    expect(wwwAuthenticate(tp.url, { proxyId: 'p1' })).toBe(`Bearer resource_metadata="${tp.url}/.well-known/oauth-protected-resource/v1/model-router/p1"`);
    expect(wwwAuthenticate(tp.url, { error: new BearerError(403, 'insufficient_scope', 'needs llm:proxy') })).toBe(
      `Bearer resource_metadata="${tp.url}/.well-known/oauth-protected-resource/v1/model-router", error="insufficient_scope", error_description="needs llm:proxy", scope="llm:proxy"`,
    );
  });
});

describe('browser-facing endpoints: CORS where apps need it, none on /authorize', () => {
  it('a preflight to /token from a registered redirect origin is allowed', async () => {
    const response = await fetch(`${tp.url}/api/auth/oauth2/token`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
  });

  it('metadata and registration answer any origin', async () => {
    const metadata = await fetch(`${tp.url}/.well-known/oauth-authorization-server`, { headers: { origin: 'https://app.example.com' } });
    expect(metadata.headers.get('access-control-allow-origin')).toBeTruthy();
    const prm = await fetch(`${tp.url}/.well-known/oauth-protected-resource/v1/model-router/${tp.defaultProxyId}`, { headers: { origin: 'https://app.example.com' } });
    expect(prm.headers.get('access-control-allow-origin')).toBe('*');
    expect(await prm.json()).toMatchObject({ resource: `${tp.url}/v1/model-router/${tp.defaultProxyId}`, authorization_servers: [tp.url], scopes_supported: ['llm:proxy'] });
    const preflight = await fetch(`${tp.url}/api/auth/oauth2/register`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('/authorize sends no CORS headers', async () => {
    const response = await fetch(authorizeUrl({}), { redirect: 'manual', headers: { origin: 'https://app.example.com' } });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});
