// Canonical request → Anthropic Messages request. Every OpenAI field is either mapped, or
// refused with UnsupportedParameterError naming it: Keyward never drops a field that would change
// the answer.

import type {
  AssistantMessage,
  ChatCompletionRequest,
  ChatMessage,
  FilePart,
  FunctionTool,
  TextPart,
  ToolChoice,
  UserContentPart,
} from '../openai-chat.js';
import { UnsupportedParameterError } from '../provider-adapter.js';
import { DEFAULT_MAX_TOKENS, JSON_RESPONSE_TOOL_NAME } from './api.js';
import type {
  AnthropicDocumentBlock,
  AnthropicEffort,
  AnthropicImageBlock,
  AnthropicMessageParam,
  AnthropicMessagesRequest,
  AnthropicOutputConfig,
  AnthropicRequestBlock,
  AnthropicTextBlock,
  AnthropicTool,
  AnthropicToolChoice,
} from './wire.js';

/** Anthropic's documented temperature range is 0..1 (OpenAI's is 0..2). */
export const ANTHROPIC_MAX_TEMPERATURE = 1;

export function toAnthropicRequest(request: ChatCompletionRequest): AnthropicMessagesRequest {
  refuseUnsupported(request);
  const { system, messages } = toAnthropicMessages(request.messages);
  const body: AnthropicMessagesRequest = {
    model: request.model,
    max_tokens: request.max_completion_tokens ?? request.max_tokens ?? DEFAULT_MAX_TOKENS,
    messages,
  };
  if (system.length === 1 && system[0]) body.system = system[0].text;
  else if (system.length > 1) body.system = system;

  const tools = (request.tools ?? []).map(toAnthropicTool);
  if (tools.length > 0) {
    body.tools = tools;
    const choice = toAnthropicToolChoice(request.tool_choice, request.parallel_tool_calls);
    if (choice) body.tool_choice = choice;
  }
  if (request.temperature != null) body.temperature = request.temperature;
  if (request.top_p != null) body.top_p = request.top_p;
  if (request.top_k != null) body.top_k = request.top_k;
  if (request.thinking_budget != null) body.thinking = { type: 'enabled', budget_tokens: request.thinking_budget };
  if (request.stop != null) {
    const stops = typeof request.stop === 'string' ? [request.stop] : request.stop;
    if (stops.length > 0) body.stop_sequences = stops;
  }
  if (request.user) body.metadata = { user_id: request.user };

  const outputConfig: AnthropicOutputConfig = {};
  if (request.reasoning_effort != null) outputConfig.effort = toAnthropicEffort(request.reasoning_effort);
  applyResponseFormat(request, body, outputConfig);
  if (Object.keys(outputConfig).length > 0) body.output_config = outputConfig;

  if (request.stream) body.stream = true;
  return body;
}

function refuseUnsupported(request: ChatCompletionRequest): void {
  if (request.n != null && request.n > 1) refuse('n', 'Anthropic returns one choice per request; n must be 1');
  if (request.logprobs === true) refuse('logprobs', 'Anthropic does not return log probabilities');
  if (request.top_logprobs != null && request.top_logprobs > 0) refuse('top_logprobs', 'Anthropic does not return log probabilities');
  if (request.logit_bias != null && Object.keys(request.logit_bias).length > 0) refuse('logit_bias');
  if (request.presence_penalty != null && request.presence_penalty !== 0) refuse('presence_penalty');
  if (request.frequency_penalty != null && request.frequency_penalty !== 0) refuse('frequency_penalty');
  if (request.seed != null) refuse('seed', 'Anthropic has no deterministic sampling seed');
  if (request.store === true) refuse('store', 'Anthropic does not store completions');
  if (request.temperature != null && request.temperature > ANTHROPIC_MAX_TEMPERATURE) {
    refuse('temperature', `Anthropic accepts temperature from 0 to ${ANTHROPIC_MAX_TEMPERATURE}; got ${request.temperature}`);
  }
  // Fields outside the canonical type can still arrive from a lenient inbound schema.
  const extra = request as unknown as Record<string, unknown>;
  for (const field of ['audio', 'prediction', 'web_search_options', 'functions', 'function_call']) {
    if (extra[field] != null) refuse(field);
  }
  const modalities = extra.modalities;
  if (Array.isArray(modalities) && modalities.some((modality) => modality !== 'text')) {
    refuse('modalities', 'Anthropic answers with text only');
  }
}

