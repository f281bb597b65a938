// What one call cost, in integer nano-USD: each kind of token at its own rate, plus the provider's
// per-request fees (web searches). Rates are integer micro-USD per million tokens (= pico-USD per
// token) and fees integer nano-USD, so no float ever touches money.

/** A rate in micro-USD per million tokens; `tiers` (the catalogue's long-context prices) apply by total input tokens. */
export interface TokenRate {
  base: number;
  tiers?: ReadonlyArray<{ startInputTokens: number; rate: number }>;
}

export interface ModelRates {
  input: TokenRate;
  output: TokenRate;
  /** Cache reads; absent → the input rate. */
  cachedInput?: TokenRate;
  /** Cache writes; absent → the input rate. */
  cacheWrite?: TokenRate;
  /** Nano-USD per server-side web search (search-fees.ts); absent: the model's searches have no known fee. */
  webSearch?: number;
  /** Where the rates come from: an admin's override or the bundled catalogue. */
  source: 'override' | 'catalogue';
}

/** Token counts as metered: `input` includes cache reads and writes; `output` includes reasoning. */
export interface TokenCounts {
  input: number;
  output: number;
  cachedInput: number;
  cacheWrite: number;
  /** Server-side web searches the provider ran, each billed `ModelRates.webSearch`. */
  webSearches?: number;
}

function rateAt(rate: TokenRate, totalInput: number): bigint {
  let value = rate.base;
  // Same rule as the catalogue: the highest tier whose start the input exceeds prices all tokens of that kind.
  for (const tier of rate.tiers ?? []) if (totalInput > tier.startInputTokens) value = tier.rate;
  return BigInt(value);
}

/** Cost in nano-USD, rounded up so that a sum of costs never undercounts. */
export function costNanoUsd(rates: ModelRates, tokens: TokenCounts): number {
  const cached = Math.max(0, Math.min(tokens.cachedInput, tokens.input));
  const writes = Math.max(0, Math.min(tokens.cacheWrite, tokens.input - cached));
  const uncached = Math.max(0, tokens.input - cached - writes);
  const at = tokens.input;
  const pico =
    BigInt(uncached) * rateAt(rates.input, at) +
    BigInt(cached) * rateAt(rates.cachedInput ?? rates.input, at) +
    BigInt(writes) * rateAt(rates.cacheWrite ?? rates.input, at) +
    BigInt(Math.max(0, tokens.output)) * rateAt(rates.output, at);
  // Only Anthropic reports searches, and its models always have a fee (search-fees.ts).
  const fees = BigInt(Math.max(0, tokens.webSearches ?? 0)) * BigInt(rates.webSearch ?? 0);
  return Number((pico + 999n) / 1000n + fees);
}

/** `"0.15"` (USD per million tokens) → 150000 micro-USD per million tokens, exactly; null for anything else. */
export function parseUsdPerMtok(value: string): number | null {
  const match = /^(\d{1,7})(?:\.(\d{1,6}))?$/.exec(value.trim());
  if (!match) return null;
  return Number(match[1]) * 1_000_000 + Number((match[2] ?? '').padEnd(6, '0'));
}

/** Integer micro-USD (per million tokens, or of spend) → the decimal USD string people read, exactly. */
export function microUsdToString(micro: number): string {
  const whole = Math.trunc(micro / 1_000_000);
  const frac = String(Math.abs(micro % 1_000_000)).padStart(6, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : String(whole);
}

/** Integer nano-USD → the exact decimal USD string (`"0.000123"`), for headers and text. */
export function nanoUsdToString(nano: number): string {
  const whole = Math.trunc(nano / 1_000_000_000);
  const frac = String(Math.abs(nano % 1_000_000_000)).padStart(9, '0').replace(/0+$/, '');
  return frac ? `${whole}.${frac}` : String(whole);
}

/** Nano-USD → USD as a JSON number for reports (display only; sums stay integers). */
export const nanoToUsd = (nano: number): number => nano / 1_000_000_000;
