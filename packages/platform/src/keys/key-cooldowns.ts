// Keys that just failed are rested: a key that answered 429 or 5xx, or timed out, goes to the end
// of its rank for a while (the provider's Retry-After, bounded; a default without one), so the
// next calls start with a key of the same rank that works. When the rest is over, one call probes
// the key; its outcome decides whether the key is back or rests again. In memory, per instance:
// each instance learns on its own, which costs at most one failed attempt per key and instance.

import type { UsableProviderKey } from './resolve-provider-key.js';

/** Without a Retry-After: long enough to skip a burst, short enough to notice recovery soon. */
export const DEFAULT_KEY_REST_MS = 30_000;
/** A Retry-After is honoured up to this: a provider's "come back tomorrow" should not bench a key for a day unseen. */
export const MAX_KEY_REST_MS = 10 * 60_000;
/** A probe that never reported (its caller went away) frees the key for another probe after this. */
const PROBE_TIMEOUT_MS = 60_000;

interface Rest {
  until: number;
  probeStartedAt?: number;
}

export class KeyCooldowns {
  private readonly resting = new Map<string, Rest>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The keys in their order, resting ones moved behind the others; a key whose rest is over is let through as this call's probe. */
  order<K extends Pick<UsableProviderKey, 'id'>>(keys: readonly K[]): K[] {
    if (keys.length < 2 || this.resting.size === 0) return [...keys];
    const now = this.now();
    const ready: K[] = [];
    const benched: K[] = [];
    for (const key of keys) {
      const rest = this.resting.get(key.id);
      if (!rest) ready.push(key);
      else if (rest.until <= now && (rest.probeStartedAt === undefined || now - rest.probeStartedAt > PROBE_TIMEOUT_MS)) {
        rest.probeStartedAt = now;
        ready.push(key);
      } else benched.push(key);
    }
    return [...ready, ...benched];
  }

  /** The key failed in a way another key might not (429, 5xx, timeout): rest it. */
  rest(keyId: string, retryAfter?: string): void {
    this.resting.set(keyId, { until: this.now() + restMs(retryAfter, this.now()) });
  }

  /** The key answered: it is back. */
  recover(keyId: string): void {
    this.resting.delete(keyId);
  }

  isResting(keyId: string): boolean {
    const rest = this.resting.get(keyId);
    return rest !== undefined && rest.until > this.now();
  }
}

/** Retry-After as seconds or an HTTP date, bounded; the default when absent or unreadable. */
export function restMs(retryAfter: string | undefined, now: number): number {
  if (!retryAfter) return DEFAULT_KEY_REST_MS;
  const seconds = Number(retryAfter);
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - now;
  if (!Number.isFinite(ms) || ms <= 0) return DEFAULT_KEY_REST_MS;
  return Math.min(ms, MAX_KEY_REST_MS);
}
