// The one list of providers Keyward can call. A provider id is both the model prefix
// (`gemini:gemini-2.0-flash`) and the `--provider` name of a key.

import { anthropicAdapter } from './anthropic/index.js';
import { geminiAdapter } from './gemini/index.js';
import { openAICompatibleAdapters } from './openai-compatible/index.js';
import type { ProviderAdapter } from './provider-adapter.js';

const ADAPTERS: readonly ProviderAdapter[] = [...openAICompatibleAdapters, anthropicAdapter, geminiAdapter];

const BY_ID = new Map(ADAPTERS.map((adapter) => [adapter.id, adapter]));
if (BY_ID.size !== ADAPTERS.length) throw new Error('two provider adapters share an id');

export const PROVIDER_IDS: readonly string[] = ADAPTERS.map((adapter) => adapter.id);

export function getProviderAdapter(id: string): ProviderAdapter | undefined {
  return BY_ID.get(id);
}

export function listProviderAdapters(): readonly ProviderAdapter[] {
  return ADAPTERS;
}
