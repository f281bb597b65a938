// Canonical ChatCompletion → Anthropic Message, for a non-streaming call on the Messages route.

import type { ChatCompletion, FinishReason, Usage } from '../../../providers/openai-chat.js';
import type { AnthropicMessage, AnthropicResponseBlock, AnthropicStopReason, AnthropicUsage } from '../../../providers/anthropic/wire.js';
import { InvalidToolArgumentsError } from './errors.js';

/** `model` is what the caller sent (e.g. "openai:gpt-4o"), echoed as Anthropic echoes it. */
export function chatCompletionToAnthropicMessage(completion: ChatCompletion, model: string): AnthropicMessage {
  const choice = completion.choices[0];
  const content: AnthropicResponseBlock[] = [];
  // Thinking from another provider carries no Anthropic signature; it is shown, not replayed.
  if (choice?.message.reasoning_content) content.push({ type: 'thinking', thinking: choice.message.reasoning_content, signature: '' });
  const text = choice?.message.content || choice?.message.refusal;
  if (text) content.push({ type: 'text', text });
  for (const call of choice?.message.tool_calls ?? []) {
    content.push({ type: 'tool_use', id: call.id, name: call.function.name, input: parseToolInput(call.function.name, call.function.arguments) });
  }
  return {
    id: toAnthropicMessageId(completion.id),
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: toStopReason(choice?.finish_reason ?? 'stop'),
    stop_sequence: null,
    usage: toAnthropicUsage(completion.usage),
  };
}

const STOP_REASONS: Record<FinishReason, AnthropicStopReason> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  content_filter: 'refusal',
};

export function toStopReason(finish: FinishReason | null | undefined): AnthropicStopReason {
  return (finish && STOP_REASONS[finish]) || 'end_turn';
}

/** Anthropic reports cache reads and writes apart from input_tokens; OpenAI counts them inside prompt_tokens. */
export function toAnthropicUsage(usage: Usage | null | undefined): AnthropicUsage {
  const cached = usage?.prompt_tokens_details?.cached_tokens ?? 0;
  const written = usage?.prompt_tokens_details?.cache_write_tokens ?? 0;
  return {
    input_tokens: Math.max(0, (usage?.prompt_tokens ?? 0) - cached - written),
    cache_creation_input_tokens: written,
    cache_read_input_tokens: cached,
    output_tokens: usage?.completion_tokens ?? 0,
  };
}

/** SDK users and logs recognise Anthropic ids by their `msg_` prefix. */
export function toAnthropicMessageId(id: string): string {
  return id.startsWith('msg_') ? id : `msg_${id}`;
}

function parseToolInput(name: string, args: string): Record<string, unknown> {
  let input: unknown;
  try {
    input = args.trim() === '' ? {} : JSON.parse(args);
  } catch {
    throw new InvalidToolArgumentsError(name);
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new InvalidToolArgumentsError(name);
  return input as Record<string, unknown>;
}
