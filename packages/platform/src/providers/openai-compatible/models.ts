// `GET /models`: OpenAI's `{object:"list", data:[{id}]}`, or the bare array Together returns.

import type { ModelListAdapter } from '../provider-adapter.js';
import { authHeaders, endpointUrl } from './api.js';
import type { OpenAICompatiblePreset } from './presets.js';
import { isObject, str } from './wire.js';

export function modelListAdapter(preset: OpenAICompatiblePreset): ModelListAdapter {
  return {
    buildRequest(target) {
      return { method: 'GET', url: endpointUrl(preset, target, 'models'), headers: authHeaders(preset, target) };
    },
    parseResponse: parseModelList,
  };
}

export function parseModelList(body: unknown): string[] {
  const items = Array.isArray(body) ? body : isObject(body) && Array.isArray(body.data) ? body.data : [];
  return items.flatMap((item) => {
    const id = isObject(item) ? str(item.id) : undefined;
    return id ? [id] : [];
  });
}
