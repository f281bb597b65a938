// Anthropic in, Anthropic out: the router forwards the native body untouched (only the model id
// loses its "anthropic:" prefix) and reads usage off the native answer to meter it, so nothing
// Anthropic-only (thinking, cache_control, server tools, betas) is lost in translation.

import { ANTHROPIC_MESSAGES_PATH, ANTHROPIC_VERSION, anthropicHeaders, anthropicUrl } from '../../../providers/anthropic/api.js';
import { mergeUsage, toCanonicalUsage } from '../../../providers/anthropic/usage.js';
import type { AnthropicUsage } from '../../../providers/anthropic/wire.js';
import type { Usage } from '../../../providers/openai-chat.js';
import type { SseEvent, UpstreamRequest, UpstreamTarget } from '../../../providers/provider-adapter.js';

export type InboundHeaders = Record<string, string | string[] | undefined>;

/**
 * The upstream request for a native Messages body. `model` is the provider-local id the router
 * split off ("anthropic:claude-sonnet-4-5" → "claude-sonnet-4-5"). The caller's
 * `anthropic-version` and `anthropic-beta` are forwarded, because they decide the shape of the
 * body and of the answer the caller will parse.
 */
export function buildAnthropicPassthroughRequest(
  body: Record<string, unknown>,
  model: string,
  target: UpstreamTarget,
  inboundHeaders: InboundHeaders = {},
  path: string = ANTHROPIC_MESSAGES_PATH,
): UpstreamRequest {
  const extra: Record<string, string> = { 'anthropic-version': headerValue(inboundHeaders['anthropic-version']) ?? ANTHROPIC_VERSION };
  const beta = headerValue(inboundHeaders['anthropic-beta']);
  if (beta) extra['anthropic-beta'] = beta;
  return {
    method: 'POST',
    url: anthropicUrl(target, path),
    headers: anthropicHeaders(target, extra),
    body: { ...body, model },
  };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value || undefined;
}

/** A native Message body naming the model as the caller sent it ("anthropic:claude-…"), like every other route. */
export function withCallerModel(body: unknown, model: string): unknown {
  return typeof body === 'object' && body !== null && 'model' in body ? { ...body, model } : body;
}

/** The same for a native stream: message_start is the one event that names the model. */
export function streamEventWithCallerModel(event: SseEvent, model: string): SseEvent {
  if (event.event !== 'message_start' && !(event.event === undefined && event.data.includes('"message_start"'))) return event;
  try {
    const data = JSON.parse(event.data) as { type?: string; message?: Record<string, unknown> };
    if (data.type !== 'message_start' || typeof data.message !== 'object' || data.message === null) return event;
    return { ...event, data: JSON.stringify({ ...data, message: { ...data.message, model } }) };
  } catch {
    return event;
  }
}

/** Usage of a native non-streaming Message body, in canonical terms (prompt_tokens includes cache). */
export function readAnthropicUsage(body: unknown): Usage | undefined {
  const usage = typeof body === 'object' && body !== null ? (body as { usage?: Partial<AnthropicUsage> }).usage : undefined;
  return usage ? toCanonicalUsage(usage) : undefined;
}

export interface AnthropicStreamUsageReader {
  /** Feed every native SSE event as it is forwarded; a count that is not a number throws MalformedUpstreamResponse. */
  push(event: SseEvent): void;
  /** Usage so far: message_start's input counts, overwritten by message_delta's cumulative totals. */
  usage(): Usage | undefined;
}

export function createAnthropicStreamUsageReader(): AnthropicStreamUsageReader {
  const totals: Partial<AnthropicUsage> = {};
  let seen = false;
  return {
    push(event) {
      if (event.event !== undefined && event.event !== 'message_start' && event.event !== 'message_delta') return;
      let data: { type?: string; message?: { usage?: Partial<AnthropicUsage> }; usage?: Partial<AnthropicUsage> };
      try {
        data = JSON.parse(event.data) as typeof data;
      } catch {
        return;
      }
      const update = data.type === 'message_start' ? data.message?.usage : data.type === 'message_delta' ? data.usage : undefined;
      if (!update) return;
      seen = true;
      mergeUsage(totals, update);
    },
    usage: () => (seen ? toCanonicalUsage(totals) : undefined),
  };
}
