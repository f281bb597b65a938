// RFC 7009 revocation and RFC 7662 introspection of access tokens (JWTs), with oauth4webapi:
// revoking one stops it at the router on every instance within 5 s, introspection says whether it
// is live, and neither endpoint lets one client touch or learn about another client's token.

import { importJWK, SignJWT, type JWK } from 'jose';
import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorActor } from '../../src/accounts/actors.js';
import { createUserAs, setUserDisabled } from '../../src/accounts/user-management.js';
import { disableClient } from '../../src/oauth/clients.js';
import { loadSigningKeys } from '../../src/oauth/signing-keys.js';
import { clientCredentialsToken, createConfidentialClient, refreshTokens, userTokens } from '../support/oauth-client.js';
import { createTestDatabase, startTestPlatform, testEngine, type TestPlatform } from '../support/test-platform.js';
import { eventually, refusedEverywhere, routerStatus } from './bearer-support.js';

let a: TestPlatform;
/** A second instance on the same PostgreSQL (SQLite: one instance). */
let b: TestPlatform | undefined;
let as: oauth.AuthorizationServer;
const http = { [oauth.allowInsecureRequests]: true };
const instances = () => (b ? [a, b] : [a]);

beforeAll(async () => {
  const database = await createTestDatabase();
  a = await startTestPlatform({}, database);
  if (testEngine() === 'postgres') b = await startTestPlatform({ PUBLIC_URL: a.url }, database);
  const issuer = new URL(a.url);
  as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { ...http, algorithm: 'oauth2' }));
}, 60_000);
afterAll(async () => {
  await b?.stop();
  await a?.close();
});

type Auth = ReturnType<typeof oauth.None>;
const publicClient = (clientId: string): [oauth.Client, Auth] => [{ client_id: clientId }, oauth.None()];
const confidentialClient = (c: { client_id: string; client_secret: string }): [oauth.Client, Auth] => [
  { client_id: c.client_id },
  oauth.ClientSecretBasic(c.client_secret),
];

async function introspect([client, auth]: [oauth.Client, Auth], token: string) {
  const response = await oauth.introspectionRequest(as, client, auth, token, { ...http, additionalParameters: { token_type_hint: 'access_token' } });
  return oauth.processIntrospectionResponse(as, client, response);
}

async function revoke([client, auth]: [oauth.Client, Auth], token: string) {
  const response = await oauth.revocationRequest(as, client, auth, token, { ...http, additionalParameters: { token_type_hint: 'access_token' } });
  expect(response.status).toBe(200);
  await oauth.processRevocationResponse(response);
}

