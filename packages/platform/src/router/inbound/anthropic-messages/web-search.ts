// Anthropic's server-side web search tool (`web_search_20250305`, `web_search_20260209`) is billed
// per search on top of tokens, and runs as many searches as the model wants unless the tool's
// `max_uses` says otherwise. Under a spending limit, that is what bounds a call's searches.

import { isObject } from '../../../providers/json-guards.js';

const isWebSearchTool = (tool: unknown): tool is Record<string, unknown> => isObject(tool) && typeof tool.type === 'string' && tool.type.startsWith('web_search_');

/**
 * Each web search tool's `max_uses`, in the order of `tools`; undefined where none is given. A value
 * that is not a whole number of at least 1 bounds nothing Keyward can price, so it counts as none
 * (and is replaced by what the limit pays for).
 */
export function webSearchToolUses(body: Record<string, unknown>): Array<number | undefined> {
  if (!Array.isArray(body.tools)) return [];
  return body.tools.filter(isWebSearchTool).map((tool) => (Number.isInteger(tool.max_uses) && (tool.max_uses as number) >= 1 ? (tool.max_uses as number) : undefined));
}

/** The body with its web search tools' `max_uses` set to `uses`, in the same order; every other tool as it was. */
export function withWebSearchUses(body: Record<string, unknown>, uses: readonly number[]): Record<string, unknown> {
  if (!Array.isArray(body.tools)) return body;
  let next = 0;
  return { ...body, tools: body.tools.map((tool: unknown) => (isWebSearchTool(tool) ? { ...tool, max_uses: uses[next++] } : tool)) };
}
