// Consent is remembered per user and app and asked again when the scopes grow; the Keyward
// session, not oidc-provider's own, decides who is signed in to an authorization.

import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser } from '../../src/accounts/users.js';
import { requirePrimaryOrganization, addMembership } from '../../src/accounts/organizations.js';
import {
  CookieJar,
  authorizeCode,
  exchangeCode,
  registerPublicClient,
  tokenResponse,
  type AuthorizeOptions,
} from '../support/oauth-client.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

let tp: TestPlatform;
const BOB = { email: 'bob@example.com', password: 'bob has a long passphrase' };
let bobId: string;
let adminId: string;

beforeAll(async () => {
  tp = await startTestPlatform();
  const bob = await createUser(tp.platform.ctx.db, BOB);
  await addMembership(tp.platform.ctx.db, (await requirePrimaryOrganization(tp.platform.ctx.db)).id, bob.id, 'member');
  bobId = bob.id;
  adminId = (await tp.platform.ctx.db.selectFrom('users').select('id').where('email', '=', tp.admin.email).executeTakeFirstOrThrow()).id;
}, 60_000);
afterAll(async () => {
  await tp?.close();
});

const scopesListed = (page: string) => [...page.matchAll(/<li data-scope="([^"]+)"/g)].map((m) => m[1]);
const newScopesListed = (page: string) => [...page.matchAll(/<li data-scope="([^"]+)" data-new="true"/g)].map((m) => m[1]);

/** Authorizes and redeems the code; returns the token's subject and what was shown on the way. */
async function authorizeAndRedeem(options: AuthorizeOptions) {
  const result = await authorizeCode(tp, options);
  expect(result.error).toBeNull();
  expect(result.iss).toBe(tp.url);
  const tokens = await tokenResponse(
    await exchangeCode(tp, { clientId: options.clientId, code: result.code!, codeVerifier: result.codeVerifier }),
  );
  return { ...result, tokens, sub: decodeJwt(tokens.access_token).sub };
}

async function signOut(jar: CookieJar) {
  const account = await jar.fetch(`${tp.url}/account`);
  const page = await account.text();
  expect(account.status).toBe(200);
  const csrf = /name="csrf" value="([^"]*)"/.exec(page)![1]!;
  const response = await jar.fetch(`${tp.url}/sign-out`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf }),
  });
  await response.body?.cancel();
  expect(response.status).toBe(303);
  expect(response.headers.get('location')).toBe('/sign-in');
}

describe('consent is remembered per user and app, and asked again when the scopes grow', () => {
  it('llm:proxy → Allow (the page says it stays connected); offline_access → not asked again; openid → asked, naming only that; then the same → not asked', async () => {
    const client = await registerPublicClient(tp, { clientName: 'Growing App', metadata: { scope: 'llm:proxy offline_access openid' } });
    const jar = new CookieJar();

    const first = await authorizeAndRedeem({ clientId: client.client_id, scope: 'llm:proxy', jar });
    expect(first.signInShown).toBe(true);
    expect(first.consentPage).not.toBeNull();
    // An app with refresh tokens gets them whatever it asked for: the page says so, and the grant holds it.
    expect(scopesListed(first.consentPage!)).toEqual(['llm:proxy', 'offline_access']);
    expect(newScopesListed(first.consentPage!)).toEqual([]); // nothing allowed before: no "New" marks
    expect(first.tokens.scope).toBe('llm:proxy');
    expect(first.tokens.refresh_token).toBeTruthy();

    const second = await authorizeAndRedeem({ clientId: client.client_id, scope: 'llm:proxy offline_access', jar });
    expect(second.signInShown).toBe(false);
    expect(second.consentPage).toBeNull();
    // The access token is for the router: its scope is the router's; offline_access is the refresh token.
    expect(second.tokens.scope).toBe('llm:proxy');
    expect(second.tokens.refresh_token).toBeTruthy();

    const third = await authorizeAndRedeem({ clientId: client.client_id, scope: 'llm:proxy offline_access openid', jar });
    expect(third.consentPage).not.toBeNull();
    expect(third.consentPage).toContain('Growing App');
    expect(newScopesListed(third.consentPage!)).toEqual(['openid']);
    expect(third.consentPage).toContain('You allowed this app before');
    expect(third.consentPage).toContain('<strong>New:</strong> Know your Keyward account id');

    const fourth = await authorizeAndRedeem({ clientId: client.client_id, scope: 'llm:proxy offline_access openid', jar });
    expect(fourth.consentPage).toBeNull();

    // Narrower than what was granted: nothing new to agree to.
    const fifth = await authorizeAndRedeem({ clientId: client.client_id, scope: 'llm:proxy', jar });
    expect(fifth.consentPage).toBeNull();
  });

  it('one proxy → Allow; then every proxy → asked again, the LLM access marked New and the proxy it was limited to named', async () => {
    const client = await registerPublicClient(tp, { clientName: 'Widening App' });
    const jar = new CookieJar();
    const one = `${tp.url}/v1/model-router/${tp.defaultProxyId}`;
    const first = await authorizeAndRedeem({ clientId: client.client_id, scope: 'llm:proxy', resource: one, jar });
    expect(first.consentPage).toContain('Only through: Default LLM Proxy.');
    expect(newScopesListed(first.consentPage!)).toEqual([]);

    const wider = await authorizeAndRedeem({ clientId: client.client_id, scope: 'llm:proxy', jar });
    expect(wider.consentPage).not.toBeNull();
    expect(newScopesListed(wider.consentPage!)).toEqual(['llm:proxy']);
    expect(wider.consentPage).toContain('<strong>New:</strong> through any of your LLM proxies (before: only Default LLM Proxy).');
    expect(wider.consentPage).not.toContain('Only through');
  });

  it('the remembered consent belongs to that user: another user of the same app is asked', async () => {
    const client = await registerPublicClient(tp, { clientName: 'Shared App' });
    const admin = await authorizeAndRedeem({ clientId: client.client_id, jar: new CookieJar() });
    expect(admin.consentPage).not.toBeNull();
    const again = await authorizeAndRedeem({ clientId: client.client_id, jar: new CookieJar() });
    expect(again.signInShown).toBe(true);
    expect(again.consentPage).toBeNull(); // remembered across browsers for the same user
    const bob = await authorizeAndRedeem({ clientId: client.client_id, jar: new CookieJar(), ...BOB });
    expect(bob.consentPage).not.toBeNull();
    expect(bob.sub).toBe(bobId);
  });
});

