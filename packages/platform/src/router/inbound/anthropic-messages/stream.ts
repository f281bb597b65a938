// Canonical chunks → Anthropic SSE, for a streaming call on the Messages route. Anthropic puts
// stop_reason and usage in one message_delta, while OpenAI sends the finish chunk and then the
// usage chunk, so the encoder holds the stop reason until usage arrives or the stream ends.

import { randomBytes } from 'node:crypto';
import type { ChatCompletionChunk, ToolCallDelta, Usage } from '../../../providers/openai-chat.js';
import { formatSseEvent } from '../../../providers/sse.js';
import type { AnthropicErrorType, AnthropicStopReason, AnthropicStreamEvent } from '../../../providers/anthropic/wire.js';
import { toAnthropicMessageId, toAnthropicUsage, toStopReason } from './response.js';

export interface AnthropicStreamEncoder {
  /** SSE text for one canonical chunk (possibly empty). */
  push(chunk: ChatCompletionChunk): string;
  /** SSE text that closes the message; call once when the upstream stream has ended. */
  end(): string;
}

/** `model` is what the caller sent (e.g. "openai:gpt-4o"), echoed in message_start. */
export function createAnthropicStreamEncoder(options: { model: string }): AnthropicStreamEncoder {
  let started = false;
  let finished = false;
  let nextBlock = 0;
  let open: { index: number; kind: 'text' | 'tool' | 'thinking' } | null = null;
  /** Canonical tool-call index → Anthropic content block index. */
  const toolBlocks = new Map<number, number>();
  let stopReason: AnthropicStopReason | null = null;
  let usage: Usage | null = null;

  const emit = (event: AnthropicStreamEvent): string => formatSseEvent(JSON.stringify(event), event.type);

  const start = (id: string, promptTokens = 0): string => {
    started = true;
    return (
      emit({
        type: 'message_start',
        message: {
          id: toAnthropicMessageId(id || randomBytes(12).toString('hex')),
          type: 'message',
          role: 'assistant',
          model: options.model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          // OpenAI streams tell input tokens only at the end (message_delta carries them); Gemini's tell them at once.
          usage: { input_tokens: promptTokens, output_tokens: 0 },
        },
      }) + emit({ type: 'ping' })
    );
  };

  const close = (): string => {
    if (!open) return '';
    const event = emit({ type: 'content_block_stop', index: open.index });
    open = null;
    return event;
  };

  const text = (piece: string): string => {
    let out = '';
    if (open?.kind !== 'text') {
      out += close();
      open = { index: nextBlock++, kind: 'text' };
      out += emit({ type: 'content_block_start', index: open.index, content_block: { type: 'text', text: '' } });
    }
    return out + emit({ type: 'content_block_delta', index: open.index, delta: { type: 'text_delta', text: piece } });
  };

  const thinking = (piece: string): string => {
    let out = '';
    if (open?.kind !== 'thinking') {
      out += close();
      open = { index: nextBlock++, kind: 'thinking' };
      out += emit({ type: 'content_block_start', index: open.index, content_block: { type: 'thinking', thinking: '', signature: '' } });
    }
    return out + emit({ type: 'content_block_delta', index: open.index, delta: { type: 'thinking_delta', thinking: piece } });
  };

  const tool = (delta: ToolCallDelta): string => {
    let out = '';
    let index = toolBlocks.get(delta.index);
    if (index === undefined) {
      out += close();
      index = nextBlock++;
      toolBlocks.set(delta.index, index);
      open = { index, kind: 'tool' };
      const id = delta.id ?? `toolu_${randomBytes(12).toString('hex')}`;
      out += emit({ type: 'content_block_start', index, content_block: { type: 'tool_use', id, name: delta.function?.name ?? '', input: {} } });
    }
    const fragment = delta.function?.arguments;
    if (fragment) out += emit({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: fragment } });
    return out;
  };

  const finish = (): string => {
    finished = true;
    return (
      close() +
      emit({ type: 'message_delta', delta: { stop_reason: stopReason ?? 'end_turn', stop_sequence: null }, usage: toAnthropicUsage(usage) }) +
      emit({ type: 'message_stop' })
    );
  };

  return {
    push(chunk) {
      if (finished) return '';
      let out = started ? '' : start(chunk.id, chunk.prompt_tokens);
      if (chunk.usage) usage = chunk.usage;
      const choice = chunk.choices[0];
      if (choice) {
        if (choice.delta.reasoning_content) out += thinking(choice.delta.reasoning_content);
        const piece = choice.delta.content || choice.delta.refusal;
        if (piece) out += text(piece);
        for (const delta of choice.delta.tool_calls ?? []) out += tool(delta);
        if (choice.finish_reason) {
          out += close();
          stopReason = toStopReason(choice.finish_reason);
        }
      }
      // The canonical usage chunk (choices: []) follows the finish chunk and closes the message.
      if (stopReason && chunk.usage && chunk.choices.length === 0) out += finish();
      return out;
    },
    end() {
      if (finished) return '';
      return (started ? '' : start('')) + finish();
    },
  };
}

/** The in-stream error event Anthropic sends after a 200, e.g. overloaded_error. */
export function encodeAnthropicStreamError(type: AnthropicErrorType | (string & {}), message: string): string {
  return formatSseEvent(JSON.stringify({ type: 'error', error: { type, message } }), 'error');
}
