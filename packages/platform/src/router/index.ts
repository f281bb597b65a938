// The Model Router as a Fastify plugin: every route under /v1/model-router/{proxyId}/… and, for
// the default proxy, without the {proxyId}. This file is the list of routes and the scope's
// rules (strict validation, the body limit, errors and unknown paths in the caller's wire
// format); each route's work lives in its own folder.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppContext } from '../app-context.js';
import { KeyCooldowns } from '../keys/key-cooldowns.js';
import { ProviderKeyCache } from '../keys/resolve-provider-key.js';
import type { AuthenticateBearer } from '../oauth/principal.js';
import { LimitGuard } from '../limits/limit-guard.js';
import { PriceBook } from '../usage/model-prices.js';
import { createUsageSink, type UsageSink } from '../usage/usage-sink.js';
import { RouterDirectory } from './access/router-directory.js';
import { handleAnthropicMessages, anthropicRouterErrorBody } from './anthropic/messages.js';
import { handleEmbeddings } from './embeddings/create-embeddings.js';
import { openRouterCall, routeConfig, type RouterCall, type RouterRouteConfig } from './http/router-call.js';
import { endedWith, RunningCalls, type RecheckDeps } from './http/running-calls.js';
import { createStrictAjv, validationError } from './http/validation.js';
import { anthropicCountTokensRequestSchema, anthropicMessagesRequestSchema } from './inbound/anthropic-messages/index.js';
import { handleResponses } from './inbound/openai-responses/responses-route.js';
import { responsesRequestSchema } from './inbound/openai-responses/schema.js';
import { createNotFoundHandler } from './http/not-found.js';
import { handleListAnthropicModels, handleListModels, handleRetrieveAnthropicModel, handleRetrieveModel } from './models/list-models.js';
import { handleCountTokens } from './anthropic/count-tokens.js';
import { ModelListCache } from './models/model-list-cache.js';
import { handleChatCompletions } from './openai/chat-completions.js';
import { chatCompletionsRequestSchema, embeddingsRequestSchema } from './openai/schemas.js';
import type { RouterContext } from './router-context.js';
import { loggableError, openAIErrorBody, RouterError, toRouterError, usageOutcome } from './router-error.js';
import { MODEL_ROUTER_PATH } from '../oauth/paths.js';
import { wwwAuthenticate } from '../oauth/resource-server.js';
import { observeRefusedAtAuthentication } from '../metrics/metrics.js';

/** The router's base path; `{proxyId}` follows it, or nothing for the default proxy. */
export { MODEL_ROUTER_PATH };

/** How often limits and prices are read again whatever the change feed said. */
export const LIMITS_RECONCILE_INTERVAL_MS = 5000;

export interface ModelRouterHandle {
  usage: UsageSink;
  router: RouterContext;
}

