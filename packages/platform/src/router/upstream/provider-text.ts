// What a provider says never carries its key back out: every piece of provider text bound for a
// caller, a usage record or a log passes `scrubProviderKey`, and a provider's `Retry-After` is
// forwarded only as bounded delta-seconds or a well-formed HTTP date.

/**
 * Key fragments shorter than this are left alone: a 12-character piece of a random key leaves the
 * rest unguessable, and shorter pieces (a shared prefix like `sk-`, a masked `sk-…wxyz`) would
 * match ordinary text.
 */
export const MIN_KEY_FRAGMENT = 12;
/** Keys shorter than this (a placeholder like `none` for a local server) are not secrets worth matching. */
const MIN_SCRUBBED_KEY = 4;
export const SCRUBBED_KEY = '[provider key]';

/** ASCII-only lower case: keeps every index in place (String#toLowerCase may not, e.g. 'İ'). */
function asciiLower(text: string): string {
  return text.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32));
}

/**
 * Removes the key from text: exact copies, case-changed copies, and any run of at least
 * MIN_KEY_FRAGMENT characters that also occurs in the key (so a copy without its `sk-proj-` prefix,
 * or cut short, goes too). A key shorter than that is removed only as a whole.
 */
export function scrubProviderKey(text: string, apiKey: string | undefined): string {
  if (!apiKey || apiKey.length < MIN_SCRUBBED_KEY || !text) return text;
  const key = asciiLower(apiKey);
  const lower = asciiLower(text);
  const size = Math.min(MIN_KEY_FRAGMENT, key.length);
  if (lower.length < size) return text;
  const grams = new Set<string>();
  for (let i = 0; i + size <= key.length; i++) grams.add(key.slice(i, i + size));
  // Mark every character covered by a window that also occurs in the key, then replace each marked run once.
  const covered = new Uint8Array(text.length);
  let any = false;
  for (let i = 0; i + size <= lower.length; i++) {
    if (grams.has(lower.slice(i, i + size))) {
      covered.fill(1, i, i + size);
      any = true;
    }
  }
  if (!any) return text;
  let out = '';
  for (let i = 0; i < text.length; ) {
    if (!covered[i]) {
      out += text[i++];
      continue;
    }
    while (i < text.length && covered[i]) i++;
    out += SCRUBBED_KEY;
  }
  return out;
}

/** The longest wait the router passes on; a provider asking for more is told on as this. */
export const MAX_RETRY_AFTER_SECONDS = 24 * 60 * 60;

const DAY = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const MONTH = '(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
/** RFC 9110 §5.6.7: IMF-fixdate, and the obsolete RFC 850 and asctime forms a recipient must accept. */
const HTTP_DATE = new RegExp(
  `^(?:${DAY}, \\d{2} ${MONTH} \\d{4} \\d{2}:\\d{2}:\\d{2} GMT` +
    `|(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), \\d{2}-${MONTH}-\\d{2} \\d{2}:\\d{2}:\\d{2} GMT` +
    `|${DAY} ${MONTH} [ \\d]\\d \\d{2}:\\d{2}:\\d{2} \\d{4})$`,
);

/**
 * A provider's Retry-After as the router forwards it (RFC 9110 §10.2.3): delta-seconds, capped at
 * MAX_RETRY_AFTER_SECONDS, or an HTTP date re-written as IMF-fixdate; anything else is dropped.
 */
export function safeRetryAfter(value: string | string[] | undefined): string | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d{1,12}$/.test(text)) return String(Math.min(Number(text), MAX_RETRY_AFTER_SECONDS));
  if (!HTTP_DATE.test(text)) return undefined;
  // asctime names no zone; HTTP dates are always GMT.
  const at = Date.parse(text.endsWith('GMT') ? text : `${text} GMT`);
  if (!Number.isFinite(at)) return undefined;
  if (at - Date.now() > MAX_RETRY_AFTER_SECONDS * 1000) return String(MAX_RETRY_AFTER_SECONDS);
  return new Date(at).toUTCString();
}
