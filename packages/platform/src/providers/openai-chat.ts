// The router's canonical wire: OpenAI Chat Completions. Every inbound format is translated to
// these shapes, and every provider adapter translates from them. Only what Keyward supports is
// typed here; the router's request schema refuses everything else with a 400.

export type JsonSchema = Record<string, unknown>;

export interface TextPart {
  type: 'text';
  text: string;
}

export interface ImagePart {
  type: 'image_url';
  /** An https URL or a `data:<mime>;base64,<data>` URL. */
  image_url: { url: string; detail?: 'auto' | 'low' | 'high' };
}

/** A file the caller sends inline: `file_data` is a `data:<mime>;base64,…` URL (PDFs). `file_id` is refused (stored account state). */
export interface FilePart {
  type: 'file';
  file: { file_data?: string; filename?: string; file_id?: string };
}

export interface AudioPart {
  type: 'input_audio';
  /** Base64 audio, without a data: prefix. */
  input_audio: { data: string; format: 'wav' | 'mp3' | (string & {}) };
}

export type UserContentPart = TextPart | ImagePart | FilePart | AudioPart;

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface SystemMessage {
  role: 'system' | 'developer';
  content: string | TextPart[];
  name?: string;
}

export interface UserMessage {
  role: 'user';
  content: string | UserContentPart[];
  name?: string;
}

export interface AssistantMessage {
  role: 'assistant';
  content?: string | TextPart[] | null;
  tool_calls?: ToolCall[];
  refusal?: string | null;
  name?: string;
}

export interface ToolMessage {
  role: 'tool';
  content: string | TextPart[];
  tool_call_id: string;
}

export type ChatMessage = SystemMessage | UserMessage | AssistantMessage | ToolMessage;

export interface FunctionTool {
  type: 'function';
  function: { name: string; description?: string; parameters?: JsonSchema; strict?: boolean };
}

export type ToolChoice = 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | {
      type: 'json_schema';
      json_schema: { name: string; description?: string; schema?: JsonSchema; strict?: boolean | null };
    };

export interface ChatCompletionRequest {
  /** The provider's own model id: the router has already removed the `provider:` prefix. */
  model: string;
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean } | null;
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  /** Not OpenAI's: arrives from the Anthropic wire; Anthropic and Gemini honour it, OpenAI refuses it. */
  top_k?: number | null;
  /**
   * Not OpenAI's: Anthropic's `thinking.budget_tokens`. Gemini takes it as thinkingBudget (and
   * returns its thoughts), OpenAI-wire providers as the nearest reasoning_effort.
   */
  thinking_budget?: number | null;
  stop?: string | string[] | null;
  tools?: FunctionTool[];
  tool_choice?: ToolChoice;
  parallel_tool_calls?: boolean;
  response_format?: ResponseFormat;
  n?: number | null;
  presence_penalty?: number | null;
  frequency_penalty?: number | null;
  seed?: number | null;
  user?: string;
  logprobs?: boolean | null;
  top_logprobs?: number | null;
  logit_bias?: Record<string, number> | null;
  reasoning_effort?: 'minimal' | 'low' | 'medium' | 'high' | null;
  metadata?: Record<string, string> | null;
  store?: boolean | null;
  service_tier?: string | null;
  /** Advisory on OpenAI's platform: routing hints for its prompt cache and abuse detection. */
  prompt_cache_key?: string | null;
  safety_identifier?: string | null;
  verbosity?: 'low' | 'medium' | 'high' | null;
  modalities?: string[] | null;
  audio?: Record<string, unknown> | null;
  prediction?: Record<string, unknown> | null;
  web_search_options?: Record<string, unknown> | null;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** `cache_write_tokens` (not OpenAI's; Anthropic cache writes) is set only when non-zero: they cost more than input. */
  prompt_tokens_details?: { cached_tokens?: number; cache_write_tokens?: number };
  completion_tokens_details?: { reasoning_tokens?: number };
  /** Not OpenAI's: server-side web searches the provider ran (Anthropic), each billed a fee; set only when non-zero. */
  web_search_requests?: number;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    /** `reasoning_content`: thinking text a provider returned (Gemini thoughts), for callers whose format has a place for it. */
    message: { role: 'assistant'; content: string | null; tool_calls?: ToolCall[]; refusal?: string | null; reasoning_content?: string };
    finish_reason: FinishReason;
    logprobs: null;
  }>;
  usage?: Usage;
  system_fingerprint?: string | null;
}

export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    delta: { role?: 'assistant'; content?: string | null; tool_calls?: ToolCallDelta[]; refusal?: string | null; reasoning_content?: string };
    finish_reason: FinishReason | null;
    logprobs?: null;
  }>;
  /** Present (possibly null) only when the caller asked for `stream_options.include_usage`. */
  usage?: Usage | null;
  /**
   * Not on the OpenAI wire (its encoder drops it): input tokens a provider reports before the end
   * (Gemini, on every event), so Anthropic's message_start can carry them as Anthropic's does.
   */
  prompt_tokens?: number;
}

export interface EmbeddingsRequest {
  model: string;
  input: string | string[] | number[] | number[][];
  encoding_format?: 'float' | 'base64';
  dimensions?: number;
  user?: string;
}

export interface EmbeddingsResponse {
  object: 'list';
  data: Array<{ object: 'embedding'; index: number; embedding: number[] | string }>;
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}
