// Canonical chat completion → Responses API `response` object (and the shared pieces the stream
// encoder uses to build its final `response.completed`).

import { randomBytes } from 'node:crypto';
import type { ChatCompletion, FinishReason, Usage } from '../../../providers/openai-chat.js';
import type { ResponsesRequest } from './request.js';

export const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

export interface MessageItem {
  type: 'message';
  id: string;
  status: 'in_progress' | 'completed' | 'incomplete';
  role: 'assistant';
  content: Array<{ type: 'output_text'; text: string; annotations: unknown[]; logprobs: unknown[] }>;
}

export interface FunctionCallItem {
  type: 'function_call';
  id: string;
  call_id: string;
  name: string;
  arguments: string;
  status: 'in_progress' | 'completed' | 'incomplete';
}

export type OutputItem = MessageItem | FunctionCallItem;

export function responsesUsage(usage: Usage | null | undefined) {
  if (!usage) return null;
  return {
    input_tokens: usage.prompt_tokens,
    input_tokens_details: { cached_tokens: usage.prompt_tokens_details?.cached_tokens ?? 0 },
    output_tokens: usage.completion_tokens,
    output_tokens_details: { reasoning_tokens: usage.completion_tokens_details?.reasoning_tokens ?? 0 },
    total_tokens: usage.total_tokens,
  };
}

/** The response envelope; `output`, `status`, `usage` vary. */
export function responseObject(
  request: ResponsesRequest,
  fields: { id: string; createdAt: number; model: string; status: 'in_progress' | 'completed' | 'incomplete' | 'failed'; output: OutputItem[]; usage: Usage | null | undefined; finish?: FinishReason | null; error?: { code: string; message: string } | null },
) {
  return {
    id: fields.id,
    object: 'response' as const,
    created_at: fields.createdAt,
    status: fields.status,
    error: fields.error ?? null,
    incomplete_details: fields.status === 'incomplete' ? { reason: fields.finish === 'content_filter' ? 'content_filter' : 'max_output_tokens' } : null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    model: fields.model,
    output: fields.output,
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    previous_response_id: null,
    reasoning: { effort: request.reasoning?.effort ?? null, summary: null },
    store: false,
    temperature: request.temperature ?? null,
    text: { format: request.text?.format ?? { type: 'text' } },
    tool_choice: request.tool_choice ?? 'auto',
    tools: request.tools ?? [],
    top_p: request.top_p ?? null,
    truncation: 'disabled',
    usage: responsesUsage(fields.usage),
    user: request.user ?? null,
    metadata: request.metadata ?? {},
  };
}

export function chatCompletionToResponse(completion: ChatCompletion, request: ResponsesRequest, model: string) {
  const choice = completion.choices[0];
  const output: OutputItem[] = [];
  const text = choice?.message.content;
  if (text) output.push({ type: 'message', id: newId('msg'), status: 'completed', role: 'assistant', content: [{ type: 'output_text', text, annotations: [], logprobs: [] }] });
  for (const call of choice?.message.tool_calls ?? []) {
    output.push({ type: 'function_call', id: newId('fc'), call_id: call.id, name: call.function.name, arguments: call.function.arguments, status: 'completed' });
  }
  const incomplete = choice?.finish_reason === 'length' || choice?.finish_reason === 'content_filter';
  return responseObject(request, {
    id: newId('resp'),
    createdAt: completion.created,
    model,
    status: incomplete ? 'incomplete' : 'completed',
    output,
    usage: completion.usage,
    finish: choice?.finish_reason ?? null,
  });
}
