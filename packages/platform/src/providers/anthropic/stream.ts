// Anthropic Messages SSE → canonical chunks, one event at a time. Anthropic numbers content
// blocks across text and tools; OpenAI numbers tool calls among themselves, so each tool_use
// block gets the next tool-call index when it starts.

import type { ChatCompletionChunk, ChatCompletionRequest, FinishReason } from '../openai-chat.js';
import { isObject } from '../json-guards.js';
import { MalformedUpstreamResponse, type SseEvent, type StreamTranslator, UpstreamStreamError } from '../provider-adapter.js';
import { JSON_RESPONSE_TOOL_NAME } from './api.js';
import { usesJsonResponseTool } from './request.js';
import { toFinishReason } from './response.js';
import { mergeUsage, toCanonicalUsage } from './usage.js';
import type { AnthropicStreamEvent, AnthropicUsage } from './wire.js';

type Delta = ChatCompletionChunk['choices'][number]['delta'];

export function createAnthropicStreamTranslator(request: ChatCompletionRequest): StreamTranslator {
  const jsonTool = usesJsonResponseTool(request);
  let id = '';
  let model = request.model;
  const created = Math.floor(Date.now() / 1000);
  const usage: Partial<AnthropicUsage> = {};
  let started = false;
  let usageSent = false;
  /** Anthropic block index → what that block streams as. */
  const blocks = new Map<number, { kind: 'text' } | { kind: 'tool'; toolIndex: number } | { kind: 'json' } | { kind: 'skip' }>();
  let toolCount = 0;
  let jsonAnswered = false;

  const chunk = (delta: Delta, finish: FinishReason | null = null): ChatCompletionChunk => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  });
  const usageChunk = (): ChatCompletionChunk => {
    usageSent = true;
    return { id, object: 'chat.completion.chunk', created, model, choices: [], usage: toCanonicalUsage(usage) };
  };

  return {
    push(event: SseEvent): ChatCompletionChunk[] {
      if (event.data === '') return [];
      const data = readAnthropicStreamEvent(event);
      switch (data.type) {
        case 'message_start':
          started = true;
          id = data.message.id;
          model = data.message.model ?? model;
          mergeUsage(usage, data.message.usage);
          return [chunk({ role: 'assistant', content: '' })];
        case 'content_block_start': {
          const block = data.content_block;
          if (block.type === 'text') {
            blocks.set(data.index, { kind: 'text' });
            return block.text ? [chunk({ content: block.text })] : [];
          }
          if (block.type === 'tool_use') {
            if (jsonTool && block.name === JSON_RESPONSE_TOOL_NAME) {
              blocks.set(data.index, { kind: 'json' });
              jsonAnswered = true;
              return [];
            }
            const toolIndex = toolCount++;
            blocks.set(data.index, { kind: 'tool', toolIndex });
            return [chunk({ tool_calls: [{ index: toolIndex, id: block.id, type: 'function', function: { name: block.name, arguments: '' } }] })];
          }
          blocks.set(data.index, { kind: 'skip' });
          return [];
        }
        case 'content_block_delta': {
          const block = blocks.get(data.index);
          const delta = data.delta;
          if (delta.type === 'text_delta' && typeof delta.text !== 'string') throw new MalformedUpstreamResponse('a text_delta without text');
          if (delta.type === 'text_delta' && block?.kind === 'text') return [chunk({ content: delta.text })];
          if (delta.type === 'input_json_delta' && delta.partial_json !== '') {
            if (block?.kind === 'json') return [chunk({ content: delta.partial_json })];
            if (block?.kind === 'tool') return [chunk({ tool_calls: [{ index: block.toolIndex, function: { arguments: delta.partial_json } }] })];
          }
          // thinking, signature and citation deltas have no canonical counterpart.
          return [];
        }
        case 'message_delta': {
          mergeUsage(usage, data.usage);
          if (!data.delta.stop_reason) return [];
          const finish = jsonAnswered && toolCount === 0 ? 'stop' : toFinishReason(data.delta.stop_reason);
          return [chunk({}, finish)];
        }
        case 'message_stop':
          return usageSent ? [] : [usageChunk()];
        case 'error':
          throw new UpstreamStreamError(data.error?.message ?? 'Anthropic reported a stream error', data.error?.type);
        default:
          // ping, content_block_stop, and event types added after this was written.
          return [];
      }
    },
    end(): ChatCompletionChunk[] {
      // A stream cut before message_stop still reports what it consumed, for metering.
      return started && !usageSent ? [usageChunk()] : [];
    },
  };
}

/**
 * One stream event's data, checked for what is read of it; anything else is a malformed answer
 * (a wrong shape would otherwise surface as a TypeError further on). Shared with the passthrough.
 */
export function readAnthropicStreamEvent(event: SseEvent): AnthropicStreamEvent {
  let data: unknown;
  try {
    data = JSON.parse(event.data);
  } catch {
    throw new MalformedUpstreamResponse(`Anthropic sent a stream event that is not JSON: ${event.data.slice(0, 200)}`);
  }
  if (!isObject(data) || typeof data.type !== 'string') throw new MalformedUpstreamResponse('Anthropic sent a stream event without a type');
  const needs: Record<string, string[]> = {
    message_start: ['message'],
    content_block_start: ['content_block'],
    content_block_delta: ['delta'],
    message_delta: ['delta'],
  };
  for (const field of needs[data.type] ?? []) {
    if (!isObject(data[field])) throw new MalformedUpstreamResponse(`Anthropic sent a ${data.type} event without ${field}`);
  }
  if ((data.type === 'content_block_start' || data.type === 'content_block_delta') && typeof data.index !== 'number') {
    throw new MalformedUpstreamResponse(`Anthropic sent a ${data.type} event without an index`);
  }
  return data as unknown as AnthropicStreamEvent;
}
