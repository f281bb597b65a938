// Where Gemini API calls go and how they authenticate: the key travels in `x-goog-api-key`,
// never in the query string, so it stays out of every access log on the way.

import type { UpstreamTarget } from '../provider-adapter.js';

/** What the official Google Gen AI SDK takes as its base URL. */
export const GEMINI_DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com';
export const GEMINI_API_VERSION = 'v1beta';

export type GeminiMethod = 'generateContent' | 'streamGenerateContent' | 'embedContent' | 'batchEmbedContents';

function apiRoot(target: UpstreamTarget): string {
  const base = (target.baseUrl || GEMINI_DEFAULT_BASE_URL).replace(/\/+$/, '');
  // Tolerate keys whose base URL already names the API version.
  return /\/v1(beta|alpha)?$/.test(base) ? base : `${base}/${GEMINI_API_VERSION}`;
}

/** `gemini-2.0-flash` and `models/gemini-2.0-flash` both name the same model. */
export function modelResource(model: string): string {
  return model.startsWith('models/') ? model : `models/${model}`;
}

export function methodUrl(target: UpstreamTarget, model: string, method: GeminiMethod): string {
  const url = `${apiRoot(target)}/${modelResource(model).split('/').map(encodeURIComponent).join('/')}:${method}`;
  // SSE framing instead of the default streamed JSON array: one event per GenerateContentResponse.
  return method === 'streamGenerateContent' ? `${url}?alt=sse` : url;
}

export function modelsUrl(target: UpstreamTarget): string {
  return `${apiRoot(target)}/models?pageSize=1000`;
}

export function geminiHeaders(target: UpstreamTarget, json = true): Record<string, string> {
  const headers: Record<string, string> = json ? { 'content-type': 'application/json' } : {};
  if (target.apiKey) headers['x-goog-api-key'] = target.apiKey;
  return headers;
}
