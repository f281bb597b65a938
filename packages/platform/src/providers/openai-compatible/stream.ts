// An OpenAI-compatible SSE stream → canonical chunks. Usage is held back and emitted once, as its
// own chunk with empty choices, when the stream finishes: some servers repeat it or attach it to
// the last content chunk (Mistral, Together), and the router meters exactly one.

import type { ChatCompletionChunk, ChatCompletionRequest, Usage } from '../openai-chat.js';
import { MalformedUpstreamResponse, UpstreamStreamError, type SseEvent, type StreamTranslator } from '../provider-adapter.js';
import { answerText, finishReason, isObject, newCompletionId, nowSeconds, optionalNumber, optionalObject, optionalObjects, str, toolCallDeltas, usage } from './wire.js';

/** Throws the provider's in-stream error (`data: {"error":{…}}`, or an SSE `error` event). */
function throwIfError(payload: unknown, event: SseEvent): void {
  if (isObject(payload) && payload.error !== undefined && payload.error !== null) {
    const error = payload.error;
    if (isObject(error)) {
      throw new UpstreamStreamError(str(error.message) ?? 'upstream stream error', str(error.type) ?? str(error.code));
    }
    throw new UpstreamStreamError(typeof error === 'string' ? error : 'upstream stream error');
  }
  if (event.event === 'error') throw new UpstreamStreamError(event.data || 'upstream stream error');
}

export function createChatStreamTranslator(request: ChatCompletionRequest): StreamTranslator {
  let id: string | undefined;
  let created: number | undefined;
  let model: string | undefined;
  let lastUsage: Usage | undefined;
  let finished = false;
  const sawToolCalls = new Set<number>();

  function usageChunk(): ChatCompletionChunk[] {
    if (finished || !lastUsage) return [];
    finished = true;
    return [
      {
        id: id ?? newCompletionId(),
        object: 'chat.completion.chunk',
        created: created ?? nowSeconds(),
        model: model ?? request.model,
        choices: [],
        usage: lastUsage,
      },
    ];
  }

  return {
    push(event) {
      const data = event.data.trim();
      if (data === '[DONE]') return usageChunk();
      if (!data) return [];
      let payload: unknown;
      try {
        payload = JSON.parse(data);
      } catch {
        if (event.event === 'error') throw new UpstreamStreamError(data);
        throw new MalformedUpstreamResponse(`upstream sent a stream event that is not JSON: ${data.slice(0, 200)}`);
      }
      throwIfError(payload, event);
      if (!isObject(payload)) throw new MalformedUpstreamResponse('upstream sent a stream event that is not a chunk object');

      id ??= str(payload.id) || undefined;
      created ??= optionalNumber(payload.created, 'created');
      // Azure's first chunk (prompt filter results) has an empty model; keep the first real one.
      model ??= str(payload.model) || undefined;
      const reported = usage(payload.usage);
      if (reported) lastUsage = reported;

      const choices = optionalObjects(payload.choices, 'choices') ?? [];
      if (choices.length === 0) return [];
      const chunk: ChatCompletionChunk = {
        id: id ?? (id = newCompletionId()),
        object: 'chat.completion.chunk',
        created: created ?? (created = nowSeconds()),
        model: model ?? request.model,
        choices: choices.map((choice, i) => {
          const index = optionalNumber(choice.index, 'choices[].index') ?? i;
          const rawDelta = optionalObject(choice.delta, 'choices[].delta') ?? {};
          const delta: ChatCompletionChunk['choices'][number]['delta'] = {};
          if (rawDelta.role === 'assistant') delta.role = 'assistant';
          const content = answerText(rawDelta.content, 'choices[].delta.content');
          if (content !== undefined) delta.content = content;
          const calls = toolCallDeltas(rawDelta.tool_calls);
          if (calls) {
            delta.tool_calls = calls;
            sawToolCalls.add(index);
          }
          if (typeof rawDelta.refusal === 'string') delta.refusal = rawDelta.refusal;
          return { index, delta, finish_reason: finishReason(choice.finish_reason, sawToolCalls.has(index)) };
        }),
      };
      return [chunk];
    },
    end() {
      return usageChunk();
    },
  };
}
