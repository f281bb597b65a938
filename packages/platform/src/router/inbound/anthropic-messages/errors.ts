// Errors on the Anthropic-format routes, in Anthropic's own shape, so the official SDK raises its
// typed errors (RateLimitError, OverloadedError, …) for whatever provider is behind the router.

import type { AnthropicErrorBody, AnthropicErrorType } from '../../../providers/anthropic/wire.js';
import { MalformedUpstreamResponse } from '../../../providers/provider-adapter.js';

/** The status → type table of Anthropic's errors page (platform.claude.com/docs/en/api/errors). */
const ERROR_TYPES: Record<number, AnthropicErrorType> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  402: 'billing_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  504: 'timeout_error',
  529: 'overloaded_error',
};

/** Documented: other 4xx use invalid_request_error; other 5xx are Keyward's or the provider's fault. */
export function anthropicErrorType(status: number): AnthropicErrorType {
  return ERROR_TYPES[status] ?? (status >= 400 && status < 500 ? 'invalid_request_error' : 'api_error');
}

/** The status a documented error type stands for (an in-stream `error` event carries only the type). */
export function anthropicErrorStatus(type: string | undefined): number {
  for (const [status, known] of Object.entries(ERROR_TYPES)) if (known === type) return Number(status);
  return 500;
}

export function anthropicErrorBody(status: number, message: string, requestId?: string): AnthropicErrorBody {
  const body: AnthropicErrorBody = { type: 'error', error: { type: anthropicErrorType(status), message } };
  if (requestId) body.request_id = requestId;
  return body;
}

/** A provider answered with tool arguments that are not a JSON object; Anthropic's `input` must be one. */
export class InvalidToolArgumentsError extends MalformedUpstreamResponse {
  constructor(readonly toolName: string) {
    super(`The provider returned arguments for tool '${toolName}' that are not a JSON object`);
    this.name = 'InvalidToolArgumentsError';
  }
}
