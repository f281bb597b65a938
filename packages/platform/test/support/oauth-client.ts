// Real OAuth tokens for tests, without a browser: registers a public client (RFC 7591), drives
// sign-in and consent over plain HTTP with a cookie jar (manual redirects, CSRF fields read from
// the pages), and exchanges the code (PKCE S256). Also confidential clients + client_credentials.
//
// Exported API (stable; other test suites rely on it):
//   registerPublicClient(tp, options?) → Promise<RegisteredClient>            // { client_id, redirect_uris, … }
//   authorizeCode(tp, options)          → Promise<AuthorizationResult>        // { code, state, iss, codeVerifier, callback, signInShown, consentPage }
//   authorizeWithoutBrowser(tp, options) → Promise<TokenSet>                  // { access_token, refresh_token, … }
//   exchangeCode(tp, { clientId, redirectUri, code, codeVerifier }) → Promise<Response>
//   refreshTokens(tp, { clientId, refreshToken, scope? }) → Promise<Response>
//   tokenResponse(response) → Promise<TokenSet>  (throws with the body when not 200)
//   createConfidentialClient(tp, { proxyIds?, keyIds?, name? }) → Promise<{ client_id, client_secret }>
//   clientCredentialsToken(tp, { client_id, client_secret }, { resource?, scope?, method? }) → Promise<TokenSet>
//   userTokens(tp, options?) → Promise<TokenSet & { client: RegisteredClient }>   // register + authorize, admin user by default
//   class CookieJar                                                             // for tests driving pages by hand
//
// `tp` is a TestPlatform (test/support/test-platform.ts). Defaults: the admin user, the seed's
// redirect URI http://localhost:5174/oauth/callback, scope "llm:proxy offline_access", no resource.

import { createHash, randomBytes } from 'node:crypto';
import { createConfidentialClient as createClientRecord } from '../../src/oauth/clients.js';
import { CookieJar } from './cookie-jar.js';
import type { TestPlatform } from './test-platform.js';

export { CookieJar };

export const SEED_REDIRECT_URI = 'http://localhost:5174/oauth/callback';
export const SEED_SCOPE = 'llm:proxy offline_access';

export interface RegisteredClient {
  client_id: string;
  redirect_uris: string[];
  [key: string]: unknown;
}

export interface TokenSet {
  access_token: string;
  refresh_token?: string;
  token_type: string;
  expires_in: number;
  scope?: string;
  [key: string]: unknown;
}

export interface AuthorizeOptions {
  clientId: string;
  redirectUri?: string;
  scope?: string;
  /** RFC 8707 resource indicator (the MCP SDK sends one). */
  resource?: string;
  prompt?: string;
  email?: string;
  password?: string;
  /** `allow` (default) or `deny` on the consent page. */
  decision?: 'allow' | 'deny';
  /** More consent form fields (the spending limit control: spending_limit, spending_limit_usd, spending_limit_period). */
  consentFields?: Record<string, string>;
  /** Keep one browser (cookies) across several authorizations. */
  jar?: CookieJar;
  /** Extra authorization request parameters (or `undefined` to drop a default one, e.g. code_challenge). */
  extraParams?: Record<string, string | undefined>;
}

export interface AuthorizationResult {
  code: string | null;
  state: string;
  iss: string | null;
  error: string | null;
  codeVerifier: string;
  callback: URL;
  /** Whether the sign-in page was shown (and filled in) on the way. */
  signInShown: boolean;
  /** The consent page's HTML when one was shown, else null (consent remembered). */
  consentPage: string | null;
}

/** A minimal path-aware cookie jar for fetch with manual redirects. */
export const pkcePair = () => {
  const codeVerifier = randomBytes(32).toString('base64url');
  return { codeVerifier, codeChallenge: createHash('sha256').update(codeVerifier).digest('base64url') };
};

