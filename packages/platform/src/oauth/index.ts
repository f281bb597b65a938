// The authorization server as a Fastify plugin: oidc-provider on /api/auth/oauth2/*, /device and
// the well-known metadata, our interaction pages, connected apps, RFC 9728 metadata for the router,
// and the one function the router authenticates with.

import cors from '@fastify/cors';
import formbody from '@fastify/formbody';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type Provider from 'oidc-provider';
import type { AppContext } from '../app-context.js';
import { currentUser, signInUrl } from '../accounts/sign-in-routes.js';
import { connectedAppsRoutes, touchGrant } from './connected-apps.js';
import { prefillUserCode } from './device-flow.js';
import { interactionRoutes } from './interactions.js';
import {
  AUTHORIZATION_SERVER_METADATA_PATH,
  DEVICE_PATH,
  MODEL_ROUTER_PATH,
  OAUTH_BASE,
  OAUTH_ROUTES,
  OPENID_CONFIGURATION_PATH,
  PROTECTED_RESOURCE_METADATA_PATH,
} from './paths.js';
import type { AuthenticateBearer } from './principal.js';
import { OIDC_COOKIE_NAMES, createProvider } from './provider.js';
import { handleWithProviderContext } from './provider-async-context.js';
import { RevocationState, createBearerAuthenticator, protectedResourceMetadata } from './resource-server.js';
import { loadOidcCookieKeys, loadSigningKeys } from './signing-keys.js';
import { pruneExpired } from './storage-adapter.js';
import { pruneUnusedApps } from './unused-apps.js';

export { bearerTokenFromHeader, protectedResourceMetadata, wwwAuthenticate } from './resource-server.js';
export { createConfidentialClient, disableClient, rotateClientSecret } from './clients.js';

/** The registration rate limit's window; how many per window is KEYWARD_REGISTRATION_RATE_LIMIT. */
const REGISTRATION_RATE_WINDOW_MS = 60_000;

/** Thrown by @fastify/rate-limit when an IP registered too many clients; answered as an OAuth error. */
class RegistrationRateLimited extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('too many registrations');
  }
}
const PRUNE_INTERVAL_MS = 10 * 60_000;
const UNUSED_APPS_PRUNE_INTERVAL_MS = 60 * 60_000;
const DAY_MS = 86_400_000;
/**
 * The safety net under the change feed: every instance re-reads revoked grants and disabled
 * clients this often, so a revocation whose event was lost still takes effect within it.
 */
export const REVOCATION_RECONCILE_INTERVAL_MS = 5000;
/** Grant revocations are kept until every access token they issued has expired (plus slack). */
const revocationKeepMs = (ctx: AppContext) => (ctx.config.accessTokenTtlSeconds + 300) * 1000;

export interface AuthorizationServer {
  authenticateBearer: AuthenticateBearer;
  provider: Provider;
  revocations: RevocationState;
}

