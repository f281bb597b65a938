// Telling "the other side is not there" apart from "the other side said no".

/** True for errors fetch throws when no HTTP answer arrived: refused, reset, DNS, timeout. */
export function isNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'TimeoutError') return true;
  return error instanceof TypeError && error.message === 'fetch failed';
}

/** How long to wait for Keyward's OAuth endpoints and the model list; chat streams are not bounded here. */
export const REQUEST_TIMEOUT_MS = 10_000;
