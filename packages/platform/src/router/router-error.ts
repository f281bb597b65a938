// Every error the router answers with, before it is put in the caller's wire format (OpenAI's
// `{error:{message,type,param,code}}` or Anthropic's `{type:'error',error:{type,message}}`), and
// the one mapping from whatever failed to its status, code and usage outcome. Provider failures
// become RouterErrors where the provider and key are known (upstream/upstream-errors.ts).

import { KeywardError } from '../errors.js';
import { MalformedUpstreamResponse, UnsupportedParameterError } from '../providers/provider-adapter.js';
import { BearerError } from '../oauth/principal.js';
import { UnsendableRequestError } from '../upstream/upstream-client.js';
import type { UsageOutcome } from '../usage/usage-record.js';
import { scrubProviderKey } from './upstream/provider-text.js';

export type OpenAIErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  /** OpenAI's type for an exhausted budget (Keyward: a spending limit, 402). */
  | 'insufficient_quota'
  | 'upstream_error'
  | 'timeout_error'
  | 'server_error';

export class RouterError extends Error {
  /** Extra response headers (Retry-After, WWW-Authenticate). */
  headers: Record<string, string> = {};
  /** The provider caused it (not the caller, not Keyward): metered `upstream_error`. */
  fromUpstream = false;

  constructor(
    readonly status: number,
    readonly type: OpenAIErrorType,
    message: string,
    public code: string | null = null,
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = 'RouterError';
  }

  withHeader(name: string, value: string): this {
    this.headers[name] = value;
    return this;
  }

  static invalid(message: string, param: string | null = null, code: string | null = null): RouterError {
    return new RouterError(400, 'invalid_request_error', message, code, param);
  }

  static forbidden(message: string, code = 'forbidden'): RouterError {
    return new RouterError(403, 'permission_error', message, code);
  }

  static notFound(message: string, code = 'not_found'): RouterError {
    return new RouterError(404, 'not_found_error', message, code);
  }
}

/**
 * Anything thrown in the router's scope, as a RouterError, with the provider key in use (if any)
 * scrubbed from what it says. Unknown errors become a plain 500.
 */
export function toRouterError(error: unknown, providerKey?: string): RouterError {
  const mapped = mapError(error);
  if (providerKey) {
    mapped.message = scrubProviderKey(mapped.message, providerKey);
    if (mapped.code) mapped.code = scrubProviderKey(mapped.code, providerKey);
  }
  return mapped;
}

/** An unexpected error as it is logged: its message and stack may quote a provider, so the key goes. */
export function loggableError(error: unknown, providerKey?: string): { type: string; message: string; stack?: string } {
  const scrub = (text: string) => scrubProviderKey(text, providerKey);
  if (!(error instanceof Error)) return { type: typeof error, message: scrub(String(error)) };
  return { type: error.name, message: scrub(error.message), ...(error.stack ? { stack: scrub(error.stack) } : {}) };
}

/** How a call that failed this way is metered. */
export function usageOutcome(error: RouterError): UsageOutcome {
  if (error.status === 499) return 'client_aborted';
  if (error.status === 504) return 'upstream_timeout';
  return error.fromUpstream ? 'upstream_error' : 'rejected';
}

function mapError(error: unknown): RouterError {
  if (error instanceof RouterError) return error;
  if (error instanceof MalformedUpstreamResponse) {
    // Read after the provider call was over (e.g. while encoding its answer for the caller).
    const routerError = new RouterError(502, 'upstream_error', error.message, 'upstream_bad_response');
    routerError.fromUpstream = true;
    return routerError;
  }
  if (error instanceof BearerError) {
    const type = error.status === 401 ? 'authentication_error' : 'permission_error';
    return new RouterError(error.status, type, error.description, error.error);
  }
  if (error instanceof UnsupportedParameterError) return RouterError.invalid(error.message, error.param, 'unsupported_parameter');
  // JSON.parse reads any depth; writing it back (to a provider, or to weigh it against a limit) recurses.
  if (error instanceof UnsendableRequestError || (error instanceof RangeError && /call stack/i.test(error.message))) {
    return RouterError.invalid('The request is nested too deeply to be sent to a provider; flatten the deepest values.', null, 'request_too_deep');
  }
  if (error instanceof KeywardError) {
    return new RouterError(error.status, error.status === 404 ? 'not_found_error' : 'invalid_request_error', error.message, error.code);
  }
  const fastify = error as { statusCode?: number; code?: string; message?: string; validation?: unknown };
  if (typeof fastify?.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    return fastifyClientError(fastify.statusCode, fastify.code, fastify.message ?? 'Bad request');
  }
  return new RouterError(500, 'server_error', 'The Model Router failed unexpectedly; the error was logged.', 'internal_error');
}

function fastifyClientError(status: number, code: string | undefined, message: string): RouterError {
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new RouterError(413, 'invalid_request_error', 'The request body is larger than this router accepts (KEYWARD_ROUTER_BODY_LIMIT_BYTES).', 'request_too_large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new RouterError(415, 'invalid_request_error', 'Send the request body as application/json.', 'unsupported_media_type');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return RouterError.invalid('The request body is empty; send a JSON object.', null, 'invalid_json');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case undefined:
      if (/JSON|Unexpected|token/i.test(message)) return RouterError.invalid(`The request body is not valid JSON: ${message}`, null, 'invalid_json');
  }
  return new RouterError(status, 'invalid_request_error', message, code ?? null);
}

/** OpenAI's error envelope. */
export function openAIErrorBody(error: RouterError): { error: { message: string; type: string; param: string | null; code: string | null } } {
  return { error: { message: error.message, type: error.type, param: error.param, code: error.code } };
}
