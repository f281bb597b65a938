// Reading untrusted OpenAI-style JSON into canonical pieces shared by the response and stream halves.

import { randomUUID } from 'node:crypto';
import type { FinishReason, ToolCall, ToolCallDelta, Usage } from '../openai-chat.js';
import { MalformedUpstreamResponse } from '../provider-adapter.js';
import { isObject, num, optionalNumber, optionalObject, optionalObjects, optionalTokenCount, requiredObject, requiredObjects, str, type JsonObject } from '../json-guards.js';

export { isObject, num, optionalNumber, optionalObject, optionalObjects, requiredObject, requiredObjects, str, type JsonObject };

export function newCompletionId(): string {
  return `chatcmpl-${randomUUID().replace(/-/g, '')}`;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Providers' own spellings of the four canonical reasons (Mistral `model_length`, old `function_call`, vLLM `eos`…). */
const FINISH_REASONS: Record<string, FinishReason> = {
  stop: 'stop',
  eos: 'stop',
  end_turn: 'stop',
  stop_sequence: 'stop',
  length: 'length',
  model_length: 'length',
  max_tokens: 'length',
  tool_calls: 'tool_calls',
  function_call: 'tool_calls',
  content_filter: 'content_filter',
};

export function finishReason(value: unknown, hasToolCalls: boolean): FinishReason | null {
  if (typeof value !== 'string') return null;
  const reason = FINISH_REASONS[value] ?? 'stop';
  // Some local servers (older Ollama) say `stop` after calling tools; callers loop on `tool_calls`.
  return reason === 'stop' && hasToolCalls ? 'tool_calls' : reason;
}

/** Text content; Mistral's reasoning models send an array of typed chunks, of which only `text` is the answer. */
export function textContent(value: unknown): string | null | undefined {
  if (value === null) return null;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    return value.map((part) => (isObject(part) && part.type === 'text' ? (str(part.text) ?? '') : '')).join('');
  }
  return undefined;
}

/** `textContent`, refusing a value of the wrong type (a number, an object) instead of dropping it. */
export function answerText(value: unknown, what: string): string | null | undefined {
  const text = textContent(value);
  if (text === undefined && value !== undefined) throw new MalformedUpstreamResponse(`${what} is neither text nor a list of parts`);
  return text;
}

/** Arguments as a JSON string: a few servers (Ollama, some vLLM parsers) send an object. */
function argumentsText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export function toolCalls(value: unknown): ToolCall[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  return value.filter(isObject).map((call, i) => {
    const fn = isObject(call.function) ? call.function : {};
    return {
      id: str(call.id) || `call_${i}`,
      type: 'function',
      function: { name: str(fn.name) ?? '', arguments: argumentsText(fn.arguments) ?? '' },
    };
  });
}

export function toolCallDeltas(value: unknown): ToolCallDelta[] | undefined {
  if (!Array.isArray(value) || value.length === 0) return undefined;
  return value.filter(isObject).map((call, i) => {
    const delta: ToolCallDelta = { index: num(call.index) ?? i };
    const id = str(call.id);
    if (id) delta.id = id;
    if (call.type === 'function' || id) delta.type = 'function';
    if (isObject(call.function)) {
      const fn: NonNullable<ToolCallDelta['function']> = {};
      const name = str(call.function.name);
      const args = argumentsText(call.function.arguments);
      if (name !== undefined) fn.name = name;
      if (args !== undefined) fn.arguments = args;
      delta.function = fn;
    }
    return delta;
  });
}

/** Canonical usage; reasoning and cached token counts kept (DeepSeek reports cache hits in its own field). */
export function usage(value: unknown): Usage | undefined {
  // Counts are what the call is billed by: one that is not a whole number of tokens is refused, not read as 0.
  const reported = optionalObject(value, 'usage');
  if (!reported) return undefined;
  const prompt = optionalTokenCount(reported.prompt_tokens, 'usage.prompt_tokens') ?? 0;
  const completion = optionalTokenCount(reported.completion_tokens, 'usage.completion_tokens') ?? 0;
  const out: Usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: optionalTokenCount(reported.total_tokens, 'usage.total_tokens') ?? prompt + completion,
  };
  const promptDetails = optionalObject(reported.prompt_tokens_details, 'usage.prompt_tokens_details') ?? {};
  const cached =
    optionalTokenCount(promptDetails.cached_tokens, 'usage.prompt_tokens_details.cached_tokens') ??
    optionalTokenCount(reported.prompt_cache_hit_tokens, 'usage.prompt_cache_hit_tokens');
  if (cached !== undefined) out.prompt_tokens_details = { cached_tokens: cached };
  const completionDetails = optionalObject(reported.completion_tokens_details, 'usage.completion_tokens_details') ?? {};
  const reasoning = optionalTokenCount(completionDetails.reasoning_tokens, 'usage.completion_tokens_details.reasoning_tokens');
  if (reasoning !== undefined) out.completion_tokens_details = { reasoning_tokens: reasoning };
  return out;
}
