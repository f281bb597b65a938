// Anthropic counts cache reads and cache writes apart from `input_tokens`; the canonical
// prompt_tokens is their sum, and cache writes stay named apart, so metering prices each at its rate.
// Web searches (`server_tool_use.web_search_requests`) are billed per search and kept as a count.

import { optionalObject, optionalRequestCount, optionalTokenCount } from '../json-guards.js';
import type { Usage } from '../openai-chat.js';
import type { AnthropicUsage } from './wire.js';

export function toCanonicalUsage(usage: Partial<AnthropicUsage> | undefined): Usage {
  const cacheRead = usage?.cache_read_input_tokens ?? 0;
  const cacheCreation = usage?.cache_creation_input_tokens ?? 0;
  const prompt = (usage?.input_tokens ?? 0) + cacheRead + cacheCreation;
  const completion = usage?.output_tokens ?? 0;
  const canonical: Usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: cacheCreation > 0 ? { cached_tokens: cacheRead, cache_write_tokens: cacheCreation } : { cached_tokens: cacheRead },
  };
  const thinking = usage?.output_tokens_details?.thinking_tokens;
  if (typeof thinking === 'number') canonical.completion_tokens_details = { reasoning_tokens: thinking };
  const searches = usage?.server_tool_use?.web_search_requests ?? 0;
  if (searches > 0) canonical.web_search_requests = searches;
  return canonical;
}

/**
 * Later usage reports (message_delta) carry cumulative totals: present fields overwrite, absent ones
 * stay. A count that is not a whole number of tokens is a malformed answer (MalformedUpstreamResponse).
 */
export function mergeUsage(into: Partial<AnthropicUsage>, update: unknown): void {
  const reported = optionalObject(update, 'usage');
  if (!reported) return;
  for (const key of ['input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens'] as const) {
    const value = optionalTokenCount(reported[key], `usage.${key}`);
    if (value !== undefined) into[key] = value;
  }
  const details = optionalObject(reported.output_tokens_details, 'usage.output_tokens_details');
  if (details) into.output_tokens_details = { thinking_tokens: optionalTokenCount(details.thinking_tokens, 'usage.output_tokens_details.thinking_tokens') ?? 0 };
  // Null (the SDK's type allows it) or absent: no server tool ran, as far as this report says.
  const tools = optionalObject(reported.server_tool_use, 'usage.server_tool_use');
  const searches = tools && optionalRequestCount(tools.web_search_requests, 'usage.server_tool_use.web_search_requests');
  if (searches !== undefined) into.server_tool_use = { web_search_requests: searches };
}
