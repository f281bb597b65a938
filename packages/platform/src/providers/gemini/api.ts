// Where Gemini API calls go and how they authenticate: the key travels in `x-goog-api-key`,
// never in the query string, so it stays out of every access log on the way.

import type { ModelIdRule, UpstreamTarget } from '../provider-adapter.js';
import { upstreamUrl } from '../upstream-url.js';

/** What the official Google Gen AI SDK takes as its base URL. */
export const GEMINI_DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com';
export const GEMINI_API_VERSION = 'v1beta';

export type GeminiMethod = 'generateContent' | 'streamGenerateContent' | 'embedContent' | 'batchEmbedContents' | 'countTokens';

function apiRoot(target: UpstreamTarget): string {
  const base = (target.baseUrl || GEMINI_DEFAULT_BASE_URL).replace(/\/+$/, '');
  // Tolerate keys whose base URL already names the API version.
  return /\/v1(beta|alpha)?$/.test(base) ? base : `${base}/${GEMINI_API_VERSION}`;
}

/**
 * What Gemini's model names look like (`gemini-2.5-flash`, `text-embedding-004`, optionally as
 * `models/…`). The id becomes a URL path segment, so anything else is refused before any call.
 */
export const GEMINI_MODEL_ID: ModelIdRule = {
  pattern: /^(?:models\/)?[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
  rule: 'a Gemini model name is letters, digits, ".", "-" and "_" (at most 128), optionally after "models/"',
};

/** `gemini-2.0-flash` and `models/gemini-2.0-flash` both name the same model. */
export function modelResource(model: string): string {
  return model.startsWith('models/') ? model : `models/${model}`;
}

export function methodUrl(target: UpstreamTarget, model: string, method: GeminiMethod): string {
  const name = model.startsWith('models/') ? model.slice('models/'.length) : model;
  // SSE framing instead of the default streamed JSON array: one event per GenerateContentResponse.
  const query = method === 'streamGenerateContent' ? { alt: 'sse' } : undefined;
  return upstreamUrl(apiRoot(target), ['models', `${name}:${method}`], query);
}

export function modelsUrl(target: UpstreamTarget): string {
  return upstreamUrl(apiRoot(target), ['models'], { pageSize: '1000' });
}

export function geminiHeaders(target: UpstreamTarget, json = true): Record<string, string> {
  const headers: Record<string, string> = json ? { 'content-type': 'application/json' } : {};
  if (target.apiKey) headers['x-goog-api-key'] = target.apiKey;
  return headers;
}
