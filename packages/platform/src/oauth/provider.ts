// oidc-provider, configured. Every choice that differs from its defaults is here with its reason;
// the defaults not mentioned are oidc-provider's (see its lib/helpers/defaults.js).

import { decodeJwt } from 'jose';
import Provider, { errors, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { AppContext } from '../app-context.js';
import { sessionCookieName } from '../accounts/cookies.js';
import { findSessionUser } from '../accounts/sessions.js';
import { findUserById } from '../accounts/users.js';
import { removeCapOfEndedGrant } from '../limits/app-caps.js';
import { html } from '../web/html.js';
import { layout } from '../web/layout.js';
import { answerForAccessTokens, mayIntrospect, mayRevoke } from './access-token-endpoints.js';
import {
  clientSecretMatches,
  findClientMetadata,
  findClientRecord,
  loopbackRedirectMatches,
  newRegisteredClientId,
  saveRegisteredClient,
} from './clients.js';
import { revokeGrant } from './grant-revocation.js';
import { deviceFlowFeature, devicePolling } from './device-flow.js';
import { errorSentToApp, holdsErrorRedirect } from './error-redirects.js';
import { pinPublicOrigin } from './public-origin.js';
import { validateRegistration } from './registration-policy.js';
import {
  INTERACTION_PATH,
  LLM_PROXY_SCOPE,
  OAUTH_ROUTES,
  OFFLINE_ACCESS_SCOPE,
  interactionPath,
  parseRouterResource,
  routerResource,
} from './paths.js';
import { GRANT_ID_CLAIM, type RevocationState } from './resource-server.js';
import { ACCESS_TOKEN_ALG, type SigningKeys } from './signing-keys.js';
import { createAdapterFactory } from './storage-adapter.js';
import './tables.js';

export const KNOWN_SCOPES = new Set(['openid', OFFLINE_ACCESS_SCOPE, LLM_PROXY_SCOPE]);
const AUTHORIZATION_CODE_TTL_SECONDS = 60;
const INTERACTION_TTL_SECONDS = 30 * 60;

export const OIDC_COOKIE_NAMES = {
  session: 'keyward_oauth_session',
  interaction: 'keyward_oauth_interaction',
  resume: 'keyward_oauth_resume',
};

function renderError(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }, blocked = false) {
  const body = blocked
    ? html`
<h1>This app is blocked</h1>
<div class="notice error" role="alert">An administrator of your organization has blocked this app, so it cannot connect to your account.</div>
<p>If you need it, ask an administrator of your organization.</p>
<p class="fine">Error code: ${out.error}</p>`
    : html`
<h1>This sign-in link does not work</h1>
<div class="notice error" role="alert"><strong>${out.error}</strong>${out.error_description ? html`: ${out.error_description}` : ''}</div>
<p>The app that sent you here made a request Keyward cannot accept. Go back to the app and try again, or tell its developer.</p>`;
  ctx.type = 'html';
  ctx.set('content-security-policy', "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
  ctx.set('x-frame-options', 'DENY');
  ctx.set('x-content-type-options', 'nosniff');
  ctx.set('referrer-policy', 'no-referrer');
  ctx.set('cache-control', 'no-store');
  ctx.body = layout({ title: 'Sign-in error', body });
}

/** Throws invalid_scope for a scope Keyward does not know (oidc-provider would silently drop it). */
function checkRequestedScopes(scope: unknown) {
  if (typeof scope !== 'string') return;
  const unknown = scope.split(' ').filter((s) => s && !KNOWN_SCOPES.has(s));
  if (unknown.length) throw new errors.InvalidScope('requested scope is not supported', unknown.join(' '));
}

/** The scope the client itself sent, before oidc-provider's own processing. */
function scopeAsSent(context: KoaContextWithOIDC): string | undefined {
  const pushed = context.oidc.entities?.PushedAuthorizationRequest?.request;
  if (typeof pushed === 'string') return String(decodeJwt(pushed).scope ?? '');
  const source = context.method === 'POST' ? context.oidc.body : context.query;
  return typeof source?.scope === 'string' ? source.scope : undefined;
}

/**
 * oidc-provider drops `offline_access` unless the request says `prompt=consent` (OpenID Connect
 * Core §11). The seed's client sends no prompt, and Keyward asks for consent whenever the scopes
 * grow (the "other conditions" §11 allows), so the scope is kept when the client may refresh:
 * the consent page asks for it once and the grant remembers it (the access token stays the
 * router's, scope llm:proxy; offline_access is what the refresh token stands for).
 * Run as an extraParams validator of `scope`: oidc-provider calls those after its own checks.
 */
async function keepOfflineAccess(context: KoaContextWithOIDC, scope: unknown, client: any): Promise<void> {
  if (!client?.grantTypeAllowed('refresh_token')) return;
  if (client.scope && !String(client.scope).split(' ').includes(OFFLINE_ACCESS_SCOPE)) return;
  if (!scopeAsSent(context)?.split(' ').includes(OFFLINE_ACCESS_SCOPE)) return;
  const kept = new Set(typeof scope === 'string' ? scope.split(' ').filter(Boolean) : []);
  if (kept.has(OFFLINE_ACCESS_SCOPE)) return;
  kept.add(OFFLINE_ACCESS_SCOPE);
  context.oidc.params.scope = [...kept].join(' ');
}

export function createProvider(ctx: AppContext, keys: SigningKeys, cookieKeys: string[], revocations: RevocationState): Provider {
  const { config } = ctx;
  const issuer = config.publicUrl;
  const adapter = createAdapterFactory(ctx.db, {
    grantRevoked: async (grantId, owner) => {
      await revocations.revokeGrant(grantId);
      // oidc-provider ended the grant (the app revoked its refresh token): the app cap goes with it.
      if (owner) await removeCapOfEndedGrant(ctx, { id: grantId, ...owner });
    },
    replayDetected: async (grantId) => {
      ctx.log.warn({ event: 'oauth_replay_detected', grantId }, 'a code or refresh token was used twice at once; its grant is revoked');
      await revokeGrant(ctx, revocations, grantId);
    },
    findClient: (clientId) => findClientMetadata(ctx.db, clientId),
    saveClient: (clientId, metadata) => saveRegisteredClient(ctx.db, clientId, metadata),
  });

  // Login: oidc-provider's checks, plus one that ends its session when the Keyward session it was
  // built on is gone or belongs to someone else (the user signed out, or switched accounts).
  const policy = interactionPolicy.base();
  const login = policy.get('login');
  login.checks.add(
    new interactionPolicy.Check('keyward_session_changed', 'the Keyward session changed', async (context: KoaContextWithOIDC) => {
      const accountId = context.oidc.session?.accountId;
      if (!accountId) return interactionPolicy.Check.NO_NEED_TO_PROMPT;
      const user = await findSessionUser(ctx.db, context.cookies.get(sessionCookieName(config)));
      return user?.id === accountId ? interactionPolicy.Check.NO_NEED_TO_PROMPT : interactionPolicy.Check.REQUEST_PROMPT;
    }),
  );

  const provider = new Provider(issuer, {
    adapter,
    clients: [],
    jwks: keys.jwks,
    routes: OAUTH_ROUTES,
    // llm:proxy is also listed here so clients may register it in their `scope` metadata (the seed
    // example does) and discovery advertises it; tokens carry it only for the router resource.
    scopes: ['openid', OFFLINE_ACCESS_SCOPE, LLM_PROXY_SCOPE],
    claims: { openid: ['sub'] },
    responseTypes: ['code'],
    clientAuthMethods: ['none', 'client_secret_basic', 'client_secret_post'],
    // Authorization requests always carry redirect_uri (OAuth 2.1); never infer it.
    allowOmittingSingleRegisteredRedirectUri: false,
    pkce: { required: () => true },
    extraParams: { scope: keepOfflineAccess },
    cookies: {
      keys: cookieKeys,
      names: OIDC_COOKIE_NAMES,
      long: { signed: true, httpOnly: true, sameSite: 'lax', path: '/' },
      short: { signed: true, httpOnly: true, sameSite: 'lax', path: '/' },
    },
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      id_token_signed_response_alg: ACCESS_TOKEN_ALG,
    },
    enabledJWA: {
      idTokenSigningAlgValues: [ACCESS_TOKEN_ALG],
      clientAuthSigningAlgValues: [ACCESS_TOKEN_ALG],
    },
    extraClientMetadata: { properties: ['keyward_policy'], validator: validateRegistration },
    ttl: {
      AccessToken: config.accessTokenTtlSeconds,
      ClientCredentials: config.accessTokenTtlSeconds,
      AuthorizationCode: AUTHORIZATION_CODE_TTL_SECONDS,
      RefreshToken: config.refreshTokenTtlSeconds,
      Grant: config.refreshTokenTtlSeconds,
      IdToken: config.accessTokenTtlSeconds,
      Interaction: INTERACTION_TTL_SECONDS,
      DeviceCode: config.deviceCodeTtlSeconds,
      Session: config.sessionTtlSeconds,
    },
    // Tokens belong to the grant, not to oidc-provider's browser session (Keyward has its own).
    expiresWithSession: async () => false,
    // OIDC strips offline_access without prompt=consent; the seed's client sends no prompt and must
    // still get a refresh token, so refresh tokens follow the client's registered grant types
    // (panva's advice for this case) and the consent page says so ("Stay connected…").
    issueRefreshToken: async (_ctx: KoaContextWithOIDC, client: any) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
    loadExistingGrant: async (context: KoaContextWithOIDC) => {
      const grantId = context.oidc.result?.consent?.grantId || context.oidc.session.grantIdFor(context.oidc.client.clientId);
      if (grantId) return context.oidc.provider.Grant.find(grantId);
      // Consent is remembered per user and client, across browsers: the newest grant.
      const row = await ctx.db
        .selectFrom('oauth_payloads')
        .select('id')
        .where('model', '=', 'Grant')
        .where('account_id', '=', context.oidc.session.accountId)
        .where('client_id', '=', context.oidc.client.clientId)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', Date.now())]))
        .orderBy('expires_at', 'desc')
        .limit(1)
        .executeTakeFirst();
      return row ? context.oidc.provider.Grant.find(row.id) : undefined;
    },
    extraTokenClaims: async (_ctx: KoaContextWithOIDC, token: any) =>
      token.kind === 'AccessToken' && token.grantId ? { [GRANT_ID_CLAIM]: token.grantId } : undefined,
    findAccount: async (_ctx: KoaContextWithOIDC, sub: string) => {
      const user = await findUserById(ctx.db, sub);
      if (!user || user.disabled_at !== null) return undefined;
      return { accountId: sub, claims: async () => ({ sub }) };
    },
    interactions: {
      policy,
      url: (_ctx: KoaContextWithOIDC, interaction: { uid: string }) => interactionPath(interaction.uid),
    },
    // A blocked app (a disabled client) gets a page that says so, not a generic invalid_client.
    renderError: async (context: KoaContextWithOIDC, out: { error: string; error_description?: string }) => {
      const clientId = context.query?.client_id;
      const blocked =
        out.error === 'invalid_client' &&
        typeof clientId === 'string' &&
        clientId.length <= 200 &&
        (await ctx.db.selectFrom('oauth_clients').select('client_id').where('client_id', '=', clientId).where('disabled_at', 'is not', null).executeTakeFirst()) !== undefined;
      renderError(context, out, blocked);
    },
    // CORS for browser-only apps: public clients from their redirect origins; nobody on /authorize
    // (not a CORS endpoint at all).
    clientBasedCORS: (_ctx: KoaContextWithOIDC, origin: string, client: any) => {
      if (origin === 'null') return false;
      if (client.clientAuthMethod !== 'none') return false;
      return client.redirectUris.some((uri: string) => URL.parse(uri)?.origin === origin);
    },
    features: {
      devInteractions: { enabled: false },
      userinfo: { enabled: false },
      rpInitiatedLogout: { enabled: false },
      clientCredentials: { enabled: true },
      // RFC 8628 for CLIs and agents without a redirect; the /device pages are Keyward's (device-flow.ts).
      deviceFlow: deviceFlowFeature(),
      // On by default in oidc-provider; its route sits with the others (it was advertised at /request,
      // which nothing served).
      pushedAuthorizationRequests: { enabled: true },
      // The router checks bearer tokens only: a DPoP-bound token would be accepted there without its
      // proof, so the binding would be a promise nobody keeps. Off, and not advertised.
      dPoP: { enabled: false },
      // Refresh tokens here; access tokens (JWTs, which oidc-provider refuses) in access-token-endpoints.ts.
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx: KoaContextWithOIDC, client: any, token: any) => mayRevoke(client, token.clientId),
      },
      introspection: {
        enabled: true,
        allowedPolicy: async (_ctx: KoaContextWithOIDC, client: any, token: any) => mayIntrospect(client, token.clientId),
      },
      registration: {
        enabled: config.registration !== 'off',
        initialAccessToken: config.registration === 'token' ? config.registrationToken : false,
        issueRegistrationAccessToken: true,
        idFactory: newRegisteredClientId,
      },
      resourceIndicators: {
        enabled: true,
        // No resource (the seed's flow): the whole router.
        defaultResource: async (_ctx: KoaContextWithOIDC, _client: any, oneOf?: string) => oneOf ?? routerResource(issuer),
        useGrantedResource: async () => true,
        getResourceServerInfo: async (context: KoaContextWithOIDC, resource: string, client: any) => {
          checkRequestedScopes(context.oidc.params?.scope);
          const target = parseRouterResource(issuer, resource);
          if (!target) throw new errors.InvalidTarget('the only resource here is the model router');
          if (target.proxyId && client.clientAuthMethod !== 'none') {
            const record = await findClientRecord(ctx.db, client.clientId);
            if (!record?.access?.proxyIds.includes(target.proxyId)) throw new errors.InvalidTarget('this client may not use that LLM proxy');
          }
          return {
            scope: LLM_PROXY_SCOPE,
            audience: resource,
            accessTokenTTL: config.accessTokenTtlSeconds,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: ACCESS_TOKEN_ALG } },
          };
        },
      },
    },
  });
  // Koa reads X-Forwarded-* as Fastify does: the same number of hops (a list of addresses, which
  // Koa cannot express, is left to Fastify; nothing here reads Koa's client IP).
  provider.proxy = config.trustProxy !== false;
  if (typeof config.trustProxy === 'number') provider.maxIpsCount = config.trustProxy;
  // URLs it writes and Secure cookies follow PUBLIC_URL, never the request's Host or the hop's protocol.
  pinPublicOrigin(provider, config.publicUrl);

  // Exact redirect-URI matching, plus the loopback port exception for every client (RFC 8252).
  const redirectUriAllowed = provider.Client.prototype.redirectUriAllowed as (this: any, value: string) => boolean;
  provider.Client.prototype.redirectUriAllowed = function (this: any, value: string) {
    return redirectUriAllowed.call(this, value) || loopbackRedirectMatches(this.redirectUris, value);
  };
  // Confidential clients' stored "secret" is its SHA-256; compare the hash of what was presented.
  provider.Client.prototype.compareClientSecret = async function (this: any, presented: string) {
    return clientSecretMatches(this.clientSecret, presented);
  };

  provider.use(devicePolling(ctx.db, config));

  // Error codes as the RFCs name them where oidc-provider answers a generic invalid_request:
  // RFC 7591 §3.2.2 for a body that is not client metadata, RFC 6749 §5.2 for a grant type the
  // client may not use (e.g. a public client asking for client_credentials, or a code-only client
  // asking for a device code).
  provider.use(async (context: KoaContextWithOIDC, next: () => Promise<void>) => {
    await next();
    if (context.status !== 400 || context.body?.error !== 'invalid_request') return;
    if (context.oidc?.route === 'registration') {
      context.body = { ...context.body, error: 'invalid_client_metadata' };
    } else if (context.oidc?.route === 'token' && context.body.error_description === 'requested grant type is not allowed for this client') {
      context.body = { ...context.body, error: 'unauthorized_client' };
    } else if (context.oidc?.route === 'device_authorization' && /grant-type:device_code is not allowed for this client$/.test(String(context.body.error_description))) {
      // RFC 8628 §3.1 (RFC 6749 §5.2): a client not allowed the device grant.
      context.body = { ...context.body, error: 'unauthorized_client' };
    }
  });

  // No error redirect to a self-registered app for someone who has not signed in (error-redirects.ts).
  provider.use(async (context: KoaContextWithOIDC, next: () => Promise<void>) => {
    await next();
    if (!holdsErrorRedirect(context)) return;
    const out = errorSentToApp(context);
    if (!out) return;
    context.remove('location');
    context.status = 400;
    renderError(context, out);
  });

  answerForAccessTokens(provider, ctx, keys.publicKeys, revocations);

  return provider;
}

export { INTERACTION_PATH };
