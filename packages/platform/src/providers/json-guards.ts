// Reading untrusted provider JSON: narrow with these instead of casting. The `required…`/`optional…`
// readers throw MalformedUpstreamResponse on a wrong type (a count sent as a string, a list that is
// not one), so a wrongly shaped answer is refused instead of read as nothing.

import { MalformedUpstreamResponse } from './provider-adapter.js';

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A number, or absent/null; anything else (a count sent as "12") is a malformed answer. */
export function optionalNumber(value: unknown, what: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  throw new MalformedUpstreamResponse(`${what} is not a number`);
}

/**
 * The most tokens one count of one call may report. No model comes near it; larger is not a real
 * count, and four such counts summed (Anthropic's prompt is three) still fit the usage table's
 * 32-bit integer columns.
 */
export const MAX_TOKEN_COUNT = 500_000_000;

/**
 * A token count, or absent/null: a whole number from 0 to MAX_TOKEN_COUNT. Counts are what a call
 * is billed by and what its spending limits settle with, so anything else (12.5, -3, "12", 1e12)
 * is a malformed answer, not a count to round, clamp or store.
 */
export function optionalTokenCount(value: unknown, what: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_TOKEN_COUNT) return value;
  throw new MalformedUpstreamResponse(`${what} is not a token count`);
}

/** The most billed requests (web searches) one call may report: far above any real call, and its fees stay exact integers. */
export const MAX_REQUEST_COUNT = 1_000_000;

/** A count of billed requests (web searches), or absent/null: a whole number from 0 to MAX_REQUEST_COUNT, like a token count. */
export function optionalRequestCount(value: unknown, what: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_REQUEST_COUNT) return value;
  throw new MalformedUpstreamResponse(`${what} is not a count of requests`);
}

/** An object, or absent/null; anything else is a malformed answer. */
export function optionalObject(value: unknown, what: string): JsonObject | undefined {
  if (value === undefined || value === null) return undefined;
  if (isObject(value)) return value;
  throw new MalformedUpstreamResponse(`${what} is not an object`);
}

/** A list of objects, or absent/null; anything else is a malformed answer. */
export function optionalObjects(value: unknown, what: string): JsonObject[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value) && value.every(isObject)) return value;
  throw new MalformedUpstreamResponse(`${what} is not a list of objects`);
}

export function requiredObject(value: unknown, what: string): JsonObject {
  const object = optionalObject(value, what);
  if (!object) throw new MalformedUpstreamResponse(`${what} is missing`);
  return object;
}

export function requiredObjects(value: unknown, what: string): JsonObject[] {
  const list = optionalObjects(value, what);
  if (!list) throw new MalformedUpstreamResponse(`${what} is missing`);
  return list;
}
