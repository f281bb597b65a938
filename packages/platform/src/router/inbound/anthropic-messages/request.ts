// Anthropic Messages request → canonical request, so an Anthropic SDK client can reach any
// provider. `model` stays exactly as sent ("openai:gpt-4o"): the router splits the prefix.
// Whatever has no canonical counterpart is refused by name; only hints that cannot change the
// answer (cache_control, service_tier, earlier thinking blocks) are dropped.

import type {
  AssistantMessage,
  ChatCompletionRequest,
  ChatMessage,
  FilePart,
  FunctionTool,
  ImagePart,
  TextPart,
  ToolCall,
  ToolChoice,
  UserContentPart,
} from '../../../providers/openai-chat.js';
import { UnsupportedParameterError } from '../../../providers/provider-adapter.js';
import type { AnthropicMessagesRequest, AnthropicTool, AnthropicToolChoice } from '../../../providers/anthropic/wire.js';
import { KNOWN_MESSAGES_FIELDS } from './schema.js';

type Block = { type: string } & Record<string, unknown>;

export function anthropicToChatRequest(body: AnthropicMessagesRequest): ChatCompletionRequest {
  refuseUntranslatable(body);
  const request: ChatCompletionRequest = {
    model: body.model,
    messages: [...systemMessages(body.system), ...body.messages.flatMap((message, i) => toChatMessages(message.role, message.content, i))],
    max_tokens: body.max_tokens,
  };
  if (body.temperature != null) request.temperature = body.temperature;
  if (body.top_p != null) request.top_p = body.top_p;
  if (body.top_k != null) request.top_k = body.top_k;
  // Adaptive thinking leaves the depth to the model, as every reasoning model does by default.
  if (body.thinking?.type === 'enabled') request.thinking_budget = body.thinking.budget_tokens;
  if (body.stop_sequences && body.stop_sequences.length > 0) request.stop = body.stop_sequences;
  if (body.metadata?.user_id) request.user = body.metadata.user_id;
  if (body.tools && body.tools.length > 0) request.tools = body.tools.map(toFunctionTool);
  if (body.tool_choice) {
    request.tool_choice = toToolChoice(body.tool_choice);
    if ('disable_parallel_tool_use' in body.tool_choice && body.tool_choice.disable_parallel_tool_use) request.parallel_tool_calls = false;
  }
  const format = body.output_config?.format;
  if (format) request.response_format = { type: 'json_schema', json_schema: { name: 'output', schema: format.schema, strict: true } };
  const effort = body.output_config?.effort;
  if (effort) request.reasoning_effort = effort as 'low' | 'medium' | 'high';
  if (body.stream) {
    request.stream = true;
    // The encoder needs the usage chunk for message_delta.usage, whatever the provider.
    request.stream_options = { include_usage: true };
  }
  return request;
}

function refuseUntranslatable(body: AnthropicMessagesRequest): void {
  for (const field of Object.keys(body)) {
    if (!KNOWN_MESSAGES_FIELDS.has(field)) refuse(field, 'Keyward does not know this field, so it can pass it only to Anthropic models');
  }
  const native = body as { container?: unknown; mcp_servers?: unknown[] };
  if (native.container != null) refuse('container', 'code-execution containers exist only on Anthropic');
  if (native.mcp_servers?.length) refuse('mcp_servers', 'the MCP connector exists only on Anthropic');
  const effort = body.output_config?.effort;
  if (effort && effort !== 'low' && effort !== 'medium' && effort !== 'high') {
    refuse('output_config.effort', `'${effort}' has no canonical counterpart (low, medium, high)`);
  }
  const format = body.output_config?.format as { type?: string; schema?: unknown } | null | undefined;
  if (format && (format.type !== 'json_schema' || typeof format.schema !== 'object' || format.schema === null)) {
    refuse('output_config.format', 'only {type: "json_schema", schema} is supported');
  }
}

function refuse(param: string, reason: string): never {
  throw new UnsupportedParameterError(param, `'${param}' cannot be translated: ${reason}`);
}

function systemMessages(system: AnthropicMessagesRequest['system']): ChatMessage[] {
  if (system === undefined) return [];
  if (typeof system === 'string') return system === '' ? [] : [{ role: 'system', content: system }];
  const parts = (system as unknown as Block[]).map((block, j) => textPart(block, `system[${j}]`));
  return parts.length === 0 ? [] : [{ role: 'system', content: parts }];
}

function toChatMessages(role: 'user' | 'assistant', content: string | unknown[], i: number): ChatMessage[] {
  if (typeof content === 'string') return [{ role, content }];
  const blocks = content as Block[];
  return role === 'user' ? userMessages(blocks, i) : [assistantMessage(blocks, i)];
}

