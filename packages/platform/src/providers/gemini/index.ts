// Google's Gemini API (generativelanguage.googleapis.com) behind the canonical OpenAI wire.

import type { ProviderAdapter } from '../provider-adapter.js';
import { GEMINI_DEFAULT_BASE_URL, GEMINI_MODEL_ID } from './api.js';
import { geminiAccountState } from './account-state.js';
import { geminiEmbeddingsAdapter } from './embeddings.js';
import { parseGeminiError } from './errors.js';
import { geminiModelListAdapter } from './models.js';
import { buildGenerateContentRequest } from './request.js';
import { parseGenerateContentResponse } from './response.js';
import { createGeminiStreamTranslator } from './stream.js';

export { GEMINI_DEFAULT_BASE_URL } from './api.js';

export const geminiAdapter: ProviderAdapter = {
  id: 'gemini',
  displayName: 'Google Gemini',
  wire: 'gemini',
  defaultBaseUrl: GEMINI_DEFAULT_BASE_URL,
  apiKeyRequired: true,
  modelId: GEMINI_MODEL_ID,
  chat: {
    buildRequest: buildGenerateContentRequest,
    parseResponse: parseGenerateContentResponse,
    createStreamTranslator: createGeminiStreamTranslator,
    streamFraming: 'sse',
    accountState: geminiAccountState,
  },
  embeddings: geminiEmbeddingsAdapter,
  models: geminiModelListAdapter,
  parseError: parseGeminiError,
};
