// Canonical request → an OpenAI-compatible provider's request: passthrough, minus what the preset
// refuses, plus usage on every stream so the router can meter.

import type { ChatCompletionRequest } from '../openai-chat.js';
import { UnsupportedParameterError, type UpstreamRequest, type UpstreamTarget } from '../provider-adapter.js';
import { endpointUrl, jsonHeaders } from './api.js';
import type { OpenAICompatiblePreset, PresetFeature } from './presets.js';

/** The parameter a request uses for each feature, or undefined when it does not use it. */
const FEATURE_USE: Record<PresetFeature, (r: ChatCompletionRequest) => string | undefined> = {
  tools: (r) => (r.tools?.length ? 'tools' : r.tool_choice !== undefined && r.tool_choice !== 'none' ? 'tool_choice' : undefined),
  'response_format.json_schema': (r) => (r.response_format?.type === 'json_schema' ? 'response_format' : undefined),
  'response_format.json_object': (r) => (r.response_format?.type === 'json_object' ? 'response_format' : undefined),
  n: (r) => (r.n != null && r.n > 1 ? 'n' : undefined),
  logprobs: (r) => (r.logprobs ? 'logprobs' : r.top_logprobs != null ? 'top_logprobs' : undefined),
  logit_bias: (r) => (r.logit_bias && Object.keys(r.logit_bias).length > 0 ? 'logit_bias' : undefined),
  presence_penalty: (r) => (r.presence_penalty ? 'presence_penalty' : undefined),
  frequency_penalty: (r) => (r.frequency_penalty ? 'frequency_penalty' : undefined),
  seed: (r) => (r.seed != null ? 'seed' : undefined),
  reasoning_effort: (r) => (r.reasoning_effort != null ? 'reasoning_effort' : undefined),
  top_k: (r) => (r.top_k != null ? 'top_k' : undefined),
};

const OPENAI_PLATFORM_FIELDS = ['store', 'metadata', 'service_tier'] as const;

export function assertSupported(preset: OpenAICompatiblePreset, request: ChatCompletionRequest): void {
  for (const feature of preset.unsupported) {
    const param = FEATURE_USE[feature](request);
    if (param) throw new UnsupportedParameterError(param, `'${param}' (${feature}) is not supported by ${preset.displayName}`);
  }
}

/** Anthropic's thinking budget as OpenAI's nearest effort (the budgets Google maps its efforts to: 1024, 8192, 24576). */
export function effortForBudget(budget: number): 'low' | 'medium' | 'high' {
  return budget < 4096 ? 'low' : budget < 16384 ? 'medium' : 'high';
}

export function buildChatBody(preset: OpenAICompatiblePreset, canonical: ChatCompletionRequest): Record<string, unknown> {
  const { thinking_budget: budget, ...request } = canonical;
  const reasons = !preset.reasoningModels || preset.reasoningModels.test(request.model);
  if (budget != null && request.reasoning_effort == null && reasons) request.reasoning_effort = effortForBudget(budget);
  assertSupported(preset, request);
  const fields = request as Record<string, unknown>;
  const setsMaxTokens = preset.maxTokensField !== 'passthrough';
  const renamed = preset.renamedFields;
  // What the provider gets in the caller's order, minus what the preset sets itself (stream options,
  // its max-tokens field), refuses (platform fields) or renames; those follow, in that order. Built
  // without deleting anything, which would leave V8 a slow dictionary object to serialise.
  const body: Record<string, unknown> = {};
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    // Nulls mean "unset" on the canonical wire; strict servers (Mistral) refuse them.
    if (value === null || value === undefined || key === 'stream_options') continue;
    if (key === 'stream') {
      if (value) body.stream = true;
      continue;
    }
    if (setsMaxTokens && (key === 'max_tokens' || key === 'max_completion_tokens')) continue;
    if (!preset.openaiPlatformFields && (OPENAI_PLATFORM_FIELDS as readonly string[]).includes(key)) continue;
    if (renamed && Object.hasOwn(renamed, key)) continue;
    body[key] = value;
  }
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (setsMaxTokens && maxTokens != null) body[preset.maxTokensField] = maxTokens;
  if (request.stream && preset.streamOptions) body.stream_options = { include_usage: true };
  if (renamed) {
    for (const [from, to] of Object.entries(renamed)) {
      const value = fields[from];
      if (value !== null && value !== undefined) body[to] = value;
    }
  }
  return body;
}

export function buildChatRequest(
  preset: OpenAICompatiblePreset,
  request: ChatCompletionRequest,
  target: UpstreamTarget,
): UpstreamRequest {
  const headers = jsonHeaders(preset, target);
  if (request.stream) headers.accept = 'text/event-stream';
  return {
    method: 'POST',
    url: endpointUrl(preset, target, 'chat/completions', request.model),
    headers,
    body: buildChatBody(preset, request),
  };
}
