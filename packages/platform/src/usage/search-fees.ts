// What a provider charges per server-side web search, on top of tokens, in integer nano-USD. The
// bundled catalogue names it per model (`web_searches_kcount`, USD per thousand searches); a model
// it does not list (an admin's override for a name it lacks, a model newer than the pinned
// catalogue) still has its searches billed by the provider at its list price, below.

/**
 * List prices per search, by Keyward provider name. Anthropic: "$10 per 1,000 searches, plus
 * standard token costs for search-generated content" — the web search tool's pricing section,
 * https://platform.claude.com/docs/en/agents-and-tools/tool-use/web-search-tool (the same for
 * every model). Only Anthropic's searches are counted (its `usage.server_tool_use`).
 */
const LIST_PRICE_NANO_USD: Readonly<Record<string, number>> = { anthropic: 10_000_000 };

/** The catalogue's USD per thousand searches → nano-USD per search (×10⁹ ÷ 10³), else the provider's list price. */
export function webSearchFee(provider: string, cataloguePerThousand: unknown): number | undefined {
  if (typeof cataloguePerThousand === 'number' && Number.isFinite(cataloguePerThousand) && cataloguePerThousand >= 0) return Math.round(cataloguePerThousand * 1_000_000);
  return LIST_PRICE_NANO_USD[provider];
}
