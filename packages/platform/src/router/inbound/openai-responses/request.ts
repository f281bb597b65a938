// Responses API request → canonical chat request: input items become messages, `instructions`
// the leading system message, function tools stay function tools, `text.format` becomes
// `response_format`. What has no chat counterpart is refused with a 400 naming the field.

import type { AssistantMessage, ChatCompletionRequest, ChatMessage, FunctionTool, ToolChoice, UserContentPart } from '../../../providers/openai-chat.js';
import { UnsupportedParameterError } from '../../../providers/provider-adapter.js';

export interface ResponsesRequest {
  model: string;
  input: string | Array<Record<string, unknown>>;
  instructions?: string | null;
  tools?: Array<{ type: string; name?: string; description?: string | null; parameters?: Record<string, unknown> | null; strict?: boolean | null }>;
  tool_choice?: 'none' | 'auto' | 'required' | { type: string; name?: string };
  parallel_tool_calls?: boolean | null;
  text?: { format?: { type: 'text' | 'json_object' | 'json_schema'; name?: string; schema?: Record<string, unknown>; description?: string; strict?: boolean | null }; verbosity?: string | null };
  max_output_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  stream?: boolean | null;
  user?: string;
  metadata?: Record<string, string> | null;
  store?: boolean | null;
  reasoning?: { effort?: string | null; summary?: string | null } | null;
  include?: string[] | null;
  truncation?: 'auto' | 'disabled' | null;
  background?: boolean | null;
  previous_response_id?: string | null;
  conversation?: string | Record<string, unknown> | null;
  service_tier?: string | null;
  prompt_cache_key?: string | null;
  safety_identifier?: string | null;
}

/** Fields whose only honourable value is "absent" (null, [] or the default): anything else is refused by name. */
function refuseUnhonourable(body: ResponsesRequest): void {
  if (body.store) refuse('store', 'responses are not stored; send store: false or omit it');
  if (body.previous_response_id != null) refuse('previous_response_id', 'responses are not stored, so there is none to continue; send the earlier turns in input');
  if (body.conversation != null) refuse('conversation', 'conversations are stored state this router does not keep; send the earlier turns in input');
  if (body.background) refuse('background', 'background responses need stored responses');
  if (body.include?.length) refuse('include', `extra output (${body.include.join(', ')}) cannot be produced through chat`);
  if (body.truncation === 'auto') refuse('truncation', "only 'disabled' (the default) is supported");
}

const refuse = (param: string, reason: string): never => {
  throw new UnsupportedParameterError(param, `'${param}' is not supported by this router's Responses API: ${reason}`);
};

function contentParts(content: unknown, param: string, role: string): string | UserContentPart[] {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return refuse(param, 'content must be a string or an array of parts');
  return content.map((part: Record<string, unknown>, j) => {
    const type = part?.type;
    if (type === 'input_text' || type === 'output_text' || type === 'text') {
      if (typeof part.text !== 'string') return refuse(`${param}[${j}].text`, 'must be a string');
      return { type: 'text' as const, text: part.text };
    }
    if (type === 'input_image' && role === 'user') {
      if (typeof part.image_url !== 'string') return refuse(`${param}[${j}].image_url`, 'only image URLs (https or data:) are supported, not file ids');
      const detail = part.detail === 'low' || part.detail === 'high' ? part.detail : 'auto';
      return { type: 'image_url' as const, image_url: { url: part.image_url, detail } };
    }
    return refuse(`${param}[${j}].type`, `content part '${String(type)}' has no chat counterpart`);
  });
}

function textOnly(parts: string | UserContentPart[], param: string): string | Array<{ type: 'text'; text: string }> {
  if (typeof parts === 'string') return parts;
  return parts.map((part, j) => (part.type === 'text' ? part : refuse(`${param}[${j}]`, 'only text is allowed here')));
}

/** A function_call_output's `output`: a string, or text parts (the SDK's typed form); images and files have no tool-result counterpart here. */
function toolOutput(output: unknown, param: string): string {
  if (typeof output === 'string') return output;
  if (!Array.isArray(output)) return refuse(param, 'must be a string or an array of input_text parts');
  return output
    .map((part: Record<string, unknown> | null, j) =>
      (part?.type === 'input_text' || part?.type === 'output_text') && typeof part.text === 'string' ? part.text : refuse(`${param}[${j}]`, 'only input_text parts are supported in a tool result'),
    )
    .join('');
}

