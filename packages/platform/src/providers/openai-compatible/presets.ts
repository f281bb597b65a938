// Every provider that speaks the OpenAI Chat Completions wire, as one row each. Adding such a
// provider is adding a row here; the adapter in ./adapter.ts turns each row into a ProviderAdapter.

import type { ModelIdRule } from '../provider-adapter.js';

/** Request features a provider refuses with a 400 (from its own API reference), named as the caller wrote them. */
export type PresetFeature =
  | 'tools'
  | 'response_format.json_schema'
  | 'response_format.json_object'
  | 'n'
  | 'logprobs'
  | 'logit_bias'
  | 'presence_penalty'
  | 'frequency_penalty'
  | 'seed'
  | 'reasoning_effort'
  | 'top_k';

export interface OpenAICompatiblePreset {
  id: string;
  displayName: string;
  /** What the provider's official (or the OpenAI) SDK takes as its base URL. Empty when there is no shared endpoint. */
  defaultBaseUrl: string;
  apiKeyRequired: boolean;
  /** `bearer`: `Authorization: Bearer`; `azure`: `api-key` header and deployment URLs. */
  wire: 'bearer' | 'azure';
  /**
   * Which output-length field goes upstream: OpenAI's reasoning models accept only
   * `max_completion_tokens`; most other servers only know `max_tokens`; `passthrough` forwards
   * whichever the caller sent (Azure: deployment names hide which model answers).
   */
  maxTokensField: 'max_tokens' | 'max_completion_tokens' | 'passthrough';
  /** The provider accepts `stream_options.include_usage`; without it, usage arrives on the last chunk anyway. */
  streamOptions: boolean;
  unsupported: readonly PresetFeature[];
  /** Canonical field → the provider's name for it. */
  renamedFields?: Readonly<Record<string, string>>;
  /** OpenAI-platform-only fields (`store`, `metadata`, `service_tier`) are forwarded, not dropped. */
  openaiPlatformFields: boolean;
  embeddings: boolean;
  models: boolean;
  staticModels?: readonly string[];
  /** Set when the model id lands in the URL (Azure deployment names). */
  modelId?: ModelIdRule;
  /**
   * The models that take `reasoning_effort`, when the provider refuses it from the others. An
   * Anthropic-wire thinking budget becomes an effort only for these and is dropped otherwise (a
   * hint the model cannot follow); an effort the caller sent itself is always forwarded.
   */
  reasoningModels?: RegExp;
}

/** Azure OpenAI's latest GA data-plane inference version; a key's `apiVersion` option overrides it. */
export const AZURE_DEFAULT_API_VERSION = '2024-10-21';

const bearer = {
  apiKeyRequired: true,
  wire: 'bearer',
  maxTokensField: 'max_tokens',
  streamOptions: true,
  unsupported: [],
  openaiPlatformFields: false,
  embeddings: false,
  models: true,
} as const satisfies Partial<OpenAICompatiblePreset>;