describe("revoking a user's access token (RFC 7009)", () => {
  it('ends its grant: the router refuses the token on every instance within 5 s, and introspection turns inactive', async () => {
    const tokens = await userTokens(a);
    const app = publicClient(tokens.client.client_id);
    for (const tp of instances()) expect(await routerStatus(tp, tokens.access_token)).toBe(200);
    expect(await introspect(app, tokens.access_token)).toMatchObject({
      active: true,
      client_id: tokens.client.client_id,
      scope: 'llm:proxy',
      sub: expect.any(String),
      aud: `${a.url}/v1/model-router`,
      iss: a.url,
      token_type: 'Bearer',
    });

    await revoke(app, tokens.access_token);
    expect(await refusedEverywhere(instances(), [tokens.access_token])).toBeLessThan(5000);
    expect(await introspect(app, tokens.access_token)).toEqual({ active: false });
    // The grant ended with it, refresh token included.
    const refresh = await refreshTokens(a, { clientId: tokens.client.client_id, refreshToken: tokens.refresh_token! });
    expect(refresh.status).toBe(400);
    expect(await refresh.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it("does nothing to, and tells nothing about, another client's token", async () => {
    const victim = await userTokens(a, { clientName: 'Victim App' });
    const other = await userTokens(a, { clientName: 'Other App' });
    const otherApp = publicClient(other.client.client_id);
    expect(await introspect(otherApp, victim.access_token)).toEqual({ active: false });
    await revoke(otherApp, victim.access_token);
    // Give every instance more than a change-feed poll to hear of a revocation, had there been one.
    await new Promise((r) => setTimeout(r, 1500));
    for (const tp of instances()) expect(await routerStatus(tp, victim.access_token)).toBe(200);
    expect(await introspect(publicClient(victim.client.client_id), victim.access_token)).toMatchObject({ active: true });
  });

  it('answers 200 for a token that is not a live Keyward token, and introspects it as inactive', async () => {
    const tokens = await userTokens(a);
    const app = publicClient(tokens.client.client_id);
    const { jwks } = await loadSigningKeys(a.platform.ctx);
    const key = jwks.keys[0] as JWK;
    const claims = { client_id: tokens.client.client_id, scope: 'llm:proxy', gid: 'nope' };
    const expired = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: key.kid!, typ: 'at+jwt' })
      .setIssuer(a.url)
      .setAudience(`${a.url}/v1/model-router`)
      .setSubject(a.admin.email)
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
      .sign(await importJWK(key, 'ES256'));
    const [header, body] = tokens.access_token.split('.');
    const forged = `${header}.${body}.${Buffer.from('not the signature').toString('base64url')}`;
    for (const token of [expired, forged]) {
      expect(await introspect(app, token)).toEqual({ active: false });
      await revoke(app, token);
    }
    expect(await introspect(app, tokens.access_token)).toMatchObject({ active: true });
  });
});

describe('client-credentials access tokens', () => {
  it('are revoked on their own: the router refuses the token on every instance within 5 s; a new one works', async () => {
    const service = await createConfidentialClient(a, { name: 'Batch job' });
    const token = (await clientCredentialsToken(a, service)).access_token;
    const self = confidentialClient(service);
    expect(await introspect(self, token)).toMatchObject({ active: true, client_id: service.client_id, scope: 'llm:proxy' });
    await revoke(self, token);
    expect(await refusedEverywhere(instances(), [token])).toBeLessThan(5000);
    expect(await introspect(self, token)).toEqual({ active: false });
    const next = (await clientCredentialsToken(a, service)).access_token;
    for (const tp of instances()) expect(await routerStatus(tp, next)).toBe(200);
  });

  it('a confidential client may introspect any token, but revoke only its own', async () => {
    const user = await userTokens(a);
    const service = confidentialClient(await createConfidentialClient(a, { name: 'Resource server' }));
    expect(await introspect(service, user.access_token)).toMatchObject({ active: true, client_id: user.client.client_id });
    await revoke(service, user.access_token);
    await new Promise((r) => setTimeout(r, 1500));
    for (const tp of instances()) expect(await routerStatus(tp, user.access_token)).toBe(200);
  });

  it("introspect as inactive once the token's client is disabled", async () => {
    const user = await userTokens(a);
    const service = await createConfidentialClient(a);
    const token = (await clientCredentialsToken(a, service)).access_token;
    const introspector = confidentialClient(await createConfidentialClient(a, { name: 'Introspector' }));
    expect(await introspect(introspector, token)).toMatchObject({ active: true });
    await disableClient(a.platform.ctx, service.client_id);
    await disableClient(a.platform.ctx, user.client.client_id);
    expect(await introspect(introspector, token)).toEqual({ active: false });
    expect(await introspect(introspector, user.access_token)).toEqual({ active: false });
  });
});

describe('disabling a user', () => {
  it("stops their apps at once and on every instance; enabling them again lets the same grant work", async () => {
    const operator = await operatorActor(a.platform.ctx.db);
    const member = { email: 'disabled.member@example.com', password: 'a member password long enough' };
    const { id } = await createUserAs(a.platform.ctx, operator, { ...member, role: 'member' });
    const tokens = await userTokens(a, member);
    const introspector = confidentialClient(await createConfidentialClient(a, { name: 'Introspector' }));
    for (const tp of instances()) expect(await routerStatus(tp, tokens.access_token)).toBe(200);

    await setUserDisabled(a.platform.ctx, operator, id, true);
    // The router: forbidden on every instance within 5 s, saying why.
    const took = await eventually(async () => {
      for (const tp of instances()) if ((await routerStatus(tp, tokens.access_token)) !== 403) return false;
      return true;
    });
    expect(took).toBeLessThan(5000);
    const refused = await fetch(`${a.url}/v1/model-router/models`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(await refused.json()).toMatchObject({ error: { code: 'account_disabled', message: expect.stringMatching(/disabled/) } });
    // The token endpoint and introspection read the database: no wait.
    const refresh = await refreshTokens(a, { clientId: tokens.client.client_id, refreshToken: tokens.refresh_token! });
    expect(refresh.status).toBe(400);
    expect(await refresh.json()).toMatchObject({ error: 'invalid_grant' });
    expect(await introspect(introspector, tokens.access_token)).toEqual({ active: false });

    // Disabling suspends; it does not end the user's grants (revoking an app does).
    await setUserDisabled(a.platform.ctx, operator, id, false);
    const again = await refreshTokens(a, { clientId: tokens.client.client_id, refreshToken: tokens.refresh_token! });
    expect(again.status).toBe(200);
    const renewed = (await again.json()) as { access_token: string };
    await eventually(async () => {
      for (const tp of instances()) if ((await routerStatus(tp, renewed.access_token)) !== 200) return false;
      return true;
    });
    expect(await introspect(introspector, tokens.access_token)).toMatchObject({ active: true });
  });
});
