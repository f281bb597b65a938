// A proxy's optional allow-list: entries are a provider (`openai`, any of its models) or one
// model (`openai:gpt-4o-mini`). No list means any provider and model the caller holds a key for.

import { KeywardError } from '../errors.js';
import { getProviderAdapter } from '../providers/registry.js';

const MAX_ENTRIES = 200;

/** Entries from text (one per line or comma-separated); a provider Keyward does not know is refused. */
export function parseAllowList(text: string): string[] {
  const entries = [...new Set(text.split(/[\n,]/).map((e) => e.trim()).filter(Boolean))];
  if (entries.length > MAX_ENTRIES) throw new KeywardError('invalid_allow_list', `at most ${MAX_ENTRIES} entries`);
  for (const entry of entries) {
    const colon = entry.indexOf(':');
    const provider = colon < 0 ? entry : entry.slice(0, colon);
    if (!getProviderAdapter(provider)) throw new KeywardError('invalid_allow_list', `"${entry}": unknown provider "${provider}"`);
    if (colon === entry.length - 1 || entry.length > 300 || /\s/.test(entry)) throw new KeywardError('invalid_allow_list', `"${entry}" is not provider or provider:model`);
  }
  return entries;
}

export function allowedModels(proxy: { allowed_models_json: string | null }): string[] | null {
  return proxy.allowed_models_json ? (JSON.parse(proxy.allowed_models_json) as string[]) : null;
}

export function proxyAllows(allowList: readonly string[] | null, provider: string, model: string): boolean {
  return allowList === null || allowList.length === 0 || allowList.includes(provider) || allowList.includes(`${provider}:${model}`);
}
