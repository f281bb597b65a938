// Requests and tokens per limit and UTC minute, counted locally and added to the shared row once a
// second; each instance decides on the last total it read plus its own unsynced count. Across N
// instances a window can admit up to (N − 1) × what one instance admits in a sync interval too many.

import { sql, type Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { MINUTE_MS, minuteStart } from './limit-periods.js';
import './spending-limits.js';

interface Window {
  limitId: string;
  windowStart: number;
  /** Totals of every instance at the last sync, this one's included. */
  syncedRequests: number;
  syncedTokens: number;
  pendingRequests: number;
  pendingTokens: number;
}

export class RateCounter {
  private readonly windows = new Map<string, Window>();
  private syncing: Promise<void> | undefined;

  constructor(private readonly db: Kysely<Database>) {}

  private window(limitId: string, now: number): Window {
    const start = minuteStart(now);
    let w = this.windows.get(limitId);
    if (!w || w.windowStart !== start) {
      // The old window's unsynced counts no longer matter to any decision; drop them.
      w = { limitId, windowStart: start, syncedRequests: 0, syncedTokens: 0, pendingRequests: 0, pendingTokens: 0 };
      this.windows.set(limitId, w);
    }
    return w;
  }

  /** Seconds until this minute's window ends, when one more request would pass a limit; else null (and it is counted). */
  admit(limitId: string, requestsPerMinute: number | null, tokensPerMinute: number | null, now = Date.now()): { retryAfterSeconds: number; which: 'requests' | 'tokens' } | null {
    const w = this.window(limitId, now);
    const retryAfterSeconds = Math.max(1, Math.ceil((w.windowStart + MINUTE_MS - now) / 1000));
    if (requestsPerMinute !== null && w.syncedRequests + w.pendingRequests + 1 > requestsPerMinute) return { retryAfterSeconds, which: 'requests' };
    if (tokensPerMinute !== null && w.syncedTokens + w.pendingTokens >= tokensPerMinute) return { retryAfterSeconds, which: 'tokens' };
    w.pendingRequests += 1;
    return null;
  }

  /**
   * Takes back a request `admit` counted at `admittedAt`, for a call refused after it by another
   * limit: a refused call uses no one's requests per minute. Once synced, the next sync subtracts it.
   */
  release(limitId: string, admittedAt: number): void {
    const w = this.windows.get(limitId);
    if (w && w.windowStart === minuteStart(admittedAt)) w.pendingRequests -= 1;
  }

  /** Tokens are known when the call ends. */
  addTokens(limitId: string, tokens: number, now = Date.now()): void {
    if (tokens > 0) this.window(limitId, now).pendingTokens += tokens;
  }

  sync(now = Date.now()): Promise<void> {
    this.syncing ??= this.write(now).finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  private async write(now: number): Promise<void> {
    const current = minuteStart(now);
    for (const [limitId, w] of this.windows) {
      if (w.windowStart < current - MINUTE_MS) {
        this.windows.delete(limitId);
        continue;
      }
      const requests = w.pendingRequests;
      const tokens = w.pendingTokens;
      w.pendingRequests = 0;
      w.pendingTokens = 0;
      try {
        const row = await this.db
          .insertInto('rate_windows')
          .values({ limit_id: limitId, window_start: w.windowStart, requests, tokens })
          .onConflict((oc) =>
            oc.columns(['limit_id', 'window_start']).doUpdateSet({
              requests: sql`rate_windows.requests + ${requests}`,
              tokens: sql`rate_windows.tokens + ${tokens}`,
            }),
          )
          .returning(['requests', 'tokens'])
          .executeTakeFirstOrThrow();
        w.syncedRequests = Number(row.requests);
        w.syncedTokens = Number(row.tokens);
      } catch (error) {
        w.pendingRequests += requests;
        w.pendingTokens += tokens;
        throw error;
      }
    }
  }

  /** Old windows serve no decision; keep the table small. */
  async prune(now = Date.now()): Promise<void> {
    await this.db.deleteFrom('rate_windows').where('window_start', '<', minuteStart(now) - 10 * MINUTE_MS).execute();
  }
}
