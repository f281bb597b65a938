// Prices from the bundled `@pydantic/genai-prices` catalogue (no network: its data ships in the
// package). A model's rates are looked up once per UTC hour (prices can change on a date) and kept,
// for a bounded number of models: the model name is the caller's.

import { calcPrice, type ModelPrice } from '@pydantic/genai-prices';
import type { ModelRates, TokenRate } from './call-cost.js';
import { webSearchFee } from './search-fees.js';

/** Keyward's provider names where the catalogue names them differently; the rest match or are absent (ollama, vllm). */
const CATALOGUE_PROVIDER: Readonly<Record<string, string>> = { gemini: 'google', xai: 'x-ai' };
const UNPRICED_PROVIDERS = new Set(['ollama', 'vllm', 'openai-compatible']);

const HOUR_MS = 3_600_000;
/** Past this many models (callers choosing ever new names), the longest-held entry makes room. */
export const MAX_CACHED_MODELS = 2_000;
const cache = new Map<string, { hour: number; rates: ModelRates | null }>();

/** Models whose rates are held now. */
export const cachedModelCount = (): number => cache.size;

function toRate(value: ModelPrice[string]): TokenRate | undefined {
  if (value === undefined) return undefined;
  // Catalogue prices are USD per million tokens with at most six decimals: exact as integer micro-USD.
  if (typeof value === 'number') return { base: Math.round(value * 1_000_000) };
  return { base: Math.round(value.base * 1_000_000), tiers: value.tiers.map((t) => ({ startInputTokens: t.start, rate: Math.round(t.price * 1_000_000) })) };
}

export function catalogueRates(provider: string, model: string, now = Date.now()): ModelRates | null {
  if (UNPRICED_PROVIDERS.has(provider)) return null;
  const key = `${provider}\u0000${model}`;
  const hour = Math.floor(now / HOUR_MS);
  const hit = cache.get(key);
  if (hit && hit.hour === hour) return hit.rates;
  let rates: ModelRates | null = null;
  const found = calcPrice({}, model, { providerId: CATALOGUE_PROVIDER[provider] ?? provider, timestamp: new Date(now) });
  if (found) {
    const price = found.model_price;
    const input = toRate(price.input_mtok);
    const output = toRate(price.output_mtok);
    // A model the catalogue lists without token prices (image, per-request) is not priced per token here.
    if (input && output) {
      rates = { input, output, cachedInput: toRate(price.cache_read_mtok), cacheWrite: toRate(price.cache_write_mtok), webSearch: webSearchFee(provider, price.web_searches_kcount), source: 'catalogue' };
    }
  }
  if (!hit && cache.size >= MAX_CACHED_MODELS) cache.delete(cache.keys().next().value!);
  cache.set(key, { hour, rates });
  return rates;
}
