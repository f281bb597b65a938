// `GET /v1beta/models`: models that answer generateContent (chat) or embedContent (embeddings).

import type { ModelListAdapter } from '../provider-adapter.js';
import { geminiHeaders, modelsUrl } from './api.js';
import { isObject, str } from './wire.js';

export const geminiModelListAdapter: ModelListAdapter = {
  buildRequest(target) {
    return { method: 'GET', url: modelsUrl(target), headers: geminiHeaders(target, false) };
  },
  parseResponse(body) {
    const models = isObject(body) && Array.isArray(body.models) ? body.models.filter(isObject) : [];
    return models.flatMap((model) => {
      const name = str(model.name);
      const methods = Array.isArray(model.supportedGenerationMethods) ? model.supportedGenerationMethods : [];
      return name && (methods.includes('generateContent') || methods.includes('embedContent')) ? [name.replace(/^models\//, '')] : [];
    });
  },
};
