// The contract every provider folder implements. Adapters are pure: they build the upstream HTTP
// request and translate what comes back. The router owns the network (undici pools, timeouts,
// aborts, failover) and the inbound formats.

import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  EmbeddingsRequest,
  EmbeddingsResponse,
} from './openai-chat.js';

/** Where and as whom to call: one provider key, resolved by the router. */
export interface UpstreamTarget {
  /** The key's base URL, or the provider's default. No trailing slash. */
  baseUrl: string;
  /** The decrypted provider key; empty for keyless local servers (Ollama, vLLM). */
  apiKey: string;
  /** Provider-specific options stored with the key (e.g. Azure `apiVersion`). */
  options?: Record<string, string>;
}

export interface UpstreamRequest {
  method: 'GET' | 'POST';
  /** Absolute URL. */
  url: string;
  headers: Record<string, string>;
  /** JSON-serialisable body; undefined for GET. */
  body?: unknown;
}

/** One Server-Sent Event as read off the upstream stream. */
export interface SseEvent {
  event?: string;
  data: string;
  id?: string;
}

/** Translates a provider's stream into canonical chunks, one upstream event at a time. */
export interface StreamTranslator {
  /** Returns the canonical chunks this event produces (often zero or one). Throws UpstreamStreamError on an error event. */
  push(event: SseEvent): ChatCompletionChunk[];
  /** Called when the upstream stream ends; returns any final chunks (e.g. the usage chunk). */
  end(): ChatCompletionChunk[];
}

/** How the request is framed upstream when streaming. */
export type StreamFraming = 'sse' | 'ndjson';

/**
 * A request feature that reaches state kept under the provider account (an uploaded file, a
 * container, a custom skill): refused on org and team keys, whose account many people share.
 */
export interface AccountStateUse {
  /** Where in the request, as the caller wrote it: `messages[0].content[1].source.file_id`. */
  param: string;
  /** Why it reaches shared state, in words for the caller. */
  reason: string;
}

/** What a provider accepts as a model id, when the id lands in its URLs (Gemini, Azure deployments). */
export interface ModelIdRule {
  pattern: RegExp;
  /** The rule in words, for the 400 that refuses any other id. */
  rule: string;
}

export interface ChatCompletionsAdapter {
  /** Build the upstream request. Throws UnsupportedParameterError for a field this provider cannot honour. */
  buildRequest(request: ChatCompletionRequest, target: UpstreamTarget): UpstreamRequest;
  /** Translate a successful non-streaming response body (already JSON-parsed). */
  parseResponse(body: unknown, request: ChatCompletionRequest): ChatCompletion;
  /**
   * A translator for one streaming response. It must always produce a final usage chunk
   * (choices: [], usage set) when the provider reports usage, whether or not the caller asked
   * for it: the router strips it when `stream_options.include_usage` was not set, and meters it.
   */
  createStreamTranslator(request: ChatCompletionRequest): StreamTranslator;
  streamFraming?: StreamFraming;
  /** Parts of the request that reach state stored under the provider account, if this provider has any. */
  accountState?(request: ChatCompletionRequest): AccountStateUse[];
}

export interface EmbeddingsAdapter {
  buildRequest(request: EmbeddingsRequest, target: UpstreamTarget): UpstreamRequest;
  parseResponse(body: unknown, request: EmbeddingsRequest): EmbeddingsResponse;
}

export interface ModelListAdapter {
  buildRequest(target: UpstreamTarget): UpstreamRequest;
  /** Provider-local model ids (without the `provider:` prefix). */
  parseResponse(body: unknown): string[];
}

/** A provider's error body turned into words the caller can act on. */
export interface UpstreamErrorDetail {
  message: string;
  /** The provider's own error type or code, if it gave one. */
  type?: string;
}

export interface ProviderAdapter {
  /** The model-id prefix and the `--provider` name: `openai`, `anthropic`, `gemini`, `groq`, … */
  id: string;
  displayName: string;
  /** The wire it speaks: on `openai`, fields Keyward does not know pass through for the provider to judge. */
  wire: 'openai' | 'anthropic' | 'gemini';
  /** What the provider's official SDK takes as its base URL; a key's base URL overrides it. */
  defaultBaseUrl: string;
  /** Local servers (Ollama, vLLM) work without a key. */
  apiKeyRequired: boolean;
  /** Set when the model id becomes part of the provider's URLs: ids that do not match are refused. */
  modelId?: ModelIdRule;
  chat: ChatCompletionsAdapter;
  embeddings?: EmbeddingsAdapter;
  models?: ModelListAdapter;
  /** Models to list when the provider has no list endpoint. */
  staticModels?: string[];
  parseError(status: number, body: unknown): UpstreamErrorDetail;
}

/** A request field the provider cannot honour: the router answers 400 naming `param`. */
export class UnsupportedParameterError extends Error {
  constructor(
    readonly param: string,
    message?: string,
  ) {
    super(message ?? `'${param}' is not supported by this provider`);
    this.name = 'UnsupportedParameterError';
  }
}

/**
 * The provider answered something its API does not: not JSON, or JSON of the wrong shape. Thrown by
 * adapters reading an answer; the router answers 502 `upstream_bad_response` and tries the next key.
 */
export class MalformedUpstreamResponse extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedUpstreamResponse';
  }
}

/** The provider reported an error inside an otherwise successful stream. */
export class UpstreamStreamError extends Error {
  constructor(
    message: string,
    readonly type?: string,
  ) {
    super(message);
    this.name = 'UpstreamStreamError';
  }
}
