// Gemini `models/{id}:countTokens`: the whole generateContent request (system, tools and all) is
// counted by Gemini itself, so the number is the one the call would be billed.

import type { ChatCompletionRequest } from '../openai-chat.js';
import type { UpstreamRequest, UpstreamTarget } from '../provider-adapter.js';
import { geminiHeaders, methodUrl } from './api.js';
import { buildGenerateContentBody } from './request.js';
import { isObject, num } from './wire.js';

export function buildCountTokensRequest(request: ChatCompletionRequest, target: UpstreamTarget): UpstreamRequest {
  const name = request.model.startsWith('models/') ? request.model : `models/${request.model}`;
  return {
    method: 'POST',
    url: methodUrl(target, request.model, 'countTokens'),
    headers: geminiHeaders(target),
    body: { generateContentRequest: { model: name, ...buildGenerateContentBody(request) } },
  };
}

/** `{totalTokens}`; undefined when Gemini answered something else. */
export function parseCountTokensResponse(body: unknown): number | undefined {
  return isObject(body) ? num(body.totalTokens) : undefined;
}
