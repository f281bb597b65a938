// Anthropic Message → canonical ChatCompletion. Thinking blocks are the model's private
// reasoning and have no place in the canonical message; they are counted in usage only.

import { isObject, requiredObject, requiredObjects } from '../json-guards.js';
import type { ChatCompletion, ChatCompletionRequest, FinishReason, ToolCall } from '../openai-chat.js';
import { MalformedUpstreamResponse } from '../provider-adapter.js';
import { JSON_RESPONSE_TOOL_NAME } from './api.js';
import { usesJsonResponseTool } from './request.js';
import { mergeUsage, toCanonicalUsage } from './usage.js';
import type { AnthropicMessage, AnthropicStopReason } from './wire.js';

/**
 * A Messages API answer, checked for what Keyward reads of it (the passthrough forwards the rest
 * as it is): a message, content blocks with their text and tool fields, numeric usage counts.
 */
export function readAnthropicMessage(body: unknown): AnthropicMessage {
  const message = requiredObject(body, 'the answer');
  if (message.type !== 'message') throw new MalformedUpstreamResponse('the answer is not a message');
  for (const block of requiredObjects(message.content, 'content')) {
    const ok =
      block.type === 'text' ? typeof block.text === 'string'
      : block.type === 'tool_use' ? typeof block.id === 'string' && typeof block.name === 'string' && isObject(block.input)
      : typeof block.type === 'string';
    if (!ok) throw new MalformedUpstreamResponse(`content has a malformed ${typeof block.type === 'string' ? block.type : 'untyped'} block`);
  }
  mergeUsage({}, requiredObject(message.usage, 'usage'));
  return message as unknown as AnthropicMessage;
}

export function fromAnthropicResponse(body: unknown, request: ChatCompletionRequest): ChatCompletion {
  const message = readAnthropicMessage(body);
  const jsonTool = usesJsonResponseTool(request);
  let text = '';
  const toolCalls: ToolCall[] = [];
  let answeredByJsonTool = false;
  for (const block of message.content) {
    if (block.type === 'text') text += block.text;
    else if (block.type === 'tool_use') {
      if (jsonTool && block.name === JSON_RESPONSE_TOOL_NAME) {
        text += JSON.stringify(block.input);
        answeredByJsonTool = true;
      } else {
        toolCalls.push({ id: block.id, type: 'function', function: { name: block.name, arguments: JSON.stringify(block.input) } });
      }
    }
  }
  const finish = answeredByJsonTool && toolCalls.length === 0 ? 'stop' : toFinishReason(message.stop_reason);
  const choiceMessage: ChatCompletion['choices'][number]['message'] = {
    role: 'assistant',
    content: text === '' && toolCalls.length > 0 ? null : text,
    refusal: null,
  };
  if (toolCalls.length > 0) choiceMessage.tool_calls = toolCalls;
  return {
    id: message.id,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: message.model ?? request.model,
    choices: [{ index: 0, message: choiceMessage, finish_reason: finish, logprobs: null }],
    usage: toCanonicalUsage(message.usage),
  };
}

const FINISH_REASONS: Record<AnthropicStopReason, FinishReason> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  // A server tool paused a long turn; the text so far is a complete answer to show.
  pause_turn: 'stop',
  max_tokens: 'length',
  model_context_window_exceeded: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};

export function toFinishReason(reason: AnthropicStopReason | null | undefined): FinishReason {
  return (reason && FINISH_REASONS[reason]) || 'stop';
}
