// Canonical chunks → the Responses API's semantic stream: response.created, response.in_progress,
// then per output item output_item.added / content_part.added / output_text.delta … done, or
// function_call_arguments.delta … done, and finally response.completed (or .incomplete) with
// usage. Every event carries an increasing sequence_number; there is no [DONE].

import type { ChatCompletionChunk, FinishReason, Usage } from '../../../providers/openai-chat.js';
import { formatSseEvent } from '../../../providers/sse.js';
import type { ResponsesRequest } from './request.js';
import { newId, responseObject, type FunctionCallItem, type MessageItem, type OutputItem } from './response.js';

export interface ResponsesStreamEncoder {
  push(chunk: ChatCompletionChunk): string;
  end(): string;
  error(code: string, message: string): string;
}

export function createResponsesStreamEncoder(request: ResponsesRequest, model: string): ResponsesStreamEncoder {
  const id = newId('resp');
  const createdAt = Math.floor(Date.now() / 1000);
  let sequence = 0;
  let started = false;
  const output: OutputItem[] = [];
  let message: { item: MessageItem; index: number } | undefined;
  const calls = new Map<number, { item: FunctionCallItem; index: number }>();
  let finish: FinishReason | null = null;
  let usage: Usage | undefined;
  let ended = false;

  const emit = (type: string, fields: Record<string, unknown>) => formatSseEvent(JSON.stringify({ type, sequence_number: sequence++, ...fields }), type);
  const snapshot = (status: 'in_progress' | 'completed' | 'incomplete' | 'failed', error?: { code: string; message: string }) =>
    responseObject(request, { id, createdAt, model, status, output: status === 'in_progress' ? [] : output, usage: status === 'in_progress' ? null : usage, finish, error: error ?? null });

  const start = () => {
    if (started) return '';
    started = true;
    return emit('response.created', { response: snapshot('in_progress') }) + emit('response.in_progress', { response: snapshot('in_progress') });
  };

  const closeMessage = () => {
    if (!message) return '';
    const { item, index } = message;
    message = undefined;
    item.status = 'completed';
    const part = item.content[0]!;
    return (
      emit('response.output_text.done', { item_id: item.id, output_index: index, content_index: 0, text: part.text, logprobs: [] }) +
      emit('response.content_part.done', { item_id: item.id, output_index: index, content_index: 0, part }) +
      emit('response.output_item.done', { output_index: index, item })
    );
  };

  const closeCalls = () => {
    let out = '';
    for (const { item, index } of calls.values()) {
      if (item.status !== 'in_progress') continue;
      item.status = 'completed';
      out += emit('response.function_call_arguments.done', { item_id: item.id, output_index: index, name: item.name, arguments: item.arguments });
      out += emit('response.output_item.done', { output_index: index, item });
    }
    return out;
  };

  return {
    push(chunk) {
      let out = start();
      if (chunk.usage) usage = chunk.usage;
      for (const choice of chunk.choices) {
        if (choice.index !== 0) continue;
        const text = choice.delta.content;
        if (text) {
          if (!message) {
            const item: MessageItem = { type: 'message', id: newId('msg'), status: 'in_progress', role: 'assistant', content: [] };
            message = { item, index: output.length };
            output.push(item);
            out += emit('response.output_item.added', { output_index: message.index, item: { ...item, content: [] } });
            const part = { type: 'output_text' as const, text: '', annotations: [], logprobs: [] };
            item.content.push(part);
            out += emit('response.content_part.added', { item_id: item.id, output_index: message.index, content_index: 0, part: { ...part } });
          }
          message.item.content[0]!.text += text;
          out += emit('response.output_text.delta', { item_id: message.item.id, output_index: message.index, content_index: 0, delta: text, logprobs: [] });
        }
        for (const delta of choice.delta.tool_calls ?? []) {
          let call = calls.get(delta.index);
          if (!call) {
            out += closeMessage();
            const item: FunctionCallItem = { type: 'function_call', id: newId('fc'), call_id: delta.id ?? newId('call'), name: delta.function?.name ?? '', arguments: '', status: 'in_progress' };
            call = { item, index: output.length };
            calls.set(delta.index, call);
            output.push(item);
            out += emit('response.output_item.added', { output_index: call.index, item: { ...item } });
          }
          const fragment = delta.function?.arguments;
          if (fragment) {
            call.item.arguments += fragment;
            out += emit('response.function_call_arguments.delta', { item_id: call.item.id, output_index: call.index, delta: fragment });
          }
        }
        if (choice.finish_reason) finish = choice.finish_reason;
      }
      return out;
    },
    end() {
      if (ended) return '';
      ended = true;
      const incomplete = finish === 'length' || finish === 'content_filter';
      const out = start() + closeMessage() + closeCalls();
      const status = incomplete ? 'incomplete' : 'completed';
      return out + emit(`response.${status}`, { response: snapshot(status) });
    },
    error(code, message) {
      ended = true;
      const out = start();
      const failed = snapshot('failed', { code, message });
      // `error` in the payload makes the OpenAI SDK raise, like on the chat stream.
      return out + emit('response.failed', { response: failed }) + emit('error', { code, message, param: null, error: { type: 'upstream_error', code, message } });
    },
  };
}
