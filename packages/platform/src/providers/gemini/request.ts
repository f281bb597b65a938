// Canonical request → Gemini `generateContent`: messages become contents and a systemInstruction,
// tools become functionDeclarations with their JSON Schema as is (`parametersJsonSchema`), and
// sampling fields move into generationConfig. What Gemini cannot honour is refused by name.

import type { ChatCompletionRequest, ChatMessage, ImagePart, TextPart, ToolChoice } from '../openai-chat.js';
import { UnsupportedParameterError, type UpstreamRequest, type UpstreamTarget } from '../provider-adapter.js';
import { geminiHeaders, methodUrl } from './api.js';
import {
  isObject,
  type GeminiContent,
  type GeminiFunctionDeclaration,
  type GeminiGenerationConfig,
  type GeminiPart,
  type GenerateContentRequest,
  type JsonObject,
} from './wire.js';

/**
 * Gemini 3 validates thought signatures on the function calls of the current turn. History written
 * by a client (or another model) has none: Google documents this value to skip that validation.
 */
export const SKIP_THOUGHT_SIGNATURE = 'skip_thought_signature_validator';

/** Google's own OpenAI-compatibility mapping of reasoning_effort onto Gemini 2.5 thinking budgets. */
const THINKING_BUDGETS = { minimal: 1024, low: 1024, medium: 8192, high: 24576 } as const;

const IMAGE_MIME_BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
};

function text(content: string | TextPart[] | null | undefined): string {
  if (content == null) return '';
  return typeof content === 'string' ? content : content.map((part) => part.text).join('');
}

function imagePart(part: ImagePart, param: string): GeminiPart {
  const url = part.image_url.url;
  const dataUrl = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (dataUrl) return { inlineData: { mimeType: dataUrl[1]!, data: dataUrl[2]! } };
  if (url.startsWith('https://')) {
    const extension = /\.([a-z0-9]+)$/i.exec(new URL(url).pathname)?.[1]?.toLowerCase();
    const mimeType = extension ? IMAGE_MIME_BY_EXTENSION[extension] : undefined;
    // Gemini's fileData needs a mime type and Keyward does not fetch callers' URLs to sniff one.
    if (!mimeType) throw new UnsupportedParameterError(param, `cannot tell the image type of ${url}: send a data: URL or a URL ending in .png, .jpg, .webp, .gif, .heic`);
    return { fileData: { mimeType, fileUri: url } };
  }
  throw new UnsupportedParameterError(param, 'Gemini accepts images as data: URLs or https URLs');
}

/** A file part's data: URL → inlineData (Gemini reads PDFs, audio and video inline). */
function inlineFile(url: string, param: string): GeminiPart {
  const dataUrl = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (!dataUrl) throw new UnsupportedParameterError(param, 'Gemini takes files here as base64 data: URLs');
  return { inlineData: { mimeType: dataUrl[1]!, data: dataUrl[2]! } };
}

function functionArgs(argumentsText: string, param: string): JsonObject {
  if (!argumentsText.trim()) return {};
  try {
    const parsed: unknown = JSON.parse(argumentsText);
    if (isObject(parsed)) return parsed;
  } catch {
    // refused below
  }
  throw new UnsupportedParameterError(param, 'tool call arguments must be a JSON object for Gemini');
}

/** Gemini's functionResponse.response is an object: JSON objects pass as is, anything else is wrapped. */
function functionResponse(content: string): JsonObject {
  try {
    const parsed: unknown = JSON.parse(content);
    if (isObject(parsed)) return parsed;
    return { result: parsed };
  } catch {
    return { result: content };
  }
}

export function toGeminiContents(messages: ChatMessage[]): Pick<GenerateContentRequest, 'contents' | 'systemInstruction'> {
  const system: Array<{ text: string }> = [];
  const contents: GeminiContent[] = [];
  // Gemini wants the function NAME with each result; OpenAI history only carries the call id.
  const toolNames = new Map<string, string>();

  messages.forEach((message, i) => {
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push({ text: text(message.content) });
        return;
      case 'user': {
        const parts: GeminiPart[] =
          typeof message.content === 'string'
            ? [{ text: message.content }]
            : message.content.map((part, j): GeminiPart => {
                const param = `messages[${i}].content[${j}]`;
                if (part.type === 'text') return { text: part.text };
                if (part.type === 'image_url') return imagePart(part, `${param}.image_url`);
                if (part.type === 'file') return inlineFile(part.file.file_data ?? '', `${param}.file.file_data`);
                if (part.type === 'input_audio') return { inlineData: { mimeType: `audio/${part.input_audio.format}`, data: part.input_audio.data } };
                throw new UnsupportedParameterError(param, `'${(part as { type: string }).type}' parts are not supported by Gemini`);
              });
        contents.push({ role: 'user', parts });
        return;
      }
      case 'assistant': {
        const parts: GeminiPart[] = [];
        const said = text(message.content);
        if (said) parts.push({ text: said });
        message.tool_calls?.forEach((call, j) => {
          toolNames.set(call.id, call.function.name);
          const part: GeminiPart = {
            functionCall: { name: call.function.name, args: functionArgs(call.function.arguments, `messages[${i}].tool_calls[${j}].function.arguments`) },
          };
          if (j === 0) part.thoughtSignature = SKIP_THOUGHT_SIGNATURE;
          parts.push(part);
        });
        if (parts.length > 0) contents.push({ role: 'model', parts });
        return;
      }
      case 'tool': {
        const name = toolNames.get(message.tool_call_id);
        if (!name) throw new UnsupportedParameterError(`messages[${i}].tool_call_id`, `no earlier assistant tool call has id '${message.tool_call_id}'`);
        const part: GeminiPart = { functionResponse: { name, response: functionResponse(text(message.content)) } };
        const previous = contents.at(-1);
        // Parallel calls are answered by one user turn holding every functionResponse.
        if (previous?.role === 'user' && previous.parts.every((p) => p.functionResponse)) previous.parts.push(part);
        else contents.push({ role: 'user', parts: [part] });
        return;
      }
    }
  });
  return system.length > 0 ? { contents, systemInstruction: { parts: system } } : { contents };
}

