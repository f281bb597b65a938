// The embeddings endpoint is the OpenAI wire on every preset that has one: forward, then normalise.

import type { EmbeddingsRequest, EmbeddingsResponse } from '../openai-chat.js';
import { MalformedUpstreamResponse, type EmbeddingsAdapter } from '../provider-adapter.js';
import { endpointUrl, jsonHeaders } from './api.js';
import type { OpenAICompatiblePreset } from './presets.js';
import { optionalTokenCount } from '../json-guards.js';
import { isObject, optionalNumber, optionalObject, requiredObjects, str } from './wire.js';

/** A vector of numbers, or the base64 string asked for with `encoding_format: "base64"`. */
function embeddingOf(value: unknown): number[] | string {
  if (typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'number'))) return value as number[] | string;
  throw new MalformedUpstreamResponse('data[].embedding is neither a list of numbers nor base64');
}

export function embeddingsAdapter(preset: OpenAICompatiblePreset): EmbeddingsAdapter {
  return {
    buildRequest(request, target) {
      const body: Record<string, unknown> = { ...request };
      if (!preset.openaiPlatformFields) delete body.user;
      return {
        method: 'POST',
        url: endpointUrl(preset, target, 'embeddings', request.model),
        headers: jsonHeaders(preset, target),
        body,
      };
    },
    parseResponse(body, request) {
      return parseEmbeddingsResponse(body, request);
    },
  };
}

export function parseEmbeddingsResponse(body: unknown, request: EmbeddingsRequest): EmbeddingsResponse {
  if (!isObject(body) || !Array.isArray(body.data)) throw new MalformedUpstreamResponse('upstream answered without a data array');
  const usage = optionalObject(body.usage, 'usage') ?? {};
  const prompt = optionalTokenCount(usage.prompt_tokens, 'usage.prompt_tokens') ?? 0;
  return {
    object: 'list',
    data: requiredObjects(body.data, 'data').map((item, i) => ({
      object: 'embedding',
      index: optionalNumber(item.index, 'data[].index') ?? i,
      embedding: embeddingOf(item.embedding),
    })),
    model: str(body.model) || request.model,
    usage: { prompt_tokens: prompt, total_tokens: optionalTokenCount(usage.total_tokens, 'usage.total_tokens') ?? prompt },
  };
}