describe('after signing out of Keyward, the next authorization signs in again', () => {
  it('sign-out → the sign-in page is shown again (oidc-provider does not silently reuse its session)', async () => {
    const client = await registerPublicClient(tp, { clientName: 'Re-login App' });
    const jar = new CookieJar();
    const before = await authorizeAndRedeem({ clientId: client.client_id, jar });
    expect(before.signInShown).toBe(true);
    expect(before.sub).toBe(adminId);
    // Still signed in: no page at all.
    const silent = await authorizeAndRedeem({ clientId: client.client_id, jar });
    expect(silent.signInShown).toBe(false);
    expect(silent.consentPage).toBeNull();

    await signOut(jar);
    const after = await authorizeAndRedeem({ clientId: client.client_id, jar });
    expect(after.signInShown).toBe(true);
    expect(after.consentPage).toBeNull(); // the same user's consent is still remembered
    expect(after.sub).toBe(adminId);
  });

  it('sign-out, then signing in as another user in the same browser → a token for the other user', async () => {
    const client = await registerPublicClient(tp, { clientName: 'Switch App' });
    const jar = new CookieJar();
    const admin = await authorizeAndRedeem({ clientId: client.client_id, jar });
    expect(admin.sub).toBe(adminId);

    await signOut(jar);
    const bob = await authorizeAndRedeem({ clientId: client.client_id, jar, ...BOB });
    expect(bob.signInShown).toBe(true);
    expect(bob.consentPage).not.toBeNull(); // Bob never allowed this app
    expect(bob.sub).toBe(bobId);

    // And back: the admin's remembered consent, the admin's subject.
    await signOut(jar);
    const back = await authorizeAndRedeem({ clientId: client.client_id, jar });
    expect(back.signInShown).toBe(true);
    expect(back.consentPage).toBeNull();
    expect(back.sub).toBe(adminId);
  });

  it('switching users on the sign-in page directly (no sign-out through the app) → a token for the new user', async () => {
    const client = await registerPublicClient(tp, { clientName: 'Direct Switch App' });
    const jar = new CookieJar();
    expect((await authorizeAndRedeem({ clientId: client.client_id, jar })).sub).toBe(adminId);
    await signOut(jar);
    // Bob signs in at /sign-in first, then the app starts a new authorization.
    const page = await (await jar.fetch(`${tp.url}/sign-in`)).text();
    const signIn = await jar.fetch(`${tp.url}/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...BOB, csrf: /name="csrf" value="([^"]*)"/.exec(page)![1]! }),
    });
    await signIn.body?.cancel();
    expect(signIn.status).toBe(303);
    const bob = await authorizeAndRedeem({ clientId: client.client_id, jar });
    expect(bob.signInShown).toBe(false);
    expect(bob.consentPage).not.toBeNull();
    expect(bob.sub).toBe(bobId);
  });
});