function toolConfig(choice: ToolChoice): NonNullable<GenerateContentRequest['toolConfig']> {
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } };
}

function thinkingConfig(model: string, effort: NonNullable<ChatCompletionRequest['reasoning_effort']>): GeminiGenerationConfig['thinkingConfig'] {
  // Gemini 3 takes a level and refuses a budget alongside it; 2.5 only knows budgets.
  if (/^(models\/)?gemini-[3-9]/.test(model)) return { thinkingLevel: effort };
  return { thinkingBudget: THINKING_BUDGETS[effort] };
}

function budgetConfig(model: string, budget: number): GeminiGenerationConfig['thinkingConfig'] {
  if (/^(models\/)?gemini-[3-9]/.test(model)) return { thinkingLevel: budget < 8192 ? 'low' : 'high' };
  return { thinkingBudget: budget };
}

function assertHonourable(request: ChatCompletionRequest): void {
  if (request.logprobs) throw new UnsupportedParameterError('logprobs', "Gemini's logprobs do not map onto OpenAI's; 'logprobs' is not supported");
  if (request.top_logprobs != null) throw new UnsupportedParameterError('top_logprobs');
  if (request.logit_bias && Object.keys(request.logit_bias).length > 0) throw new UnsupportedParameterError('logit_bias', "Gemini has no token biasing; 'logit_bias' is not supported");
  if (request.store === true) throw new UnsupportedParameterError('store', "Gemini does not store completions; 'store' is not supported");
  if (request.modalities?.some((modality) => modality !== 'text')) throw new UnsupportedParameterError('modalities', "Gemini answers with text here; 'modalities' other than text is not supported");
  for (const field of ['audio', 'prediction', 'web_search_options'] as const) {
    if (request[field] != null) throw new UnsupportedParameterError(field, `'${field}' is not supported by Gemini`);
  }
}

export function buildGenerateContentBody(request: ChatCompletionRequest): GenerateContentRequest {
  assertHonourable(request);
  const body: GenerateContentRequest = toGeminiContents(request.messages);

  if (request.tools?.length) {
    body.tools = [
      {
        functionDeclarations: request.tools.map(({ function: fn }) => {
          const declaration: GeminiFunctionDeclaration = { name: fn.name };
          if (fn.description) declaration.description = fn.description;
          if (fn.parameters) declaration.parametersJsonSchema = fn.parameters;
          return declaration;
        }),
      },
    ];
  }
  if (request.tool_choice !== undefined && (request.tools?.length || request.tool_choice === 'none')) body.toolConfig = toolConfig(request.tool_choice);

  const config: GeminiGenerationConfig = {};
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (maxTokens != null) config.maxOutputTokens = maxTokens;
  if (request.temperature != null) config.temperature = request.temperature;
  if (request.top_p != null) config.topP = request.top_p;
  if (request.top_k != null) config.topK = request.top_k;
  if (request.stop != null) config.stopSequences = typeof request.stop === 'string' ? [request.stop] : request.stop;
  if (request.n != null && request.n !== 1) config.candidateCount = request.n;
  if (request.seed != null) config.seed = request.seed;
  if (request.presence_penalty != null) config.presencePenalty = request.presence_penalty;
  if (request.frequency_penalty != null) config.frequencyPenalty = request.frequency_penalty;
  if (request.response_format?.type === 'json_object') config.responseMimeType = 'application/json';
  if (request.response_format?.type === 'json_schema') {
    config.responseMimeType = 'application/json';
    if (request.response_format.json_schema.schema) config.responseJsonSchema = request.response_format.json_schema.schema;
  }
  if (request.reasoning_effort != null) config.thinkingConfig = thinkingConfig(request.model, request.reasoning_effort);
  // An Anthropic-format caller asked for thinking: it gets the budget, and the thoughts back.
  if (request.thinking_budget != null) config.thinkingConfig = { ...budgetConfig(request.model, request.thinking_budget), includeThoughts: true };
  if (Object.keys(config).length > 0) body.generationConfig = config;
  return body;
}

export function buildGenerateContentRequest(request: ChatCompletionRequest, target: UpstreamTarget): UpstreamRequest {
  const headers = geminiHeaders(target);
  if (request.stream) headers.accept = 'text/event-stream';
  return {
    method: 'POST',
    url: methodUrl(target, request.model, request.stream ? 'streamGenerateContent' : 'generateContent'),
    headers,
    body: buildGenerateContentBody(request),
  };
}
