// A path under /v1/model-router that no route serves, or a known path called with the wrong
// method: answered in the caller's wire format (an SDK shows the message instead of failing to
// parse Fastify's default body), 405 with `Allow` when only the method is wrong.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { anthropicErrorBody } from '../inbound/anthropic-messages/index.js';
import { openAIErrorBody, RouterError } from '../router-error.js';
import type { InboundWire } from './router-call.js';

export interface KnownRoute {
  method: string;
  /** The path after `/v1/model-router[/{proxyId}]`, e.g. `/chat/completions`. */
  path: string;
  wire: InboundWire;
}

/** `/v1/model-router/{x}/chat/completions?y` → the candidates for the route part: with and without the first segment. */
function routeParts(url: string, prefix: string): string[] {
  const path = (url.split('?')[0] ?? '').slice(prefix.length).replace(/\/+$/, '') || '/';
  const parts = [path];
  const second = path.indexOf('/', 1);
  if (second > 0) parts.push(path.slice(second));
  return parts;
}

/**
 * The Anthropic SDK appends `/v1/…` to its base URL and always sends `anthropic-version`; an
 * unknown path that looks like that gets Anthropic's error shape, anything else OpenAI's.
 */
function wireOf(request: FastifyRequest, parts: string[]): InboundWire {
  if (request.headers['anthropic-version'] !== undefined) return 'anthropic';
  return parts.some((part) => part.startsWith('/v1/') || part === '/messages') ? 'anthropic' : 'openai';
}

export function createNotFoundHandler(prefix: string, routes: readonly KnownRoute[]) {
  const listed = [...new Set(routes.map((route) => `${route.method} …${route.path}`))].join(', ');
  return async function notFound(request: FastifyRequest, reply: FastifyReply) {
    const parts = routeParts(request.url, prefix);
    const method = request.method === 'HEAD' ? 'GET' : request.method;
    const sameRoute = routes.filter((route) => parts.includes(route.path));
    let error: RouterError;
    let wire: InboundWire;
    if (sameRoute.length > 0 && !sameRoute.some((route) => route.method === method)) {
      const allow = [...new Set(sameRoute.map((route) => route.method))].join(', ');
      wire = sameRoute[0]!.wire;
      error = new RouterError(405, 'invalid_request_error', `${request.method} is not allowed on ${request.url.split('?')[0]}; use ${allow}.`, 'method_not_allowed');
      error.withHeader('allow', allow);
    } else {
      wire = wireOf(request, parts);
      error = new RouterError(404, 'invalid_request_error', `Invalid URL (${request.method} ${request.url.split('?')[0]}): the Model Router serves ${listed}.`, 'not_found');
    }
    reply.code(error.status).headers(error.headers);
    return reply.send(wire === 'anthropic' ? anthropicErrorBody(error.status, error.message, request.id) : openAIErrorBody(error));
  };
}
