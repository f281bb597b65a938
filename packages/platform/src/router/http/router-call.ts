// Per-request router state, set up in the onRequest hook: who is calling which proxy, the usage
// meter, and the signal that a client disconnect trips.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RouterCaller } from '../access/authorize-proxy.js';
import { authorizeProxy } from '../access/authorize-proxy.js';
import { BearerError } from '../../oauth/principal.js';
import { bearerTokenFromHeader, wwwAuthenticate } from '../../oauth/resource-server.js';
import type { InboundFormat, UsageRecord } from '../../usage/usage-record.js';
import { UsageMeter } from '../metering.js';
import { CallSignal } from '../../upstream/call-signal.js';
import type { RouterContext } from '../router-context.js';
import { RouterError, toRouterError } from '../router-error.js';
import { countCall } from './calls-in-flight.js';
import { offerCostHeader } from './cost-header.js';
import type { RunningCall } from './running-calls.js';

export type InboundWire = 'openai' | 'anthropic';

/** Set on each router route's `config`. */
export interface RouterRouteConfig {
  wire: InboundWire;
  endpoint: UsageRecord['endpoint'];
  inboundFormat: InboundFormat;
}

export interface RouterCall {
  caller: RouterCaller;
  meter: UsageMeter;
  signal: CallSignal;
}

declare module 'fastify' {
  interface FastifyRequest {
    routerCall: RouterCall | null;
    /** The meter, set as soon as the call is known to be the router's (before authentication). */
    routerMeter: UsageMeter | null;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Query parameters that would carry a credential; refused, never read (tokens leak from URLs into logs). */
const QUERY_CREDENTIALS = ['access_token', 'api_key', 'api-key', 'key', 'token'];

export function routeConfig(request: FastifyRequest): RouterRouteConfig {
  return request.routeOptions.config as unknown as RouterRouteConfig;
}

/** The token from `Authorization: Bearer` (the OAuth server's own parser), or on Anthropic routes `x-api-key`. */
function presentedToken(request: FastifyRequest, wire: InboundWire): string | undefined {
  const bearer = bearerTokenFromHeader(request.headers.authorization);
  if (bearer || wire !== 'anthropic') return bearer;
  const apiKey = request.headers['x-api-key'];
  return typeof apiKey === 'string' && apiKey.trim() ? apiKey.trim() : undefined;
}

/** onRequest: authenticate, find and authorize the proxy, arm the abort on disconnect. */
export async function openRouterCall(router: RouterContext, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  countCall(reply.raw);
  const config = routeConfig(request);
  const meter = new UsageMeter(router.usage, router.prices, request.id, config.endpoint, config.inboundFormat);
  request.routerMeter = meter;
  offerCostHeader(request, reply, meter);
  const proxyId = (request.params as { proxyId?: string }).proxyId;
  try {
    const query = request.query as Record<string, unknown> | undefined;
    if (query && QUERY_CREDENTIALS.some((name) => name in query)) {
      throw new BearerError(401, 'invalid_request', 'Send the token in the Authorization header, never in the query string.');
    }
    const token = presentedToken(request, config.wire);
    if (!token) throw new BearerError(401, 'invalid_token', 'Missing bearer token: send Authorization: Bearer <access token>.');
    // Signature, audience, expiry, revocation and the llm:proxy scope: all checked there.
    const principal = await router.authenticateBearer(token);
    meter.principal = principal;
    if (proxyId !== undefined && !UUID.test(proxyId)) throw RouterError.notFound(`There is no LLM proxy "${proxyId}".`, 'proxy_not_found');
    const proxy = proxyId === undefined ? await router.directory.defaultProxy() : await router.directory.proxy(proxyId);
    if (!proxy) throw RouterError.notFound(proxyId ? `There is no LLM proxy "${proxyId}".` : 'No default LLM proxy exists.', 'proxy_not_found');
    meter.proxyId = proxy.id;
    meter.organizationId = proxy.organization_id;
    const caller = await authorizeProxy(router.directory, principal, proxy);
    const signal = new CallSignal();
    // Running until its response closes: an access change or the shutdown can end it (running-calls.ts).
    const running: RunningCall = { token, urlProxyId: proxyId, caller, meter, signal };
    if (reply.raw.destroyed) {
      // The client left while the call was being authorized: its 'close' has already passed.
      signal.abort();
    } else {
      router.running.add(running);
      reply.raw.on('close', () => {
        router.running.delete(running);
        if (!reply.raw.writableFinished) signal.abort();
      });
    }
    request.routerCall = { caller, meter, signal };
  } catch (error) {
    if (error instanceof BearerError) {
      const routerError = toRouterError(error);
      routerError.withHeader('www-authenticate', wwwAuthenticate(router.app.config.publicUrl, { proxyId, error }));
      throw routerError;
    }
    throw error;
  }
}