type Handler = (router: RouterContext, call: RouterCall, request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

interface RouteSpec {
  method: 'GET' | 'POST';
  paths: string[];
  config: RouterRouteConfig;
  schema?: object;
  handler: Handler;
}

const ROUTES: RouteSpec[] = [
  {
    method: 'POST',
    paths: ['/chat/completions'],
    config: { wire: 'openai', endpoint: 'chat', inboundFormat: 'openai_chat' },
    schema: chatCompletionsRequestSchema,
    handler: handleChatCompletions,
  },
  {
    method: 'GET',
    paths: ['/models'],
    config: { wire: 'openai', endpoint: 'models', inboundFormat: 'openai_models' },
    handler: handleListModels,
  },
  {
    method: 'GET',
    // Anthropic's model list, for the Anthropic SDK's `models.list()` (it appends /v1/models).
    paths: ['/v1/models'],
    config: { wire: 'anthropic', endpoint: 'models', inboundFormat: 'anthropic_models' },
    handler: handleListAnthropicModels,
  },
  {
    method: 'GET',
    // The OpenAI SDK's `models.retrieve(id)`; ids hold ':' and may hold '/', hence the wildcard.
    paths: ['/models/*'],
    config: { wire: 'openai', endpoint: 'models', inboundFormat: 'openai_models' },
    handler: handleRetrieveModel,
  },
  {
    method: 'GET',
    paths: ['/v1/models/*'],
    config: { wire: 'anthropic', endpoint: 'models', inboundFormat: 'anthropic_models' },
    handler: handleRetrieveAnthropicModel,
  },
  {
    method: 'POST',
    paths: ['/embeddings'],
    config: { wire: 'openai', endpoint: 'embeddings', inboundFormat: 'openai_embeddings' },
    schema: embeddingsRequestSchema,
    handler: handleEmbeddings,
  },
  {
    method: 'POST',
    paths: ['/responses'],
    config: { wire: 'openai', endpoint: 'responses', inboundFormat: 'openai_responses' },
    schema: responsesRequestSchema,
    handler: handleResponses,
  },
  {
    method: 'POST',
    // The Anthropic SDK appends /v1/messages to its base URL; plain /messages is accepted too.
    paths: ['/v1/messages', '/messages'],
    config: { wire: 'anthropic', endpoint: 'messages', inboundFormat: 'anthropic_messages' },
    schema: anthropicMessagesRequestSchema,
    handler: handleAnthropicMessages,
  },
  {
    method: 'POST',
    // The Anthropic SDK's `messages.countTokens()`.
    paths: ['/v1/messages/count_tokens', '/messages/count_tokens'],
    config: { wire: 'anthropic', endpoint: 'count_tokens', inboundFormat: 'anthropic_count_tokens' },
    schema: anthropicCountTokensRequestSchema,
    handler: handleCountTokens,
  },
];

export async function registerModelRouter(
  app: FastifyInstance,
  ctx: AppContext,
  deps: {
    authenticateBearer: AuthenticateBearer;
    /** The bearer check's memory of clients and revocations, which running calls are checked again by. */
    revocations?: RecheckDeps['revocations'];
    /** This instance's running calls; the platform ends them when the shutdown grace period is over. */
    running?: RunningCalls;
  },
): Promise<ModelRouterHandle> {
  const upstream = ctx.upstream;
  const usage = createUsageSink(ctx.db, ctx.log, { rowByRow: ctx.storage.dialect === 'sqlite' });
  const prices = await PriceBook.load(ctx.db, ctx.changes, ctx.log);
  const limits = await LimitGuard.load(ctx.db, ctx.changes, ctx.log, prices, undefined, ctx.jobs);
  // Limits and prices are small tables, read again every few seconds: a change whose notice was
  // missed, or whose reload failed, still reaches this instance (as revocations do).
  const reconcile = ctx.jobs.every('limits and prices reconcile', LIMITS_RECONCILE_INTERVAL_MS, async () => {
    await Promise.all([prices.reload(), limits.reload()]);
  });
  const keys = new ProviderKeyCache(ctx.db, ctx.box, ctx.changes, undefined, ctx.config.keyBaseUrlAllow);
  const modelLists = new ModelListCache(upstream, ctx.log);
  ctx.changes.on('provider_key', () => modelLists.invalidate());
  ctx.changes.onResync('provider_key', () => modelLists.invalidate());
  // The directory listens to the change feed before the running calls do: it has dropped what a
  // change made stale by the time a running call is checked again.
  const directory = new RouterDirectory(ctx.db, ctx.changes);
  const running = deps.running ?? new RunningCalls();
  running.watch(ctx.changes, {
    authenticateBearer: deps.authenticateBearer,
    directory,
    revocations: deps.revocations,
    wwwAuthenticate: (call, error) => wwwAuthenticate(ctx.config.publicUrl, { proxyId: call.urlProxyId, error }),
    log: ctx.log,
  });
  const router: RouterContext = {
    app: ctx,
    authenticateBearer: deps.authenticateBearer,
    directory,
    running,
    keys,
    cooldowns: new KeyCooldowns(),
    upstream,
    usage,
    prices,
    limits,
    modelLists,
  };

  await app.register(async (scope) => {
    const ajv = createStrictAjv();
    scope.setValidatorCompiler(({ schema }) => ajv.compile(schema));
    // Bodies are JSON only: Fastify's plain-text parser would hand a string to the schema (a
    // misleading "must be object"); without it, any other type is a 415 unsupported_media_type.
    scope.removeContentTypeParser('text/plain');
    scope.decorateRequest('routerCall', null);
    scope.decorateRequest('routerMeter', null);

    scope.setErrorHandler((error, request, reply) => {
      const wire = routeConfig(request)?.wire ?? 'openai';
      const validation = (error as { validation?: Parameters<typeof validationError>[0] }).validation;
      const meter = request.routerMeter;
      // A call Keyward ended (access taken away, shutdown) is answered with why, not as a client abort.
      const routerError = validation ? validationError(validation) : (endedWith(request.routerCall?.signal) ?? toRouterError(error, meter?.providerKey));
      if (routerError.code === 'internal_error') request.log.error({ err: loggableError(error, meter?.providerKey) }, 'model router error');
      if (meter?.principal && !meter.finished) meter.finish(routerError.status, usageOutcome(routerError), routerError.message);
      else if (meter && !meter.principal) observeRefusedAtAuthentication(routeConfig(request).endpoint);
      if (reply.sent || reply.raw.headersSent) return;
      // 499 is nginx's "client closed": nobody is listening, but Fastify must still finish the reply.
      reply.code(routerError.status === 499 ? 400 : routerError.status).headers(routerError.headers);
      if (wire === 'anthropic') return reply.send(anthropicRouterErrorBody(routerError, request.id).body);
      return reply.send(openAIErrorBody(routerError));
    });

    // Fastify scopes a not-found handler to its plugin's prefix: other Keyward paths keep theirs.
    scope.setNotFoundHandler(
      createNotFoundHandler(
        MODEL_ROUTER_PATH,
        ROUTES.flatMap((spec) => spec.paths.map((path) => ({ method: spec.method, path, wire: spec.config.wire }))),
      ),
    );

    for (const spec of ROUTES) {
      for (const prefix of ['/:proxyId', '']) {
        for (const path of spec.paths) {
          scope.route({
            method: spec.method,
            url: `${prefix}${path}`,
            config: spec.config,
            bodyLimit: ctx.config.routerBodyLimitBytes,
            ...(spec.schema ? { schema: { body: spec.schema } } : {}),
            onRequest: (request, reply) => openRouterCall(router, request, reply),
            handler: async (request, reply) => {
              const call = request.routerCall;
              if (!call) throw new RouterError(500, 'server_error', 'router call not set up', 'internal_error');
              return spec.handler(router, call, request, reply);
            },
          });
        }
      }
    }
  }, { prefix: MODEL_ROUTER_PATH });

  app.addHook('onClose', async () => {
    await reconcile.stop();
    await limits.close();
    await usage.close();
  });
  return { usage, router };
}
