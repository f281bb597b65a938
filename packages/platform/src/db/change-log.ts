// Cross-instance cache invalidation: writers append a row, every instance polls for rows newer
// than the last it saw. One cheap indexed query per poll interval, none per request.

import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

export type ChangeTopic = 'grant' | 'client' | 'provider_key' | 'llm_proxy' | 'membership' | 'user' | 'model_price' | 'spending_limit';

export async function recordChange(db: Kysely<Database>, topic: ChangeTopic, subjectId: string): Promise<void> {
  await db.insertInto('change_log').values({ topic, subject_id: subjectId, created_at: Date.now() }).execute();
}

export interface ChangeFeed {
  /** Subscribe to a topic; the listener gets the subject id of every change (local and remote). */
  on(topic: ChangeTopic, listener: (subjectId: string) => void): void;
  /** Tell local listeners at once, and other instances through the log. */
  publish(topic: ChangeTopic, subjectId: string): Promise<void>;
  /** Poll now (tests; normally on a timer). */
  poll(): Promise<void>;
  /** Delete rows no instance can still need (normally on a timer). */
  prune(now?: number): Promise<void>;
  stop(): void;
}

/** Every instance reads a change within a poll interval; an hour is ample for one that paused. */
export const CHANGE_LOG_RETENTION_MS = 60 * 60_000;
const PRUNE_INTERVAL_MS = 10 * 60_000;

export async function startChangeFeed(db: Kysely<Database>, intervalMs = 1000): Promise<ChangeFeed> {
  const listeners = new Map<string, Array<(id: string) => void>>();
  const last = await db.selectFrom('change_log').select((eb) => eb.fn.max('seq').as('seq')).executeTakeFirst();
  let cursor = Number(last?.seq ?? 0);
  let polling: Promise<void> | undefined;
  const emit = (topic: string, id: string) => {
    for (const listener of listeners.get(topic) ?? []) listener(id);
  };
  const poll = async () => {
    const rows = await db
      .selectFrom('change_log')
      .select(['seq', 'topic', 'subject_id'])
      .where('seq', '>', cursor)
      .orderBy('seq')
      .limit(1000)
      .execute();
    for (const row of rows) {
      cursor = Math.max(cursor, Number(row.seq));
      emit(row.topic, row.subject_id);
    }
  };
  const prune = async (now = Date.now()) => {
    await db.deleteFrom('change_log').where('created_at', '<', now - CHANGE_LOG_RETENTION_MS).execute();
  };
  const timer = setInterval(() => {
    polling ??= poll()
      .catch(() => undefined)
      .finally(() => {
        polling = undefined;
      });
  }, intervalMs);
  timer.unref();
  const pruneTimer = setInterval(() => void prune().catch(() => undefined), PRUNE_INTERVAL_MS);
  pruneTimer.unref();
  return {
    on(topic, listener) {
      listeners.set(topic, [...(listeners.get(topic) ?? []), listener]);
    },
    async publish(topic, subjectId) {
      emit(topic, subjectId);
      await recordChange(db, topic, subjectId);
    },
    poll,
    prune,
    stop: () => {
      clearInterval(timer);
      clearInterval(pruneTimer);
    },
  };
}