function inputMessages(input: ResponsesRequest['input']): ChatMessage[] {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  const messages: ChatMessage[] = [];
  input.forEach((item, i) => {
    const type = item.type ?? 'message';
    if (type === 'message') {
      const role = item.role;
      const param = `input[${i}].content`;
      if (role === 'user') messages.push({ role: 'user', content: contentParts(item.content, param, 'user') });
      else if (role === 'system' || role === 'developer') messages.push({ role, content: textOnly(contentParts(item.content, param, role), param) });
      else if (role === 'assistant') messages.push({ role: 'assistant', content: textOnly(contentParts(item.content, param, role), param) });
      else refuse(`input[${i}].role`, `role '${String(role)}' is not one of user, system, developer, assistant`);
      return;
    }
    if (type === 'function_call') {
      if (typeof item.call_id !== 'string' || typeof item.name !== 'string' || typeof item.arguments !== 'string') {
        refuse(`input[${i}]`, 'a function_call needs call_id, name and arguments strings');
      }
      const call = { id: item.call_id as string, type: 'function' as const, function: { name: item.name as string, arguments: item.arguments as string } };
      const last = messages[messages.length - 1];
      // Consecutive calls are one assistant turn with parallel tool calls.
      if (last?.role === 'assistant' && (last as AssistantMessage).tool_calls) (last as AssistantMessage).tool_calls!.push(call);
      else messages.push({ role: 'assistant', content: null, tool_calls: [call] });
      return;
    }
    if (type === 'function_call_output') {
      if (typeof item.call_id !== 'string') refuse(`input[${i}].call_id`, 'must be a string');
      messages.push({ role: 'tool', tool_call_id: item.call_id as string, content: toolOutput(item.output, `input[${i}].output`) });
      return;
    }
    refuse(`input[${i}].type`, `input item '${String(type)}' has no chat counterpart`);
  });
  return messages;
}

export function responsesToChatRequest(body: ResponsesRequest): ChatCompletionRequest {
  refuseUnhonourable(body);
  const messages = inputMessages(body.input);
  if (body.instructions) messages.unshift({ role: 'system', content: body.instructions });
  const request: ChatCompletionRequest = { model: body.model, messages };
  if (body.tools?.length) {
    request.tools = body.tools.map((tool, i): FunctionTool => {
      if (tool.type !== 'function') return refuse(`tools[${i}].type`, `built-in tool '${tool.type}' is not available; only function tools`);
      if (!tool.name) return refuse(`tools[${i}].name`, 'a function tool needs a name');
      const fn: FunctionTool['function'] = { name: tool.name };
      if (tool.description) fn.description = tool.description;
      if (tool.parameters) fn.parameters = tool.parameters;
      if (typeof tool.strict === 'boolean') fn.strict = tool.strict;
      return { type: 'function', function: fn };
    });
  }
  if (body.tool_choice !== undefined) {
    const choice = body.tool_choice;
    if (typeof choice === 'string') request.tool_choice = choice;
    else if (choice.type === 'function' && choice.name) request.tool_choice = { type: 'function', function: { name: choice.name } } satisfies ToolChoice;
    else refuse('tool_choice', `tool choice '${choice.type}' has no chat counterpart`);
  }
  if (typeof body.parallel_tool_calls === 'boolean') request.parallel_tool_calls = body.parallel_tool_calls;
  const format = body.text?.format;
  if (format?.type === 'json_object') request.response_format = { type: 'json_object' };
  else if (format?.type === 'json_schema') {
    if (!format.name || !format.schema) refuse('text.format', 'json_schema needs name and schema');
    const jsonSchema: { name: string; schema?: Record<string, unknown>; description?: string; strict?: boolean | null } = { name: format.name!, schema: format.schema! };
    if (format.description) jsonSchema.description = format.description;
    if (format.strict !== undefined) jsonSchema.strict = format.strict;
    request.response_format = { type: 'json_schema', json_schema: jsonSchema };
  }
  if (body.text?.verbosity) request.verbosity = body.text.verbosity as 'low' | 'medium' | 'high';
  // Advisory: forwarded to OpenAI-wire providers, dropped by translating ones (router/policy/field-policy.ts).
  if (body.service_tier != null) request.service_tier = body.service_tier;
  if (body.prompt_cache_key != null) request.prompt_cache_key = body.prompt_cache_key;
  if (body.safety_identifier != null) request.safety_identifier = body.safety_identifier;
  if (body.metadata != null) request.metadata = body.metadata;
  if (body.max_output_tokens != null) request.max_completion_tokens = body.max_output_tokens;
  if (body.temperature != null) request.temperature = body.temperature;
  if (body.top_p != null) request.top_p = body.top_p;
  if (body.user) request.user = body.user;
  if (body.reasoning?.summary) refuse('reasoning.summary', 'reasoning summaries have no chat counterpart');
  const effort = body.reasoning?.effort;
  if (effort) {
    if (effort !== 'minimal' && effort !== 'low' && effort !== 'medium' && effort !== 'high') refuse('reasoning.effort', `'${effort}' is not minimal, low, medium or high`);
    request.reasoning_effort = effort as 'minimal' | 'low' | 'medium' | 'high';
  }
  if (body.stream) {
    request.stream = true;
    request.stream_options = { include_usage: true };
  }
  return request;
}
