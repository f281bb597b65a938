// The OpenAI-compatible family: one adapter per preset row.

import type { ProviderAdapter } from '../provider-adapter.js';
import { createOpenAICompatibleAdapter } from './adapter.js';
import { OPENAI_COMPATIBLE_PRESETS } from './presets.js';

export { createOpenAICompatibleAdapter } from './adapter.js';
export { AZURE_DEFAULT_API_VERSION, OPENAI_COMPATIBLE_PRESETS, type OpenAICompatiblePreset } from './presets.js';

export const openAICompatibleAdapters: readonly ProviderAdapter[] = OPENAI_COMPATIBLE_PRESETS.map(createOpenAICompatibleAdapter);
