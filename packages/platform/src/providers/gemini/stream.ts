// Gemini `streamGenerateContent?alt=sse` → canonical chunks. Each event is a whole
// GenerateContentResponse: text arrives in pieces, function calls arrive whole (one delta per
// call), usageMetadata grows as it goes and the last one is emitted as the final usage chunk.

import type { ChatCompletionChunk, ChatCompletionRequest, Usage } from '../openai-chat.js';
import { MalformedUpstreamResponse, UpstreamStreamError, type StreamTranslator } from '../provider-adapter.js';
import { candidateParts, completionId, finishReason, geminiUsage, promptBlocked, toolCallId } from './response.js';
import { isObject, optionalNumber, optionalObjects, str } from './wire.js';

export function createGeminiStreamTranslator(request: ChatCompletionRequest): StreamTranslator {
  let id: string | undefined;
  let model: string | undefined;
  const created = Math.floor(Date.now() / 1000);
  let lastUsage: Usage | undefined;
  const started = new Set<number>();
  const toolCounts = new Map<number, number>();

  let promptTokensSent = false;
  const chunk = (choices: ChatCompletionChunk['choices']): ChatCompletionChunk => {
    const out: ChatCompletionChunk = { id: id!, object: 'chat.completion.chunk', created, model: model ?? request.model, choices };
    // The first chunk carries the input count Gemini already gave (see ChatCompletionChunk.prompt_tokens).
    if (!promptTokensSent && lastUsage) {
      out.prompt_tokens = lastUsage.prompt_tokens;
      promptTokensSent = true;
    }
    return out;
  };

  return {
    push(event) {
      const data = event.data.trim();
      if (!data) return [];
      let payload: unknown;
      try {
        payload = JSON.parse(data);
      } catch {
        throw new MalformedUpstreamResponse(`Gemini sent a stream event that is not JSON: ${data.slice(0, 200)}`);
      }
      // A failure after the 200 arrives as an event holding the usual {"error":{code,message,status}}.
      if (isObject(payload) && isObject(payload.error)) {
        throw new UpstreamStreamError(str(payload.error.message) ?? 'Gemini stream error', str(payload.error.status));
      }
      if (!isObject(payload)) throw new MalformedUpstreamResponse('Gemini sent a stream event that is not a GenerateContentResponse');
      id ??= completionId(payload);
      model ??= str(payload.modelVersion) || undefined;
      lastUsage = geminiUsage(payload.usageMetadata) ?? lastUsage;

      const out: ChatCompletionChunk[] = [];
      const candidates = optionalObjects(payload.candidates, 'candidates') ?? [];
      if (candidates.length === 0 && promptBlocked(payload)) {
        return [chunk([{ index: 0, delta: { role: 'assistant', content: null }, finish_reason: 'content_filter' }])];
      }
      candidates.forEach((candidate, i) => {
        const index = optionalNumber(candidate.index, 'candidates[].index') ?? i;
        const { text, thoughts, calls } = candidateParts(candidate);
        const role = started.has(index) ? {} : { role: 'assistant' as const };
        started.add(index);
        if (thoughts) out.push(chunk([{ index, delta: { ...role, reasoning_content: thoughts }, finish_reason: null }]));
        const roleNow = thoughts ? {} : role;
        if (text || (calls.length === 0 && !thoughts)) out.push(chunk([{ index, delta: { ...roleNow, content: text }, finish_reason: null }]));
        calls.forEach((call, k) => {
          const n = toolCounts.get(index) ?? 0;
          toolCounts.set(index, n + 1);
          const delta = k === 0 && !text ? { ...roleNow } : {};
          out.push(
            chunk([
              {
                index,
                delta: { ...delta, tool_calls: [{ index: n, id: toolCallId(call, n), type: 'function', function: { name: call.name, arguments: call.arguments } }] },
                finish_reason: null,
              },
            ]),
          );
        });
        const finish = finishReason(candidate.finishReason, (toolCounts.get(index) ?? 0) > 0);
        if (finish) {
          const last = out.at(-1);
          // The finishing event's own text delta carries the reason, as OpenAI's last content chunk may.
          if (last && last.choices[0]?.index === index && !last.choices[0].delta.tool_calls && !last.choices[0].delta.content) last.choices[0].finish_reason = finish;
          else out.push(chunk([{ index, delta: {}, finish_reason: finish }]));
        }
      });
      return out;
    },
    end() {
      if (!lastUsage) return [];
      id ??= completionId({});
      const usage = lastUsage;
      lastUsage = undefined;
      return [{ ...chunk([]), usage }];
    },
  };
}
