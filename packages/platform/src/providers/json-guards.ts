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
