// What the authorization endpoint answers, case by case: RFC 9207 `iss` on every response that
// reaches the app (success or error, whatever the response mode), an error page (never a
// redirect) when the app cannot be trusted with the answer or nobody has signed in to a
// self-registered app's request (RFC 9700 §4.11.2), no CORS, and metadata that names only
// endpoints that exist.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disableClient } from '../../src/oauth/clients.js';
import {
  CookieJar,
  authorizeCode,
  createConfidentialClient,
  exchangeCode,
  pkcePair,
  registerPublicClient,
  tokenResponse,
  userTokens,
} from '../support/oauth-client.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

let tp: TestPlatform;
let app: { client_id: string };
/** A browser signed in to Keyward (it authorized another app on the way). */
let signedIn: CookieJar;
const REDIRECT = 'https://app.example.com/cb';

beforeAll(async () => {
  tp = await startTestPlatform();
  app = await registerPublicClient(tp, { redirectUris: [REDIRECT] });
  signedIn = new CookieJar();
  await userTokens(tp, { jar: signedIn });
}, 60_000);
afterAll(async () => {
  await tp?.close();
});

function authorizeUrl(params: Record<string, string | undefined> = {}) {
  const url = new URL(`${tp.url}/api/auth/oauth2/authorize`);
  const all: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: app.client_id,
    redirect_uri: REDIRECT,
    scope: 'llm:proxy',
    code_challenge: pkcePair().codeChallenge,
    code_challenge_method: 'S256',
    state: 'st4te',
    ...params,
  };
  for (const [k, v] of Object.entries(all)) if (v !== undefined) url.searchParams.set(k, v);
  return url;
}

/** The parameters an app receives, from the query, the fragment or an auto-submitted form. */
async function appReceives(response: Response): Promise<URLSearchParams> {
  const location = response.headers.get('location');
  if (location) {
    const url = new URL(location);
    expect(url.origin + url.pathname).toBe(REDIRECT);
    return url.hash ? new URLSearchParams(url.hash.slice(1)) : url.searchParams;
  }
  const page = await response.text();
  expect(page).toContain(`<form method="post" action="${REDIRECT}">`);
  return new URLSearchParams([...page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)].map((m): [string, string] => [m[1]!, m[2]!]));
}

const REFUSED_REQUESTS: Array<[string, Record<string, string | undefined>, string]> = [
  ['missing PKCE, query mode', { code_challenge: undefined }, 'invalid_request'],
  ['missing PKCE, fragment mode', { code_challenge: undefined, response_mode: 'fragment' }, 'invalid_request'],
  ['missing PKCE, form_post mode', { code_challenge: undefined, response_mode: 'form_post' }, 'invalid_request'],
  ['an unsupported response mode', { response_mode: 'web_message' }, 'unsupported_response_mode'],
  ['a request object', { request: 'eyJhbGciOiJub25lIn0.eyJzY29wZSI6ImxsbTpwcm94eSJ9.' }, 'request_not_supported'],
  ['a foreign request_uri', { request_uri: 'https://evil.example/request' }, 'request_uri_not_supported'],
  ['an unknown scope', { scope: 'llm:proxy admin' }, 'invalid_scope'],
  ['a resource that is not the router', { resource: 'https://evil.example/api' }, 'invalid_target'],
];

describe('RFC 9700 §4.11.2: nobody signed in, a self-registered app gets no error redirect (Keyward is no open redirector)', () => {
  it.each([['prompt=none without a session', { prompt: 'none' }, 'login_required'] as [string, Record<string, string | undefined>, string], ...REFUSED_REQUESTS])(
    '%s → the error page, naming %s',
    async (_name, params, error) => {
      const response = await fetch(authorizeUrl(params), { redirect: 'manual' });
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      const page = await response.text();
      expect(page).toContain(error);
      expect(page).not.toContain(REDIRECT);
    },
  );
});

describe('RFC 9207: iss on every authorization response, success or error', () => {
  it.each(REFUSED_REQUESTS)('signed in: %s → error=%s with state and iss', async (_name, params, error) => {
    const response = await signedIn.fetch(authorizeUrl(params));
    const answer = await appReceives(response);
    expect(answer.get('error')).toBe(error);
    expect(answer.get('state')).toBe('st4te');
    expect(answer.get('iss')).toBe(tp.url);
    expect(answer.get('code')).toBeNull();
  });

  it('prompt=none when signed in but the app was never allowed → consent_required with iss', async () => {
    const jar = new CookieJar();
    await userTokens(tp, { jar }); // signs this browser in (another app)
    const response = await jar.fetch(authorizeUrl({ prompt: 'none' }));
    const answer = await appReceives(response);
    expect(answer.get('error')).toBe('consent_required');
    expect(answer.get('iss')).toBe(tp.url);
  });

  it('success carries code, state and iss', async () => {
    const result = await authorizeCode(tp, { clientId: app.client_id, redirectUri: REDIRECT });
    expect(result.code).toBeTruthy();
    expect(result.state).toBeTruthy();
    expect(result.iss).toBe(tp.url);
  });
});