export async function registerPublicClient(
  tp: TestPlatform,
  options: { redirectUris?: string[]; clientName?: string; metadata?: Record<string, unknown> } = {},
): Promise<RegisteredClient> {
  const response = await fetch(`${tp.url}/api/auth/oauth2/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: options.clientName ?? 'Test App',
      redirect_uris: options.redirectUris ?? [SEED_REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      scope: 'llm:proxy offline_access',
      ...options.metadata,
    }),
  });
  const body = (await response.json()) as RegisteredClient;
  if (response.status !== 201) throw new Error(`registration failed: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

const hidden = (page: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(page)?.[1];

/** Runs /authorize → sign-in → consent → redirect, like a browser would, and returns the callback. */
export async function authorizeCode(tp: TestPlatform, options: AuthorizeOptions): Promise<AuthorizationResult> {
  const jar = options.jar ?? new CookieJar();
  const redirectUri = options.redirectUri ?? SEED_REDIRECT_URI;
  const { codeVerifier, codeChallenge } = pkcePair();
  const state = randomBytes(16).toString('base64url');
  const params: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: options.clientId,
    redirect_uri: redirectUri,
    scope: options.scope ?? SEED_SCOPE,
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
    state,
    ...(options.resource ? { resource: options.resource } : {}),
    ...(options.prompt ? { prompt: options.prompt } : {}),
    ...options.extraParams,
  };
  const url = new URL(`${tp.url}/api/auth/oauth2/authorize`);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);

  let next: URL = url;
  let signInShown = false;
  let consentPage: string | null = null;
  for (let hop = 0; hop < 20; hop++) {
    if (next.href.startsWith(redirectUri.split('?')[0]!) && next.origin !== tp.url) {
      return {
        code: next.searchParams.get('code'),
        state: next.searchParams.get('state') ?? '',
        iss: next.searchParams.get('iss'),
        error: next.searchParams.get('error'),
        codeVerifier,
        callback: next,
        signInShown,
        consentPage,
      };
    }
    const response = await jar.fetch(next);
    const location = response.headers.get('location');
    if (location) {
      await response.body?.cancel();
      next = new URL(location, next);
      continue;
    }
    const page = await response.text();
    if (response.status === 200 && page.includes('name="password"')) {
      signInShown = true;
      const form = new URLSearchParams({
        email: options.email ?? tp.admin.email,
        password: options.password ?? tp.admin.password,
        csrf: hidden(page, 'csrf') ?? '',
        return_to: hidden(page, 'return_to') ?? '/',
      });
      const signIn = await jar.fetch(`${tp.url}/sign-in`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
      const to = signIn.headers.get('location');
      await signIn.body?.cancel();
      if (signIn.status !== 303 || !to) throw new Error(`sign-in failed: ${signIn.status}`);
      next = new URL(to, tp.url);
      continue;
    }
    if (response.status === 200 && page.includes('name="decision"')) {
      consentPage = page;
      const action = /<form method="post" action="([^"]+)"/.exec(page)?.[1];
      const form = new URLSearchParams({ csrf: hidden(page, 'csrf') ?? '', decision: options.decision ?? 'allow', ...options.consentFields });
      const consent = await jar.fetch(new URL(action!.replace(/&amp;/g, '&'), tp.url), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: form,
      });
      const to = consent.headers.get('location');
      if (consent.status !== 303 || !to) throw new Error(`consent failed: ${consent.status} ${await consent.text()}`);
      await consent.body?.cancel();
      next = new URL(to, tp.url);
      continue;
    }
    throw new Error(`authorization stopped at ${next.href}: ${response.status} ${page.slice(0, 500)}`);
  }
  throw new Error('too many redirects');
}

export function exchangeCode(
  tp: TestPlatform,
  input: { clientId: string; redirectUri?: string; code: string; codeVerifier?: string; resource?: string },
): Promise<Response> {
  const body = new URLSearchParams({
    grant_type: 'authorization_code',
    client_id: input.clientId,
    redirect_uri: input.redirectUri ?? SEED_REDIRECT_URI,
    code: input.code,
  });
  if (input.codeVerifier !== undefined) body.set('code_verifier', input.codeVerifier);
  if (input.resource) body.set('resource', input.resource);
  return fetch(`${tp.url}/api/auth/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
}

export function refreshTokens(tp: TestPlatform, input: { clientId: string; refreshToken: string; scope?: string }): Promise<Response> {
  const body = new URLSearchParams({ grant_type: 'refresh_token', client_id: input.clientId, refresh_token: input.refreshToken });
  if (input.scope !== undefined) body.set('scope', input.scope);
  return fetch(`${tp.url}/api/auth/oauth2/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
}

export async function tokenResponse(response: Response): Promise<TokenSet> {
  const body = (await response.json()) as TokenSet;
  if (response.status !== 200) throw new Error(`token request failed: ${response.status} ${JSON.stringify(body)}`);
  return body;
}

/** Sign-in + consent + code exchange: an access token (llm:proxy) and a refresh token. */
export async function authorizeWithoutBrowser(tp: TestPlatform, options: AuthorizeOptions): Promise<TokenSet> {
  const result = await authorizeCode(tp, options);
  if (!result.code) throw new Error(`authorization failed: ${result.callback.href}`);
  return tokenResponse(
    await exchangeCode(tp, { clientId: options.clientId, redirectUri: options.redirectUri, code: result.code, codeVerifier: result.codeVerifier }),
  );
}

/** Registers a fresh public client and returns tokens for a user (default: the admin). */
export async function userTokens(
  tp: TestPlatform,
  options: Partial<Omit<AuthorizeOptions, 'clientId'>> & { clientName?: string } = {},
): Promise<TokenSet & { client: RegisteredClient }> {
  const client = await registerPublicClient(tp, {
    redirectUris: [options.redirectUri ?? SEED_REDIRECT_URI],
    ...(options.clientName ? { clientName: options.clientName } : {}),
  });
  const tokens = await authorizeWithoutBrowser(tp, { ...options, clientId: client.client_id });
  return { ...tokens, client };
}

/** An admin-created confidential client (what `keyward client create` does). */
export function createConfidentialClient(
  tp: TestPlatform,
  input: { proxyIds?: string[]; keyIds?: string[]; name?: string } = {},
): Promise<{ client_id: string; client_secret: string }> {
  return createClientRecord(tp.platform.ctx, {
    name: input.name ?? 'Test service',
    proxyIds: input.proxyIds ?? [tp.defaultProxyId],
    ...(input.keyIds ? { keyIds: input.keyIds } : {}),
  });
}

export async function clientCredentialsToken(
  tp: TestPlatform,
  client: { client_id: string; client_secret: string },
  options: { resource?: string; scope?: string; method?: 'basic' | 'post' } = {},
): Promise<TokenSet> {
  const body = new URLSearchParams({ grant_type: 'client_credentials', scope: options.scope ?? 'llm:proxy' });
  if (options.resource) body.set('resource', options.resource);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (options.method === 'post') {
    body.set('client_id', client.client_id);
    body.set('client_secret', client.client_secret);
  } else {
    const enc = (s: string) => encodeURIComponent(s);
    headers.authorization = `Basic ${Buffer.from(`${enc(client.client_id)}:${enc(client.client_secret)}`).toString('base64')}`;
  }
  return tokenResponse(await fetch(`${tp.url}/api/auth/oauth2/token`, { method: 'POST', headers, body }));
}
