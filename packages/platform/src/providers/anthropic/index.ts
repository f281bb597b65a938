// Anthropic as an upstream: the canonical OpenAI wire in, the Messages API out.

import type { ProviderAdapter } from '../provider-adapter.js';
import { ANTHROPIC_DEFAULT_BASE_URL, ANTHROPIC_MESSAGES_PATH, anthropicHeaders, anthropicUrl } from './api.js';
import { parseAnthropicError } from './errors.js';
import { anthropicModels } from './models.js';
import { toAnthropicRequest } from './request.js';
import { fromAnthropicResponse } from './response.js';
import { createAnthropicStreamTranslator } from './stream.js';

export const anthropicAdapter: ProviderAdapter = {
  id: 'anthropic',
  displayName: 'Anthropic',
  wire: 'anthropic',
  defaultBaseUrl: ANTHROPIC_DEFAULT_BASE_URL,
  apiKeyRequired: true,
  chat: {
    buildRequest: (request, target) => ({
      method: 'POST',
      url: anthropicUrl(target, ANTHROPIC_MESSAGES_PATH),
      headers: anthropicHeaders(target),
      body: toAnthropicRequest(request),
    }),
    parseResponse: fromAnthropicResponse,
    createStreamTranslator: createAnthropicStreamTranslator,
    streamFraming: 'sse',
  },
  models: anthropicModels,
  parseError: parseAnthropicError,
};