function refuse(param: string, reason?: string): never {
  throw new UnsupportedParameterError(param, reason ? `'${param}' is not supported by Anthropic: ${reason}` : `'${param}' is not supported by Anthropic`);
}

/** OpenAI's `minimal` has no Anthropic level below `low`, the nearest documented effort. */
function toAnthropicEffort(effort: NonNullable<ChatCompletionRequest['reasoning_effort']>): AnthropicEffort {
  return effort === 'minimal' ? 'low' : effort;
}

/**
 * json_schema maps to Anthropic's native structured outputs (`output_config.format`). Anthropic
 * has no schema-less JSON mode, so json_object is emulated with one forced tool whose input is
 * any object; response.ts and stream.ts turn that tool call back into message text.
 */
function applyResponseFormat(
  request: ChatCompletionRequest,
  body: AnthropicMessagesRequest,
  outputConfig: AnthropicOutputConfig,
): void {
  const format = request.response_format;
  if (!format || format.type === 'text') return;
  if (format.type === 'json_schema') {
    if (!format.json_schema.schema) refuse('response_format.json_schema.schema', 'a schema is required');
    outputConfig.format = { type: 'json_schema', schema: format.json_schema.schema };
    return;
  }
  if (body.tools) refuse('response_format', "json_object cannot be combined with tools on Anthropic; use json_schema instead");
  body.tools = [
    { name: JSON_RESPONSE_TOOL_NAME, description: 'Respond with a JSON object.', input_schema: { type: 'object' } },
  ];
  body.tool_choice = { type: 'tool', name: JSON_RESPONSE_TOOL_NAME };
}

/** True when the request's answer arrives as the forced json_object tool call. */
export function usesJsonResponseTool(request: ChatCompletionRequest): boolean {
  return request.response_format?.type === 'json_object';
}

function toAnthropicTool(tool: FunctionTool): AnthropicTool {
  const out: AnthropicTool = {
    name: tool.function.name,
    input_schema: tool.function.parameters ?? { type: 'object', properties: {} },
  };
  if (tool.function.description) out.description = tool.function.description;
  if (tool.function.strict === true) out.strict = true;
  return out;
}

function toAnthropicToolChoice(choice: ToolChoice | undefined, parallel: boolean | undefined): AnthropicToolChoice | undefined {
  let out: AnthropicToolChoice | undefined;
  if (choice === 'auto') out = { type: 'auto' };
  else if (choice === 'none') out = { type: 'none' };
  else if (choice === 'required') out = { type: 'any' };
  else if (choice) out = { type: 'tool', name: choice.function.name };
  if (parallel === false && out?.type !== 'none') out = { ...(out ?? { type: 'auto' }), disable_parallel_tool_use: true };
  return out;
}

/**
 * System and developer messages become the top-level `system`; tool results become
 * `tool_result` blocks in a user turn; consecutive turns of one role merge, because Anthropic
 * requires user and assistant to alternate.
 */
