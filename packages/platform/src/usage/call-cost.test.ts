// Costs computed in integers from the catalogue's rates match the catalogue's own calculator,
// token kind by token kind, for each provider Keyward speaks natively.

import { calcPrice } from '@pydantic/genai-prices';
import { describe, expect, it } from 'vitest';
import { costNanoUsd, microUsdToString, parseUsdPerMtok } from './call-cost.js';
import { cachedModelCount, catalogueRates, MAX_CACHED_MODELS } from './price-catalogue.js';

const cases: Array<{ provider: string; catalogueId: string; model: string; input: number; cachedInput: number; cacheWrite: number; output: number; reasoning: number }> = [
  { provider: 'openai', catalogueId: 'openai', model: 'gpt-4o-mini', input: 12_000, cachedInput: 4_000, cacheWrite: 0, output: 900, reasoning: 0 },
  { provider: 'openai', catalogueId: 'openai', model: 'o3-mini', input: 5_000, cachedInput: 1_024, cacheWrite: 0, output: 7_000, reasoning: 6_500 },
  { provider: 'anthropic', catalogueId: 'anthropic', model: 'claude-sonnet-4-5', input: 30_000, cachedInput: 20_000, cacheWrite: 8_000, output: 2_000, reasoning: 1_500 },
  { provider: 'anthropic', catalogueId: 'anthropic', model: 'claude-3-5-haiku-latest', input: 10_000, cachedInput: 0, cacheWrite: 9_000, output: 100, reasoning: 0 },
  { provider: 'gemini', catalogueId: 'google', model: 'gemini-2.5-flash', input: 50_000, cachedInput: 10_000, cacheWrite: 0, output: 3_000, reasoning: 2_500 },
];

describe('web searches, billed per search on top of tokens', () => {
  it('anthropic:claude-sonnet-4-5 — the catalogue’s fee per thousand searches, in integers, matches its calculator', () => {
    const rates = catalogueRates('anthropic', 'claude-sonnet-4-5')!;
    // $10 per 1,000 searches.
    expect(rates.webSearch).toBe(10_000_000);
    const tokens = { input: 6_039, output: 931, cachedInput: 0, cacheWrite: 0 };
    const nano = costNanoUsd(rates, { ...tokens, webSearches: 2 });
    expect(nano).toBe(costNanoUsd(rates, tokens) + 20_000_000);
    const expected = calcPrice({ input_tokens: 6_039, output_tokens: 931, web_searches: 2 }, 'claude-sonnet-4-5', { providerId: 'anthropic' });
    expect(Math.abs(nano - expected!.total_price * 1e9)).toBeLessThanOrEqual(1);
  });
});

describe('cost of a call, from the bundled catalogue', () => {
  for (const c of cases) {
    it(`${c.provider}:${c.model} — input, cached input, cache writes, output with reasoning`, () => {
      const rates = catalogueRates(c.provider, c.model);
      expect(rates?.source).toBe('catalogue');
      const nano = costNanoUsd(rates!, { input: c.input, output: c.output, cachedInput: c.cachedInput, cacheWrite: c.cacheWrite });
      // The catalogue's calculator takes total input (cache included) and output (reasoning included).
      const expected = calcPrice(
        { input_tokens: c.input, cache_read_tokens: c.cachedInput, cache_write_tokens: c.cacheWrite, output_tokens: c.output },
        c.model,
        { providerId: c.catalogueId },
      );
      expect(expected).not.toBeNull();
      expect(Math.abs(nano - expected!.total_price * 1e9)).toBeLessThanOrEqual(1);
      expect(Number.isInteger(nano)).toBe(true);
    });
  }

  it('cache reads cost less than fresh input, and Anthropic cache writes more', () => {
    const sonnet = catalogueRates('anthropic', 'claude-sonnet-4-5')!;
    const fresh = costNanoUsd(sonnet, { input: 10_000, output: 0, cachedInput: 0, cacheWrite: 0 });
    expect(costNanoUsd(sonnet, { input: 10_000, output: 0, cachedInput: 10_000, cacheWrite: 0 })).toBeLessThan(fresh);
    expect(costNanoUsd(sonnet, { input: 10_000, output: 0, cachedInput: 0, cacheWrite: 10_000 })).toBeGreaterThan(fresh);
  });

  it('a model the catalogue does not know has no price (not a price of 0)', () => {
    expect(catalogueRates('openai', 'my-fine-tune-that-does-not-exist')).toBeNull();
    expect(catalogueRates('ollama', 'llama3.2')).toBeNull();
  });

  it('holds the rates of a bounded number of models, however many names callers make up', () => {
    const known = catalogueRates('openai', 'gpt-4o-mini');
    for (let i = 0; i < MAX_CACHED_MODELS + 500; i++) expect(catalogueRates('openai', `made-up-model-${i}`)).toBeNull();
    expect(cachedModelCount()).toBe(MAX_CACHED_MODELS);
    // The evicted model is looked up again, at the same price.
    expect(catalogueRates('openai', 'gpt-4o-mini')).toEqual(known);
    expect(cachedModelCount()).toBe(MAX_CACHED_MODELS);
  });

  it('reads USD per million tokens exactly and writes it back', () => {
    expect(parseUsdPerMtok('0.15')).toBe(150_000);
    expect(parseUsdPerMtok('0')).toBe(0);
    expect(parseUsdPerMtok('3.000001')).toBe(3_000_001);
    expect(parseUsdPerMtok('-1')).toBeNull();
    expect(parseUsdPerMtok('1e3')).toBeNull();
    expect(microUsdToString(150_000)).toBe('0.15');
    expect(microUsdToString(3_000_000)).toBe('3');
  });
});
