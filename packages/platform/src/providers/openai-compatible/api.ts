// Where an OpenAI-compatible request goes and how it authenticates: the one place that knows
// Azure's two URL shapes apart from everyone else's `{base}/chat/completions`.

import type { UpstreamTarget } from '../provider-adapter.js';
import { upstreamUrl } from '../upstream-url.js';
import { AZURE_DEFAULT_API_VERSION, type OpenAICompatiblePreset } from './presets.js';

export type OpenAIEndpoint = 'chat/completions' | 'embeddings' | 'models';

/** Azure's v1 API (`…/openai/v1`) is the OpenAI wire itself: model in the body, no api-version. */
export function isAzureV1(baseUrl: string): boolean {
  return /\/openai\/v1\/?$/.test(baseUrl);
}

export function endpointUrl(
  preset: OpenAICompatiblePreset,
  target: UpstreamTarget,
  endpoint: OpenAIEndpoint,
  model?: string,
): string {
  const base = (target.baseUrl || preset.defaultBaseUrl).replace(/\/+$/, '');
  if (!base) throw new Error(`provider '${preset.id}' needs a base URL on its key`);
  const path = endpoint.split('/');
  if (preset.wire !== 'azure' || isAzureV1(base)) return upstreamUrl(base, path);
  // Deployment URLs: the resource endpoint, with or without the `/openai` the Azure SDK appends.
  const resource = base.replace(/\/openai$/, '');
  const query = { 'api-version': target.options?.apiVersion ?? AZURE_DEFAULT_API_VERSION };
  if (endpoint === 'models') return upstreamUrl(resource, ['openai', 'models'], query);
  return upstreamUrl(resource, ['openai', 'deployments', model ?? '', ...path], query);
}

export function authHeaders(preset: OpenAICompatiblePreset, target: UpstreamTarget): Record<string, string> {
  if (!target.apiKey) return {};
  return preset.wire === 'azure' ? { 'api-key': target.apiKey } : { authorization: `Bearer ${target.apiKey}` };
}

export function jsonHeaders(preset: OpenAICompatiblePreset, target: UpstreamTarget): Record<string, string> {
  return { 'content-type': 'application/json', ...authHeaders(preset, target) };
}
