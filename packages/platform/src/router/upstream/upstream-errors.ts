// Provider answers that are not a success, in the router's terms. 400s keep their status and the
// provider's words; a refused provider key is the platform's problem (502, naming the provider,
// never the key); 429 keeps Retry-After; 5xx and unreachable providers are 502; timeouts 504.
// `retryable` marks what may fail over to another key of the same rank.

import type { ProviderAdapter } from '../../providers/provider-adapter.js';
import { RouterError } from '../router-error.js';
import type { UpstreamFailure } from './upstream-client.js';

export class UpstreamRouterError extends RouterError {
  constructor(
    status: number,
    type: ConstructorParameters<typeof RouterError>[1],
    message: string,
    code: string | null,
    readonly retryable: boolean,
    param: string | null = null,
  ) {
    super(status, type, message, code, param);
  }
}

/** Removes the key from any text that might reach a caller or a log. */
export function scrubSecret(text: string, secret: string): string {
  return secret.length >= 4 ? text.split(secret).join('[provider key]') : text;
}

function headerString(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export function upstreamStatusError(
  adapter: ProviderAdapter,
  status: number,
  bodyText: string,
  headers: Record<string, string | string[] | undefined>,
  secret: string,
): UpstreamRouterError {
  let body: unknown = bodyText;
  try {
    body = JSON.parse(bodyText);
  } catch {
    // Not JSON: parseError gets the text.
  }
  let detail: { message: string; type?: string };
  try {
    detail = adapter.parseError(status, body);
  } catch {
    detail = { message: bodyText.slice(0, 500) || `HTTP ${status}` };
  }
  const message = scrubSecret(detail.message || `HTTP ${status}`, secret);
  const name = adapter.displayName;
  if (status === 401 || status === 403) {
    return new UpstreamRouterError(
      502,
      'upstream_error',
      `${name} refused the provider key this proxy used (HTTP ${status}${detail.type ? `, ${detail.type}` : ''}). An admin should check or replace the ${adapter.id} key.`,
      'provider_key_rejected',
      false,
    );
  }
  if (status === 429) {
    const error = new UpstreamRouterError(429, 'rate_limit_error', `${name} rate limit: ${message}`, 'rate_limit_exceeded', true);
    const retryAfter = headerString(headers['retry-after']);
    if (retryAfter) error.withHeader('retry-after', retryAfter);
    return error;
  }
  if (status >= 500) {
    return new UpstreamRouterError(502, 'upstream_error', `${name} failed (HTTP ${status}): ${message}`, 'upstream_error', true);
  }
  if (status === 404) return new UpstreamRouterError(404, 'not_found_error', `${name}: ${message}`, detail.type ?? 'model_not_found', false);
  return new UpstreamRouterError(status >= 400 && status < 500 ? status : 502, 'invalid_request_error', `${name}: ${message}`, detail.type ?? null, false);
}

export function upstreamFailureError(adapter: ProviderAdapter, failure: UpstreamFailure): UpstreamRouterError {
  if (failure.kind === 'timeout') {
    return new UpstreamRouterError(504, 'timeout_error', `${adapter.displayName}: ${failure.message}.`, 'upstream_timeout', true);
  }
  if (failure.kind === 'refused') {
    return new UpstreamRouterError(
      502,
      'upstream_error',
      `${adapter.displayName}: this key's base URL leads to an internal network address, which keys added by members may not reach; no connection was made. An admin can allow that host (KEYWARD_KEY_BASE_URL_ALLOW, or the allowed hosts in the console) or replace the key.`,
      'base_url_refused',
      true,
    );
  }
  if (failure.kind === 'aborted') return new UpstreamRouterError(499, 'invalid_request_error', 'The client closed the request.', 'client_closed', false);
  return new UpstreamRouterError(502, 'upstream_error', `${adapter.displayName}: ${failure.message}`, 'upstream_unreachable', true);
}
