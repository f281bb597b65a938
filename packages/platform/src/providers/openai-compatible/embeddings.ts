// The embeddings endpoint is the OpenAI wire on every preset that has one: forward, then normalise.

import type { EmbeddingsRequest, EmbeddingsResponse } from '../openai-chat.js';
import type { EmbeddingsAdapter } from '../provider-adapter.js';
import { endpointUrl, jsonHeaders } from './api.js';
import type { OpenAICompatiblePreset } from './presets.js';
import { MalformedUpstreamResponse } from './response.js';
import { isObject, num, str } from './wire.js';

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
  const usage = isObject(body.usage) ? body.usage : {};
  const prompt = num(usage.prompt_tokens) ?? 0;
  return {
    object: 'list',
    data: body.data.filter(isObject).map((item, i) => ({
      object: 'embedding',
      index: num(item.index) ?? i,
      embedding: Array.isArray(item.embedding) || typeof item.embedding === 'string' ? (item.embedding as number[] | string) : [],
    })),
    model: str(body.model) || request.model,
    usage: { prompt_tokens: prompt, total_tokens: num(usage.total_tokens) ?? prompt },
  };
}