export async function registerAuthorizationServer(app: FastifyInstance, ctx: AppContext): Promise<AuthorizationServer> {
  const keys = await loadSigningKeys(ctx);
  const revocations = new RevocationState(ctx, revocationKeepMs(ctx));
  await revocations.load();
  const provider = createProvider(ctx, keys, await loadOidcCookieKeys(ctx), revocations);
  const callback = provider.callback();

  provider.on('access_token.issued', (token: { grantId?: string }) => {
    if (token.grantId) touchGrant(ctx, token.grantId).catch((error) => ctx.log.warn({ err: error }, 'could not record grant use'));
  });
  provider.on('server_error', (_koa: unknown, error: unknown) => ctx.log.error({ err: error }, 'oauth server error'));
  // What fails outside oidc-provider's own error handling (Keyward's koa middleware around it)
  // reaches koa, which answers 500 and, without this listener, prints the stack to stderr.
  provider.on('error', (error: { status?: number; expose?: boolean }) => {
    if (error?.expose && (error.status ?? 500) < 500) return;
    ctx.log.error({ err: error }, 'oauth request failed');
  });

  ctx.jobs.every('revocation reconcile', REVOCATION_RECONCILE_INTERVAL_MS, () => revocations.reconcile());
  ctx.jobs.every('OAuth prune', PRUNE_INTERVAL_MS, async () => {
    revocations.prune();
    await pruneExpired(ctx.db);
  });
  const { unusedAppTtlDays } = ctx.config;
  if (unusedAppTtlDays > 0) {
    ctx.jobs.every('unused apps prune', UNUSED_APPS_PRUNE_INTERVAL_MS, async () => {
      const deleted = await pruneUnusedApps(ctx.db, unusedAppTtlDays * DAY_MS);
      if (deleted > 0) ctx.log.info({ deleted, unusedAppTtlDays }, 'self-registered apps nobody used deleted');
    });
  }

  // oidc-provider reads its own bodies: this scope parses none, and hands the raw request over.
  await app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, done) => done(null));
    await scope.register(rateLimit, {
      global: false,
      errorResponseBuilder: (_request, context) => new RegistrationRateLimited(Math.max(1, Math.ceil(context.ttl / 1000))),
    });
    // RFC 7591 §3.2.2 names no error for "too many"; `temporarily_unavailable` (RFC 6749 §4.1.2.1:
    // "unable to handle the request due to a temporary overloading") is the registered OAuth code
    // clients already treat as retry-later, and Retry-After says when. CORS too, so a browser app
    // can read why.
    scope.setErrorHandler(async (error, _request, reply) => {
      if (!(error instanceof RegistrationRateLimited)) throw error;
      return reply
        .code(429)
        .header('retry-after', String(error.retryAfterSeconds))
        .header('cache-control', 'no-store')
        .header('access-control-allow-origin', '*')
        .header('access-control-expose-headers', 'retry-after')
        .send({
          error: 'temporarily_unavailable',
          error_description: `too many client registrations from this address; try again in ${error.retryAfterSeconds} seconds`,
        });
    });
    const handOver = async (request: FastifyRequest, reply: FastifyReply) => {
      // Fastify's headers do not reach a hijacked reply: the request id goes on the raw response.
      reply.raw.setHeader('x-request-id', request.id);
      reply.hijack();
      // koa answers errors itself; its promise settling is the end of oidc-provider's async context.
      handleWithProviderContext(() => callback(request.raw, reply.raw)).catch((error: unknown) => ctx.log.error({ err: error }, 'oauth request failed'));
    };
    // The registration endpoint has no CORS in oidc-provider; browser-only apps need it.
    const registrationCors = async (request: FastifyRequest, reply: FastifyReply) => {
      reply.raw.setHeader('access-control-allow-origin', '*');
      reply.raw.setHeader('vary', 'Origin');
      if (request.method === 'OPTIONS') {
        return reply
          .code(204)
          .header('access-control-allow-origin', '*')
          .header('access-control-allow-methods', 'GET, POST')
          .header('access-control-allow-headers', 'authorization, content-type')
          .header('access-control-max-age', '600')
          .send();
      }
      return handOver(request, reply);
    };
    const { registrationRateLimit } = ctx.config;
    const registrationLimit = registrationRateLimit > 0 ? { max: registrationRateLimit, timeWindow: REGISTRATION_RATE_WINDOW_MS } : false;
    scope.post(OAUTH_ROUTES.registration, { config: { rateLimit: registrationLimit } }, registrationCors);
    scope.route({ method: ['GET', 'OPTIONS'], url: OAUTH_ROUTES.registration, handler: registrationCors });
    scope.route({ method: ['GET', 'OPTIONS'], url: `${OAUTH_ROUTES.registration}/:clientId`, handler: registrationCors });
    scope.all(`${OAUTH_BASE}/*`, handOver);
    // The device flow's pages (RFC 8628 verification_uri): oidc-provider runs them, for signed-in people.
    scope.get<{ Querystring: { user_code?: unknown } }>(DEVICE_PATH, async (request, reply) => {
      const userCode = request.query.user_code;
      const here = typeof userCode === 'string' ? `${DEVICE_PATH}?user_code=${encodeURIComponent(userCode)}` : DEVICE_PATH;
      if (!(await currentUser(ctx, request))) return reply.redirect(signInUrl(here), 303);
      if (typeof userCode === 'string') {
        prefillUserCode(request.raw, userCode);
        request.raw.url = DEVICE_PATH;
      }
      return handOver(request, reply);
    });
    // Without the (live) session the device page made, oidc-provider fails on its form and on the
    // page it comes back to (a 500): show the device page anew.
    const withLiveSession: typeof handOver = async (request, reply) => {
      const sessionId = request.cookies[OIDC_COOKIE_NAMES.session];
      const live = sessionId && sessionId.length <= 200 ? await provider.Session.find(sessionId) : undefined;
      return live ? handOver(request, reply) : reply.redirect(DEVICE_PATH, 303);
    };
    scope.post(DEVICE_PATH, withLiveSession);
    scope.get(`${DEVICE_PATH}/:uid`, withLiveSession);
    scope.route({ method: ['GET', 'OPTIONS'], url: AUTHORIZATION_SERVER_METADATA_PATH, handler: handOver });
    scope.route({ method: ['GET', 'OPTIONS'], url: OPENID_CONFIGURATION_PATH, handler: handOver });
  });

  // Keyward's own pages of the flow (urlencoded forms).
  await app.register(async (pages) => {
    await pages.register(formbody, { bodyLimit: 16 * 1024 });
    await interactionRoutes(pages, ctx, provider);
    await connectedAppsRoutes(pages, ctx, revocations);
  });

  // RFC 9728 metadata for the router (and each proxy of it), readable from any origin.
  await app.register(async (scope) => {
    await scope.register(cors, { origin: '*', methods: ['GET'] });
    // PUBLIC_URL is the root of its origin (config.ts), so the resource's path is the router's.
    const prefix = `${PROTECTED_RESOURCE_METADATA_PATH}${MODEL_ROUTER_PATH}`;
    scope.get(prefix, async () => protectedResourceMetadata(ctx.config.publicUrl));
    scope.get<{ Params: { proxyId: string } }>(`${prefix}/:proxyId`, async (request, reply) => {
      if (!/^[A-Za-z0-9_-]{1,100}$/.test(request.params.proxyId)) return reply.code(404).send({ error: 'not_found' });
      return protectedResourceMetadata(ctx.config.publicUrl, request.params.proxyId);
    });
  });

  const authenticateBearer = createBearerAuthenticator(ctx, keys.publicKeys, revocations);
  return { authenticateBearer, provider, revocations };
}
