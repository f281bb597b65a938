// The platform, as a list of what it is. Each feature is a plugin given the AppContext.

import { randomUUID } from 'node:crypto';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { passwordLinkRoutes } from './accounts/password-link-routes.js';
import { signInRoutes } from './accounts/sign-in-routes.js';
import { AccessLogController } from './access-log.js';
import type { AppContext } from './app-context.js';
import type { TrustProxy } from './config.js';
import { healthRoutes } from './health-routes.js';
import { metricsRoutes } from './metrics/metrics-routes.js';
import { registerAuthorizationServer } from './oauth/index.js';
import { signInFormTargets } from './oauth/sign-in-targets.js';
import { registerModelRouter } from './router/index.js';
import type { RunningCalls } from './router/http/running-calls.js';
import { deferredRequestLogger } from './request-logger.js';
import { trackUnusedConnections } from './unused-connections.js';
import { consolePages } from './web/console/index.js';
import { STYLESHEET, STYLESHEET_PATH } from './web/styles.js';

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** A hop count as the function Fastify makes of one (its types take no number): the n hops nearest Keyward are proxies. */
function fastifyTrustProxy(trust: TrustProxy): false | string[] | ((address: string, hop: number) => boolean) {
  return typeof trust === 'number' ? (_address, hop) => hop < trust : trust;
}

/** `running`: the router's running calls, for whoever ends them at shutdown (platform.ts). */
export async function buildServer(ctx: AppContext, options: { running?: RunningCalls } = {}): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: ctx.log as FastifyBaseLogger,
    trustProxy: fastifyTrustProxy(ctx.config.trustProxy),
    // Off, because Fastify would take the header as is and never ask genReqId; genReqId reads it.
    requestIdHeader: false,
    // A caller's request id is kept only if it is short and plain; otherwise we make one.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // The request's child logger is made when the request first logs (request-logger.ts).
    childLoggerFactory: deferredRequestLogger,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // One access line per request instead of Fastify's two, and no query strings (access-log.ts).
    logController: new AccessLogController(ctx.log),
  });
  const unusedConnections = trackUnusedConnections(app.server);
  // Set as the request arrives (a synchronous hook: no promise per request), sent with whatever answer follows.
  app.addHook('onRequest', (request, reply, done) => {
    unusedConnections.used(request.raw.socket);
    reply.header('x-request-id', request.id);
    done();
  });
  // Closing (shutdown, tests) does not wait for connections that never sent a request.
  app.addHook('preClose', (done) => {
    unusedConnections.closeAll();
    done();
  });

  await app.register(cookie);
  await app.register(healthRoutes, ctx);
  await app.register(metricsRoutes, ctx);
  app.get(STYLESHEET_PATH, async (_request, reply) =>
    reply.header('content-type', 'text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(STYLESHEET),
  );

  // The authorization server (oidc-provider on /api/auth/oauth2/*, consent, connected apps) and
  // the Model Router, which authenticates callers only through the server's bearer check.
  const { authenticateBearer, provider, revocations } = await registerAuthorizationServer(app, ctx);
  await registerModelRouter(app, ctx, { authenticateBearer, revocations, running: options.running });

  // Keyward's own HTML forms (urlencoded bodies) live in their own scope, so that the OAuth
  // and router scopes keep full control of how their bodies are read.
  await app.register(async (pages) => {
    await pages.register(formbody, { bodyLimit: 64 * 1024 });
    await signInRoutes(pages, ctx, { formActionOrigins: signInFormTargets(provider) });
    await passwordLinkRoutes(pages, ctx);
    // The console's guard (session, role, form token) covers its own scope only.
    await pages.register(async (console) => consolePages(console, ctx));
  });

  return app;
}
