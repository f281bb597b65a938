// Gemini GenerateContentResponse → canonical ChatCompletion. Shared with the stream half: parts
// to text and tool calls, finish reasons, and usage.

import { randomUUID } from 'node:crypto';
import type { ChatCompletion, ChatCompletionRequest, FinishReason, ToolCall, Usage } from '../openai-chat.js';
import { MalformedUpstreamResponse } from '../provider-adapter.js';
import { optionalTokenCount } from '../json-guards.js';
import { isObject, optionalNumber, optionalObject, optionalObjects, str, type JsonObject } from './wire.js';


const FINISH_REASONS: Record<string, FinishReason> = {
  STOP: 'stop',
  MAX_TOKENS: 'length',
  SAFETY: 'content_filter',
  RECITATION: 'content_filter',
  BLOCKLIST: 'content_filter',
  PROHIBITED_CONTENT: 'content_filter',
  SPII: 'content_filter',
  IMAGE_SAFETY: 'content_filter',
};

/** STOP with function calls is OpenAI's `tool_calls`; unknown reasons (OTHER, MALFORMED_FUNCTION_CALL…) end as `stop`. */
export function finishReason(value: unknown, hasToolCalls: boolean): FinishReason | null {
  if (typeof value !== 'string' || value === 'FINISH_REASON_UNSPECIFIED') return null;
  const reason = FINISH_REASONS[value] ?? 'stop';
  return reason === 'stop' && hasToolCalls ? 'tool_calls' : reason;
}

export interface CandidateParts {
  text: string;
  /** Thought summaries, returned only when asked for (includeThoughts). */
  thoughts: string;
  calls: Array<{ id?: string; name: string; arguments: string }>;
}

/** Answer text and function calls of one candidate; thought summaries are not part of the answer. */
export function candidateParts(candidate: JsonObject): CandidateParts {
  const content = optionalObject(candidate.content, 'candidates[].content') ?? {};
  const parts = optionalObjects(content.parts, 'candidates[].content.parts') ?? [];
  const out: CandidateParts = { text: '', thoughts: '', calls: [] };
  for (const part of parts) {
    if (typeof part.text === 'string') {
      if (part.thought === true) out.thoughts += part.text;
      else out.text += part.text;
    }
    if (isObject(part.functionCall)) {
      const call: CandidateParts['calls'][number] = {
        name: str(part.functionCall.name) ?? '',
        arguments: JSON.stringify(isObject(part.functionCall.args) ? part.functionCall.args : {}),
      };
      const id = str(part.functionCall.id);
      if (id) call.id = id;
      out.calls.push(call);
    }
  }
  return out;
}

/**
 * Gemini names no calls, so each gets a fresh `call_<n>_<random>` unless Gemini sent an id: ids
 * numbered per response alone would repeat across turns, and UIs key tool calls on them.
 */
export function toolCallId(call: { id?: string }, n: number): string {
  return call.id || `call_${n}_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
}

/**
 * OpenAI counts reasoning inside completion_tokens; Gemini reports thoughts beside candidates.
 * So completion = candidates + thoughts, reasoning = thoughts, and tool-use prompt tokens are prompt.
 */
export function geminiUsage(value: unknown): Usage | undefined {
  // Counts are what the call is billed by: one that is not a whole number of tokens is refused, not read as 0.
  const metadata = optionalObject(value, 'usageMetadata');
  if (!metadata) return undefined;
  const count = (name: string) => optionalTokenCount(metadata[name], `usageMetadata.${name}`);
  const prompt = (count('promptTokenCount') ?? 0) + (count('toolUsePromptTokenCount') ?? 0);
  const thoughts = count('thoughtsTokenCount');
  const completion = (count('candidatesTokenCount') ?? 0) + (thoughts ?? 0);
  const usage: Usage = { prompt_tokens: prompt, completion_tokens: completion, total_tokens: count('totalTokenCount') ?? prompt + completion };
  const cached = count('cachedContentTokenCount');
  if (cached !== undefined) usage.prompt_tokens_details = { cached_tokens: cached };
  if (thoughts !== undefined) usage.completion_tokens_details = { reasoning_tokens: thoughts };
  return usage;
}

export function completionId(body: JsonObject): string {
  const responseId = str(body.responseId);
  return responseId ? `chatcmpl-${responseId}` : `chatcmpl-${randomUUID().replace(/-/g, '')}`;
}

/** A prompt Gemini blocked outright comes back with no candidates and a promptFeedback.blockReason. */
export function promptBlocked(body: JsonObject): boolean {
  return isObject(body.promptFeedback) && typeof body.promptFeedback.blockReason === 'string';
}

export function parseGenerateContentResponse(body: unknown, request: ChatCompletionRequest): ChatCompletion {
  if (!isObject(body)) throw new MalformedUpstreamResponse('Gemini answered with something that is not a GenerateContentResponse');
  const candidates = optionalObjects(body.candidates, 'candidates') ?? [];
  if (candidates.length === 0 && !promptBlocked(body)) throw new MalformedUpstreamResponse('Gemini answered without candidates');
  const completion: ChatCompletion = {
    id: completionId(body),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: str(body.modelVersion) || request.model,
    choices:
      candidates.length === 0
        ? [{ index: 0, message: { role: 'assistant', content: null }, finish_reason: 'content_filter', logprobs: null }]
        : candidates.map((candidate, i) => {
            const { text, thoughts, calls } = candidateParts(candidate);
            const toolCalls: ToolCall[] = calls.map((call, n) => ({
              id: toolCallId(call, n),
              type: 'function',
              function: { name: call.name, arguments: call.arguments },
            }));
            const choice: ChatCompletion['choices'][number] = {
              index: optionalNumber(candidate.index, 'candidates[].index') ?? i,
              message: { role: 'assistant', content: text || (toolCalls.length > 0 ? null : '') },
              finish_reason: finishReason(candidate.finishReason, toolCalls.length > 0) ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop'),
              logprobs: null,
            };
            if (toolCalls.length > 0) choice.message.tool_calls = toolCalls;
            if (thoughts) choice.message.reasoning_content = thoughts;
            return choice;
          }),
  };
  const usage = geminiUsage(body.usageMetadata);
  if (usage) completion.usage = usage;
  return completion;
}