function toAnthropicMessages(messages: ChatMessage[]): { system: AnthropicTextBlock[]; messages: AnthropicMessageParam[] } {
  const system: AnthropicTextBlock[] = [];
  const turns: Array<{ role: 'user' | 'assistant'; content: AnthropicRequestBlock[] }> = [];
  const append = (role: 'user' | 'assistant', blocks: AnthropicRequestBlock[]) => {
    const last = turns.at(-1);
    if (last && last.role === role) last.content.push(...blocks);
    else turns.push({ role, content: blocks });
  };

  messages.forEach((message, i) => {
    switch (message.role) {
      case 'system':
      case 'developer':
        // Anthropic rejects empty system text blocks; an empty instruction says nothing.
        system.push(...textBlocks(message.content).filter((block) => block.text !== ''));
        break;
      case 'user':
        append('user', userBlocks(message.content, `messages[${i}]`));
        break;
      case 'assistant':
        append('assistant', assistantBlocks(message, `messages[${i}]`));
        break;
      case 'tool':
        append('user', [
          {
            type: 'tool_result',
            tool_use_id: message.tool_call_id,
            content: typeof message.content === 'string' ? message.content : textBlocks(message.content),
          },
        ]);
        break;
    }
  });

  return {
    system,
    messages: turns.map((turn) => {
      const only = turn.content.length === 1 ? turn.content[0] : undefined;
      return { role: turn.role, content: only?.type === 'text' ? only.text : turn.content };
    }),
  };
}

function textBlocks(content: string | TextPart[]): AnthropicTextBlock[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return content.map((part) => ({ type: 'text', text: part.text }));
}

function userBlocks(content: string | UserContentPart[], path: string): AnthropicRequestBlock[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return content.map((part, j): AnthropicRequestBlock => {
    switch (part.type) {
      case 'text':
        return { type: 'text', text: part.text };
      case 'image_url':
        return imageBlock(part.image_url.url, `${path}.content[${j}].image_url.url`);
      case 'file':
        return documentBlock(part, `${path}.content[${j}].file.file_data`);
      default:
        throw new UnsupportedParameterError(`${path}.content[${j}]`, `'${part.type}' parts are not supported by Anthropic`);
    }
  });
}

const DATA_URL = /^data:([^;,]+);base64,(.*)$/s;

/** A PDF (or plain text) file part → a base64 `document` block, titled with its filename. */
function documentBlock(part: FilePart, path: string): AnthropicDocumentBlock {
  const data = DATA_URL.exec(part.file.file_data ?? '');
  if (!data?.[1] || data[2] === undefined) throw new UnsupportedParameterError(path, `'${path}' must be a base64 data: URL`);
  const block: AnthropicDocumentBlock = { type: 'document', source: { type: 'base64', media_type: data[1], data: data[2] } };
  if (part.file.filename) block.title = part.file.filename;
  return block;
}

function imageBlock(url: string, path: string): AnthropicImageBlock {
  const data = DATA_URL.exec(url);
  if (data?.[1] && data[2] !== undefined) return { type: 'image', source: { type: 'base64', media_type: data[1], data: data[2] } };
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  throw new UnsupportedParameterError(path, `'${path}' must be an https URL or a base64 data: URL`);
}

function assistantBlocks(message: AssistantMessage, path: string): AnthropicRequestBlock[] {
  const blocks: AnthropicRequestBlock[] = [];
  if (message.content != null) {
    // Anthropic rejects empty text blocks, which OpenAI clients send beside tool calls.
    blocks.push(...textBlocks(message.content).filter((block) => block.text !== ''));
  }
  if (blocks.length === 0 && message.refusal) blocks.push({ type: 'text', text: message.refusal });
  (message.tool_calls ?? []).forEach((call, k) => {
    blocks.push({ type: 'tool_use', id: call.id, name: call.function.name, input: parseArguments(call.function.arguments, `${path}.tool_calls[${k}].function.arguments`) });
  });
  return blocks;
}

function parseArguments(text: string, path: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    throw new UnsupportedParameterError(path, `'${path}' is not valid JSON, and Anthropic needs tool input as a JSON object`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new UnsupportedParameterError(path, `'${path}' must be a JSON object for Anthropic tool input`);
  }
  return parsed as Record<string, unknown>;
}