export const OPENAI_COMPATIBLE_PRESETS: readonly OpenAICompatiblePreset[] = [
  {
    ...bearer,
    id: 'openai',
    displayName: 'OpenAI',
    defaultBaseUrl: 'https://api.openai.com/v1',
    // `max_tokens` is deprecated and refused by o-series and gpt-5 models; every model accepts this one.
    maxTokensField: 'max_completion_tokens',
    // OpenAI samples by top_p only and refuses top_k as an unknown argument.
    unsupported: ['top_k'],
    openaiPlatformFields: true,
    embeddings: true,
    // o1, o3, o4-mini…, gpt-5 and its variants, codex-mini; gpt-4o, gpt-4.1 and gpt-3.5 refuse reasoning_effort.
    reasoningModels: /^(o\d|gpt-5|codex)/i,
  },
  {
    ...bearer,
    id: 'azure',
    displayName: 'Azure OpenAI',
    // Every Azure resource has its own host: the key must carry `https://{resource}.openai.azure.com`.
    defaultBaseUrl: '',
    wire: 'azure',
    maxTokensField: 'passthrough',
    unsupported: ['top_k'],
    openaiPlatformFields: true,
    embeddings: true,
    // The resource's model list names base models, not the deployments a caller addresses.
    models: false,
    // The model id is the deployment name, a path segment of every deployment URL.
    modelId: {
      pattern: /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/,
      rule: 'an Azure deployment name is letters, digits, ".", "-" and "_" (at most 64)',
    },
  },
  {
    ...bearer,
    id: 'groq',
    displayName: 'Groq',
    defaultBaseUrl: 'https://api.groq.com/openai/v1',
    maxTokensField: 'max_completion_tokens',
    // Groq's OpenAI-compatibility page: these return 400, and n must be 1.
    unsupported: ['logprobs', 'logit_bias', 'n'],
  },
  {
    ...bearer,
    id: 'mistral',
    displayName: 'Mistral AI',
    defaultBaseUrl: 'https://api.mistral.ai/v1',
    // Mistral validates strictly (422 on unknown fields) and always reports usage on the last chunk.
    streamOptions: false,
    unsupported: ['logprobs', 'logit_bias', 'reasoning_effort'],
    renamedFields: { seed: 'random_seed' },
    embeddings: true,
  },
  {
    ...bearer,
    id: 'deepseek',
    displayName: 'DeepSeek',
    defaultBaseUrl: 'https://api.deepseek.com',
    unsupported: ['response_format.json_schema', 'logit_bias', 'n'],
  },
  { ...bearer, id: 'xai', displayName: 'xAI', defaultBaseUrl: 'https://api.x.ai/v1', maxTokensField: 'max_completion_tokens' },
  { ...bearer, id: 'openrouter', displayName: 'OpenRouter', defaultBaseUrl: 'https://openrouter.ai/api/v1' },
  { ...bearer, id: 'together', displayName: 'Together AI', defaultBaseUrl: 'https://api.together.xyz/v1', embeddings: true },
  {
    ...bearer,
    id: 'fireworks',
    displayName: 'Fireworks AI',
    defaultBaseUrl: 'https://api.fireworks.ai/inference/v1',
    embeddings: true,
  },
  {
    ...bearer,
    id: 'cerebras',
    displayName: 'Cerebras',
    defaultBaseUrl: 'https://api.cerebras.ai/v1',
    maxTokensField: 'max_completion_tokens',
    unsupported: ['logit_bias', 'presence_penalty', 'frequency_penalty'],
  },
  {
    ...bearer,
    id: 'perplexity',
    displayName: 'Perplexity',
    defaultBaseUrl: 'https://api.perplexity.ai',
    // Sonar models answer from search: no tool calling, only json_schema structured output.
    unsupported: ['tools', 'response_format.json_object', 'logprobs', 'logit_bias', 'n'],
    models: false,
    staticModels: ['sonar', 'sonar-pro', 'sonar-reasoning', 'sonar-reasoning-pro', 'sonar-deep-research'],
  },
  {
    ...bearer,
    id: 'ollama',
    displayName: 'Ollama',
    defaultBaseUrl: 'http://localhost:11434/v1',
    apiKeyRequired: false,
    unsupported: ['logit_bias', 'n'],
    embeddings: true,
  },
  {
    ...bearer,
    id: 'vllm',
    displayName: 'vLLM',
    defaultBaseUrl: 'http://localhost:8000/v1',
    apiKeyRequired: false,
    embeddings: true,
  },
  {
    // Any other server that speaks the OpenAI wire (LM Studio, llama.cpp, LocalAI, an internal
    // gateway): the key must say where it is.
    ...bearer,
    id: 'openai-compatible',
    displayName: 'OpenAI-compatible server',
    defaultBaseUrl: '',
    apiKeyRequired: false,
    embeddings: true,
  },
];
