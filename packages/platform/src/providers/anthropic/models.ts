// GET /v1/models: `{"data":[{"type":"model","id",…}],"has_more","first_id","last_id"}`.

import type { ModelListAdapter } from '../provider-adapter.js';
import { ANTHROPIC_MODELS_PAGE_LIMIT, ANTHROPIC_MODELS_PATH, anthropicHeaders, anthropicUrl } from './api.js';

export const anthropicModels: ModelListAdapter = {
  buildRequest(target) {
    const headers = anthropicHeaders(target);
    delete headers['content-type'];
    return {
      method: 'GET',
      url: anthropicUrl(target, ANTHROPIC_MODELS_PATH, { limit: String(ANTHROPIC_MODELS_PAGE_LIMIT) }),
      headers,
    };
  },
  parseResponse(body) {
    const data = typeof body === 'object' && body !== null ? (body as { data?: unknown }).data : undefined;
    if (!Array.isArray(data)) return [];
    return data.flatMap((model: unknown) =>
      typeof model === 'object' && model !== null && typeof (model as { id?: unknown }).id === 'string'
        ? [(model as { id: string }).id]
        : [],
    );
  },
};
