// OpenAI embeddings requests → Gemini `embedContent` (one text) or `batchEmbedContents` (many).

import type { EmbeddingsRequest, EmbeddingsResponse } from '../openai-chat.js';
import { MalformedUpstreamResponse, UnsupportedParameterError, type EmbeddingsAdapter } from '../provider-adapter.js';
import { geminiHeaders, methodUrl, modelResource } from './api.js';
import { optionalTokenCount } from '../json-guards.js';
import { isObject, type JsonObject } from './wire.js';

function texts(input: EmbeddingsRequest['input']): string[] {
  const list = Array.isArray(input) ? input : [input];
  if (list.some((item) => typeof item !== 'string')) {
    throw new UnsupportedParameterError('input', 'Gemini embeds text; token arrays are not supported');
  }
  return list as string[];
}

function embedRequest(model: string, text: string, dimensions: number | undefined): JsonObject {
  const request: JsonObject = { model: modelResource(model), content: { parts: [{ text }] } };
  if (dimensions !== undefined) request.outputDimensionality = dimensions;
  return request;
}

function base64(values: number[]): string {
  return Buffer.from(new Float32Array(values).buffer).toString('base64');
}

export const geminiEmbeddingsAdapter: EmbeddingsAdapter = {
  buildRequest(request, target) {
    const inputs = texts(request.input);
    const single = typeof request.input === 'string';
    return {
      method: 'POST',
      url: methodUrl(target, request.model, single ? 'embedContent' : 'batchEmbedContents'),
      headers: geminiHeaders(target),
      body: single
        ? embedRequest(request.model, inputs[0]!, request.dimensions)
        : { requests: inputs.map((text) => embedRequest(request.model, text, request.dimensions)) },
    };
  },
  parseResponse(body, request): EmbeddingsResponse {
    if (!isObject(body)) throw new MalformedUpstreamResponse('Gemini answered embeddings with something that is not an object');
    const embeddings = Array.isArray(body.embeddings) ? body.embeddings : isObject(body.embedding) ? [body.embedding] : undefined;
    if (!embeddings) throw new MalformedUpstreamResponse('Gemini answered without embeddings');
    // Gemini reports no token counts for embeddings unless usageMetadata is present.
    const usage = isObject(body.usageMetadata) ? body.usageMetadata : {};
    const tokens = optionalTokenCount(usage.promptTokenCount, 'usageMetadata.promptTokenCount') ?? 0;
    return {
      object: 'list',
      data: embeddings.map((embedding, index) => {
        const values = isObject(embedding) ? embedding.values : undefined;
        if (!Array.isArray(values) || !values.every((v) => typeof v === 'number')) throw new MalformedUpstreamResponse('Gemini answered an embedding without a list of numbers');
        return { object: 'embedding', index, embedding: request.encoding_format === 'base64' ? base64(values) : values };
      }),
      model: request.model,
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    };
  },
};
