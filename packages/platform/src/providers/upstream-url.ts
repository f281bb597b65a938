// Every provider URL is built here: a key's base URL plus path segments. A segment that could
// walk out of the base URL's path (`..`, a slash, a percent-encoding, a query) is refused, so
// nothing a caller sends — a model id, a deployment name — can send the key anywhere else.

import { KeywardError } from '../errors.js';
import { BoundedCache } from '../bounded-cache.js';

/** Unreserved characters plus `:` `@` `+`: all a model id or an endpoint path needs, and none that the URL parser rewrites. */
const SAFE_SEGMENT = /^[A-Za-z0-9._~:@+-]+$/;
/** `.` and `..` are dot-segments the URL resolver applies; any run of dots is refused alike. */
const DOTS_ONLY = /^\.+$/;

/** A value that cannot be one path segment of a provider URL: a 400 naming it, never a network call. */
export class UnsafeUrlSegmentError extends KeywardError {
  constructor(readonly segment: string) {
    super(
      'unsafe_upstream_path',
      `${JSON.stringify(segment)} cannot be part of a provider URL: use only letters, digits and . _ ~ : @ + - (not "." or ".." alone, no "/", "\\", "%", "?", "#").`,
      400,
    );
    this.name = 'UnsafeUrlSegmentError';
  }
}

export function isSafeUrlSegment(segment: string): boolean {
  return SAFE_SEGMENT.test(segment) && !DOTS_ONLY.test(segment);
}

/** A checked URL depends only on its parts: the router builds the same few again and again. */
const checked = new BoundedCache<string, string>(1000);

/** `{baseUrl}/{segment}/{segment}…?{query}`; throws UnsafeUrlSegmentError unless the result stays under the base URL's path. */
export function upstreamUrl(baseUrl: string, segments: readonly string[], query?: Readonly<Record<string, string>>): string {
  for (const segment of segments) if (!isSafeUrlSegment(segment)) throw new UnsafeUrlSegmentError(segment);
  const queryText = query && Object.keys(query).length > 0 ? new URLSearchParams(query).toString() : '';
  // Neither the checked segments nor an encoded query hold a NUL: the last two split the key unambiguously.
  return checked.getOrMake(`${baseUrl}\0${segments.join('/')}\0${queryText}`, () => buildUpstreamUrl(baseUrl, segments, queryText));
}

function buildUpstreamUrl(baseUrl: string, segments: readonly string[], queryText: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  let url = `${base}/${segments.join('/')}`;
  if (queryText) url += `?${queryText}`;
  // Belt and braces: what the URL parser makes of it must still be under the base URL.
  const root = new URL(base);
  const resolved = new URL(url);
  const rootPath = root.pathname.replace(/\/+$/, '');
  if (resolved.origin !== root.origin || !resolved.pathname.startsWith(`${rootPath}/`)) throw new UnsafeUrlSegmentError(segments.join('/'));
  return url;
}