/** Tool results come first as tool messages (OpenAI wants them right after the tool calls); the rest is one user message. */
function userMessages(blocks: Block[], i: number): ChatMessage[] {
  const tools: ChatMessage[] = [];
  const parts: UserContentPart[] = [];
  blocks.forEach((block, j) => {
    const path = `messages[${i}].content[${j}]`;
    if (block.type === 'tool_result') tools.push(toolMessage(block, path));
    else if (block.type === 'text') parts.push(textPart(block, path));
    else if (block.type === 'image') parts.push(imagePart(block, path));
    else if (block.type === 'document') parts.push(filePart(block, path));
    else refuse(path, `content blocks of type '${block.type}' have no canonical counterpart`);
  });
  return parts.length > 0 ? [...tools, { role: 'user', content: parts }] : tools;
}

// is_error is dropped: the OpenAI wire has no flag for it, and the result text says what failed.
function toolMessage(block: Block, path: string): ChatMessage {
  const id = block.tool_use_id as string;
  const content = block.content as string | Block[] | undefined;
  if (content === undefined || typeof content === 'string') return { role: 'tool', tool_call_id: id, content: content ?? '' };
  const parts = content.map((inner, k) => {
    if (inner.type !== 'text') refuse(`${path}.content[${k}]`, `'${inner.type}' blocks inside tool_result have no canonical counterpart`);
    return textPart(inner, `${path}.content[${k}]`);
  });
  return { role: 'tool', tool_call_id: id, content: parts };
}

function assistantMessage(blocks: Block[], i: number): AssistantMessage {
  const texts: TextPart[] = [];
  const calls: ToolCall[] = [];
  blocks.forEach((block, j) => {
    const path = `messages[${i}].content[${j}]`;
    if (block.type === 'text') texts.push(textPart(block, path));
    else if (block.type === 'tool_use') {
      calls.push({ id: block.id as string, type: 'function', function: { name: block.name as string, arguments: JSON.stringify(block.input ?? {}) } });
    } else if (block.type === 'thinking' || block.type === 'redacted_thinking') {
      // Earlier reasoning only matters to Anthropic models, which the passthrough serves natively.
    } else refuse(path, `content blocks of type '${block.type}' have no canonical counterpart`);
  });
  const message: AssistantMessage = {
    role: 'assistant',
    content: texts.length === 0 ? (calls.length > 0 ? null : '') : texts.length === 1 ? (texts[0]?.text ?? '') : texts,
  };
  if (calls.length > 0) message.tool_calls = calls;
  return message;
}

function textPart(block: Block, path: string): TextPart {
  if (block.type !== 'text' || typeof block.text !== 'string') refuse(path, `expected a text block, got '${block.type}'`);
  return { type: 'text', text: block.text as string };
}

function imagePart(block: Block, path: string): ImagePart {
  const source = block.source as { type?: string; media_type?: string; data?: string; url?: string } | undefined;
  if (source?.type === 'base64' && source.media_type && source.data !== undefined) {
    return { type: 'image_url', image_url: { url: `data:${source.media_type};base64,${source.data}` } };
  }
  if (source?.type === 'url' && source.url) return { type: 'image_url', image_url: { url: source.url } };
  return refuse(`${path}.source`, `image sources of type '${source?.type}' have no canonical counterpart (base64 and url do)`);
}

/** A base64 document (a PDF) → an inline file part; url, text and file sources have no canonical counterpart. */
function filePart(block: Block, path: string): FilePart {
  const source = block.source as { type?: string; media_type?: string; data?: string } | undefined;
  if (source?.type !== 'base64' || !source.media_type || source.data === undefined) {
    return refuse(`${path}.source`, `document sources of type '${source?.type}' have no canonical counterpart (base64 does)`);
  }
  const file: FilePart['file'] = { file_data: `data:${source.media_type};base64,${source.data}` };
  if (typeof block.title === 'string') file.filename = block.title;
  return { type: 'file', file };
}

function toFunctionTool(tool: AnthropicTool & { type?: string }, i: number): FunctionTool {
  // Server tools (web_search_…, bash_…, text_editor_…) run inside Anthropic; no other provider has them.
  if (tool.type !== undefined && tool.type !== 'custom') refuse(`tools[${i}]`, `server tool '${tool.type}' runs only on Anthropic`);
  const fn: FunctionTool['function'] = { name: tool.name, parameters: tool.input_schema ?? { type: 'object', properties: {} } };
  if (tool.description) fn.description = tool.description;
  if (tool.strict === true) fn.strict = true;
  return { type: 'function', function: fn };
}

function toToolChoice(choice: AnthropicToolChoice): ToolChoice {
  switch (choice.type) {
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      return { type: 'function', function: { name: choice.name } };
  }
}