describe('an app that cannot be trusted with the answer gets an error page, never a redirect', () => {
  const expectErrorPage = async (response: Response, error: string) => {
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const page = await response.text();
    expect(page).toContain(error);
    expect(page).not.toContain('app.example.com/cb');
  };

  it('no redirect_uri (never inferred, even with a single registered one)', async () => {
    await expectErrorPage(await fetch(authorizeUrl({ redirect_uri: undefined }), { redirect: 'manual' }), 'invalid_request');
  });

  it('no client_id', async () => {
    await expectErrorPage(await fetch(authorizeUrl({ client_id: undefined }), { redirect: 'manual' }), 'invalid_request');
  });

  it('a confidential (client_credentials) client', async () => {
    const service = await createConfidentialClient(tp);
    await expectErrorPage(await fetch(authorizeUrl({ client_id: service.client_id }), { redirect: 'manual' }), 'invalid_redirect_uri');
  });

  it('a disabled client', async () => {
    const gone = await registerPublicClient(tp, { redirectUris: [REDIRECT] });
    await disableClient(tp.platform.ctx, gone.client_id);
    await expectErrorPage(await fetch(authorizeUrl({ client_id: gone.client_id }), { redirect: 'manual' }), 'invalid_client');
  });

  it('an unknown or expired interaction, and a resume without its cookie', async () => {
    const interaction = await fetch(`${tp.url}/api/auth/oauth2/interaction/nosuchinteraction`, { redirect: 'manual' });
    expect(interaction.status).toBe(400);
    expect(interaction.headers.get('location')).toBeNull();
    const resume = await fetch(`${tp.url}/api/auth/oauth2/authorize/nosuchinteraction`, { redirect: 'manual' });
    expect(resume.status).toBe(400);
    expect(resume.headers.get('location')).toBeNull();
  });
});

describe('/authorize is not a CORS endpoint', () => {
  it('no CORS headers on GET, and a preflight is not answered', async () => {
    const get = await fetch(authorizeUrl(), { redirect: 'manual', headers: { origin: 'https://app.example.com' } });
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(authorizeUrl(), {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(preflight.status).toBe(404);
  });

  it('POST /authorize is not offered (oidc-provider 9 keeps the front channel GET-only)', async () => {
    const response = await fetch(`${tp.url}/api/auth/oauth2/authorize`, {
      method: 'POST',
      headers: { origin: 'https://app.example.com', 'content-type': 'application/x-www-form-urlencoded' },
      body: authorizeUrl().searchParams,
      redirect: 'manual',
    });
    expect(response.status).toBe(404);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('metadata names only endpoints that exist, and no sender-constraint the router would not check', () => {
  it('every advertised endpoint is under the issuer and answers (none is a 404)', async () => {
    const metadata = (await (await fetch(`${tp.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    const endpoints = Object.entries(metadata).filter(([key]) => key.endsWith('_endpoint') || key === 'jwks_uri');
    expect(endpoints.map(([key]) => key).sort()).toEqual([
      'authorization_endpoint',
      'device_authorization_endpoint',
      'introspection_endpoint',
      'jwks_uri',
      'pushed_authorization_request_endpoint',
      'registration_endpoint',
      'revocation_endpoint',
      'token_endpoint',
    ]);
    for (const [key, value] of endpoints) {
      expect(String(value), key).toMatch(new RegExp(`^${tp.url}/api/auth/oauth2/`));
      const method = key === 'authorization_endpoint' || key === 'jwks_uri' ? 'GET' : 'POST';
      const response = await fetch(String(value), { method, redirect: 'manual', ...(method === 'POST' ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' } : {}) });
      await response.body?.cancel();
      expect(response.status, key).not.toBe(404);
    }
  });

  it('DPoP is not offered: the router accepts bearer tokens only', async () => {
    const metadata = (await (await fetch(`${tp.url}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(metadata).not.toHaveProperty('dpop_signing_alg_values_supported');
  });
});

describe('pushed authorization requests (RFC 9126) work end to end', () => {
  const push = async (clientId: string, scope: string) => {
    const { codeVerifier, codeChallenge } = pkcePair();
    const response = await fetch(`${tp.url}/api/auth/oauth2/par`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: REDIRECT,
        scope,
        code_challenge: codeChallenge,
        code_challenge_method: 'S256',
        state: 'pushed',
      }),
    });
    expect(response.status).toBe(201);
    const { request_uri } = (await response.json()) as { request_uri: string };
    return { request_uri, codeVerifier };
  };

  it('push, authorize with request_uri, redeem; consent still follows the scopes pushed', async () => {
    const client = await registerPublicClient(tp, { redirectUris: [REDIRECT], metadata: { scope: 'llm:proxy offline_access openid' } });
    const jar = new CookieJar();
    const authorize = async (scope: string) => {
      const pushed = await push(client.client_id, scope);
      const result = await authorizeCode(tp, {
        clientId: client.client_id,
        redirectUri: REDIRECT,
        jar,
        extraParams: { request_uri: pushed.request_uri, redirect_uri: undefined, scope: undefined, state: undefined, code_challenge: undefined, code_challenge_method: undefined, response_type: undefined },
      });
      expect(result.iss).toBe(tp.url);
      expect(result.state).toBe('pushed');
      const tokens = await tokenResponse(await exchangeCode(tp, { clientId: client.client_id, redirectUri: REDIRECT, code: result.code!, codeVerifier: pushed.codeVerifier }));
      return { consent: result.consentPage !== null, tokens };
    };
    const first = await authorize('llm:proxy');
    expect(first.consent).toBe(true);
    expect(first.tokens.refresh_token).toBeTruthy();
    // "Stay connected" was on the first page (the app gets refresh tokens either way): nothing new.
    expect((await authorize('llm:proxy offline_access')).consent).toBe(false);
    expect((await authorize('llm:proxy openid')).consent).toBe(true);
    expect((await authorize('llm:proxy openid')).consent).toBe(false);
  });
});
