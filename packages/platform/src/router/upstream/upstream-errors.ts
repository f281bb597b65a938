// Provider failures in the router's terms. 400s keep their status and the provider's words; a
// refused provider key is the platform's problem (502, naming the provider, never the key); 429
// keeps a well-formed Retry-After; 5xx, unreachable providers and answers that cannot be read are
// 502; timeouts 504. `retryable` marks what may fail over to another key of the same rank. The
// provider's words pass scrubProviderKey on the way.

import { MalformedUpstreamResponse, UpstreamStreamError, type ProviderAdapter } from '../../providers/provider-adapter.js';
import { RouterError } from '../router-error.js';
import { safeRetryAfter, scrubProviderKey } from './provider-text.js';
import { UpstreamFailure } from '../../upstream/upstream-client.js';

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
    this.fromUpstream = true;
  }

  /** The provider's well-formed Retry-After (429 and 5xx): how long key cooldowns rest the key. */
  retryAfter: string | undefined;
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
  const message = scrubProviderKey(detail.message || `HTTP ${status}`, secret);
  const providerType = detail.type === undefined ? undefined : scrubProviderKey(detail.type, secret);
  const name = adapter.displayName;
  if (status === 401 || status === 403) {
    return new UpstreamRouterError(
      502,
      'upstream_error',
      `${name} refused the provider key this proxy used (HTTP ${status}${providerType ? `, ${providerType}` : ''}). An admin should check or replace the ${adapter.id} key.`,
      'provider_key_rejected',
      false,
    );
  }
  if (status === 429) {
    const error = new UpstreamRouterError(429, 'rate_limit_error', `${name} rate limit: ${message}`, 'rate_limit_exceeded', true);
    error.retryAfter = safeRetryAfter(headers['retry-after']);
    if (error.retryAfter) error.withHeader('retry-after', error.retryAfter);
    return error;
  }
  if (status >= 500) {
    const error = new UpstreamRouterError(502, 'upstream_error', `${name} failed (HTTP ${status}): ${message}`, 'upstream_error', true);
    // Only the key's rest reads it: the caller's 502 is Keyward's answer, not the provider's 503.
    error.retryAfter = safeRetryAfter(headers['retry-after']);
    return error;
  }
  if (status === 404) return new UpstreamRouterError(404, 'not_found_error', `${name}: ${message}`, providerType ?? 'model_not_found', false);
  return new UpstreamRouterError(status >= 400 && status < 500 ? status : 502, 'invalid_request_error', `${name}: ${message}`, providerType ?? null, false);
}

/** Provider text that failed to parse, or a wrong shape, as the 502 every adapter and route shares; the next key may do better. */
export function badResponseError(adapter: ProviderAdapter, detail: string, apiKey: string): UpstreamRouterError {
  return new UpstreamRouterError(502, 'upstream_error', scrubProviderKey(`${adapter.displayName} sent an answer Keyward cannot read: ${detail}`, apiKey), 'upstream_bad_response', true);
}

/**
 * Whatever an attempt with one key threw, as the router's error: network failures, in-stream
 * error events, answers of the wrong shape. Anything else is Keyward's own and passes unchanged.
 */
export function providerFault(adapter: ProviderAdapter, apiKey: string, error: unknown): unknown {
  if (error instanceof UpstreamRouterError) return error;
  if (error instanceof UpstreamFailure) return upstreamFailureError(adapter, error);
  if (error instanceof MalformedUpstreamResponse) return badResponseError(adapter, error.message, apiKey);
  if (error instanceof UpstreamStreamError) {
    const message = scrubProviderKey(`${adapter.displayName} stream error: ${error.message}`, apiKey);
    return new UpstreamRouterError(502, 'upstream_error', message, error.type === undefined ? 'upstream_stream_error' : scrubProviderKey(error.type, apiKey), false);
  }
  return error;
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
