// Real clients nobody here wrote, against a real Keyward, through a real browser.

import { auth, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import * as oauth from 'oauth4webapi';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { authorizeInBrowser, launchBrowser, type TestBrowser } from '../support/browser.js';
import { SEED_REDIRECT_URI, authorizeCode, exchangeCode, registerPublicClient, tokenResponse } from '../support/oauth-client.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { bearerCheckFor, eventually } from './bearer-support.js';

let tp: TestPlatform;
let browser: TestBrowser;
let bearer: Awaited<ReturnType<typeof bearerCheckFor>>;

beforeAll(async () => {
  tp = await startTestPlatform();
  browser = await launchBrowser();
  bearer = await bearerCheckFor(tp);
}, 60_000);
afterAll(async () => {
  bearer?.stop();
  await browser?.close();
  await tp?.close();
});
afterEach(async (context) => {
  if (context.task.result?.state === 'fail') await browser.screenshot(context.task.name);
});

const CALLBACK = 'http://127.0.0.1:8765/callback';

describe('oauth4webapi: discovery, registration, browser consent, code, refresh, introspection, revocation', () => {
  it('completes the whole flow with strict iss and state checks', async () => {
    const http = { [oauth.allowInsecureRequests]: true };
    const issuer = new URL(tp.url);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...http, algorithm: 'oauth2' }));
    expect(as.issuer).toBe(tp.url);
    expect(as.code_challenge_methods_supported).toEqual(['S256']);
    expect(as.authorization_response_iss_parameter_supported).toBe(true);
    expect(as.scopes_supported).toEqual(expect.arrayContaining(['llm:proxy', 'offline_access']));
    for (const endpoint of ['authorization_endpoint', 'token_endpoint', 'registration_endpoint', 'revocation_endpoint', 'introspection_endpoint', 'jwks_uri'] as const) {
      expect(String(as[endpoint])).toMatch(new RegExp(`^${tp.url}/api/auth/oauth2/`));
    }

    const registered = await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(
        as,
        { client_name: 'Reference App', redirect_uris: [CALLBACK], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' },
        http,
      ),
    );
    const client: oauth.Client = { client_id: registered.client_id };

    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: CALLBACK,
      scope: 'llm:proxy offline_access',
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    }).toString();
    const callback = await authorizeInBrowser(browser, url, { callbackPrefix: CALLBACK, email: tp.admin.email, password: tp.admin.password });

    const params = oauth.validateAuthResponse(as, client, callback, state);
    expect(callback.searchParams.get('iss')).toBe(tp.url);
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, CALLBACK, verifier, http),
    );
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.refresh_token).toBeTruthy();
    const principal = await bearer.authenticate(tokens.access_token);
    expect(principal).toMatchObject({ kind: 'user', clientId: client.client_id, scopes: ['llm:proxy'], audience: `${tp.url}/v1/model-router` });

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, http),
    );
    expect(refreshed.refresh_token).toBeTruthy();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);

    const introspection = await oauth.processIntrospectionResponse(
      as,
      client,
      await oauth.introspectionRequest(as, client, oauth.None(), refreshed.refresh_token!, { ...http, additionalParameters: { token_type_hint: 'refresh_token' } }),
    );
    expect(introspection).toMatchObject({ active: true, client_id: client.client_id });

    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.None(), refreshed.refresh_token!, http));
    const after = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshed.refresh_token!, http);
    await expect(oauth.processRefreshTokenResponse(as, client, after)).rejects.toMatchObject({ error: 'invalid_grant' });
    // Revoking the refresh token ended the grant: its access tokens stop at the router.
    const took = await eventually(async () => bearer.authenticate(refreshed.access_token).then(() => false, () => true));
    expect(took).toBeLessThan(5000);
  }, 60_000);
});

describe('MCP TypeScript SDK auth(): discovery + registration + PKCE against a proxy URL', () => {
  it('authorizes and gets a token bound to that proxy', async () => {
    const serverUrl = `${tp.url}/v1/model-router/${tp.defaultProxyId}`;
    const store: { client?: any; tokens?: any; verifier?: string; redirect?: URL } = {};
    const provider: OAuthClientProvider = {
      get redirectUrl() {
        return CALLBACK;
      },
      get clientMetadata() {
        return { client_name: 'MCP Client', redirect_uris: [CALLBACK], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
      },
      clientInformation: () => store.client,
      saveClientInformation: (info) => void (store.client = info),
      tokens: () => store.tokens,
      saveTokens: (tokens) => void (store.tokens = tokens),
      redirectToAuthorization: (url) => void (store.redirect = url),
      saveCodeVerifier: (v) => void (store.verifier = v),
      codeVerifier: () => store.verifier!,
    };
    expect(await auth(provider, { serverUrl })).toBe('REDIRECT');
    expect(store.redirect!.searchParams.get('resource')).toBe(serverUrl);
    const callback = await authorizeInBrowser(browser, store.redirect!, { callbackPrefix: CALLBACK, email: tp.admin.email, password: tp.admin.password });
    expect(callback.searchParams.get('iss')).toBe(tp.url);
    expect(await auth(provider, { serverUrl, authorizationCode: callback.searchParams.get('code')! })).toBe('AUTHORIZED');
    const principal = await bearer.authenticate(store.tokens.access_token);
    expect(principal).toMatchObject({ kind: 'user', audience: serverUrl, boundProxyId: tp.defaultProxyId });
    expect(store.tokens.refresh_token).toBeTruthy();
  }, 60_000);
});

describe("a client sending exactly the seed's parameters", () => {
  it('gets an access token and a refresh token', async () => {
    const client = await registerPublicClient(tp, { redirectUris: [SEED_REDIRECT_URI] });
    const result = await authorizeCode(tp, { clientId: client.client_id });
    expect(result.state).toBeTruthy();
    expect(result.iss).toBe(tp.url);
    const tokens = await tokenResponse(await exchangeCode(tp, { clientId: client.client_id, code: result.code!, codeVerifier: result.codeVerifier }));
    expect(tokens.access_token).toBeTruthy();
    expect(tokens.refresh_token).toBeTruthy();
    expect(await bearer.authenticate(tokens.access_token)).toMatchObject({ kind: 'user', audience: `${tp.url}/v1/model-router` });
  });
});
