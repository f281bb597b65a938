// Where and how to reach the Anthropic API, and the defaults the adapter applies. One place for
// each fact: the inbound passthrough and the mock upstream import these too.

import type { UpstreamTarget } from '../provider-adapter.js';
import { upstreamUrl } from '../upstream-url.js';

/** What `new Anthropic({ baseURL })` takes: the SDK appends `/v1/messages` itself. */
export const ANTHROPIC_DEFAULT_BASE_URL = 'https://api.anthropic.com';

/** The only stable API version; features arrive as body fields or `anthropic-beta` headers. */
export const ANTHROPIC_VERSION = '2023-06-01';

export const ANTHROPIC_MESSAGES_PATH = '/v1/messages';
export const ANTHROPIC_COUNT_TOKENS_PATH = '/v1/messages/count_tokens';
export const ANTHROPIC_MODELS_PATH = '/v1/models';

/** The list endpoint's largest page (documented `limit` maximum), so one call lists every model. */
export const ANTHROPIC_MODELS_PAGE_LIMIT = 1000;

/**
 * Anthropic requires `max_tokens`; OpenAI callers may omit it. 4096 is the largest output every
 * Claude model since Claude 3 accepts, so it never fails on an older model.
 */
export const DEFAULT_MAX_TOKENS = 4096;

/** Name of the forced tool that emulates `response_format: json_object` (see request.ts). */
export const JSON_RESPONSE_TOOL_NAME = 'json_response';

export function anthropicHeaders(target: UpstreamTarget, extra?: Record<string, string>): Record<string, string> {
  return {
    'x-api-key': target.apiKey,
    'anthropic-version': ANTHROPIC_VERSION,
    'content-type': 'application/json',
    ...extra,
  };
}

/** `path` is one of the constant paths above, e.g. ANTHROPIC_MESSAGES_PATH. */
export function anthropicUrl(target: UpstreamTarget, path: string, query?: Record<string, string>): string {
  return upstreamUrl(target.baseUrl || ANTHROPIC_DEFAULT_BASE_URL, path.split('/').filter(Boolean), query);
}
