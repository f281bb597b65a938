// One adapter for every OpenAI-compatible provider: a preset row in, a ProviderAdapter out.

import type { ProviderAdapter } from '../provider-adapter.js';
import { embeddingsAdapter } from './embeddings.js';
import { parseOpenAIError } from './errors.js';
import { modelListAdapter } from './models.js';
import type { OpenAICompatiblePreset } from './presets.js';
import { buildChatRequest } from './request.js';
import { parseChatResponse } from './response.js';
import { createChatStreamTranslator } from './stream.js';

export function createOpenAICompatibleAdapter(preset: OpenAICompatiblePreset): ProviderAdapter {
  const adapter: ProviderAdapter = {
    id: preset.id,
    displayName: preset.displayName,
    wire: 'openai',
    defaultBaseUrl: preset.defaultBaseUrl,
    apiKeyRequired: preset.apiKeyRequired,
    chat: {
      buildRequest: (request, target) => buildChatRequest(preset, request, target),
      parseResponse: parseChatResponse,
      createStreamTranslator: createChatStreamTranslator,
      streamFraming: 'sse',
    },
    parseError: parseOpenAIError,
  };
  if (preset.embeddings) adapter.embeddings = embeddingsAdapter(preset);
  if (preset.models) adapter.models = modelListAdapter(preset);
  if (preset.staticModels) adapter.staticModels = [...preset.staticModels];
  if (preset.modelId) adapter.modelId = preset.modelId;
  return adapter;
}
