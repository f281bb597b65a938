// Cross-instance cache invalidation: writers append a row, every instance polls for rows newer
// than the last it saw. One cheap indexed query per poll interval, none per request.
//
// Gap-proof: on PostgreSQL a row's `seq` is taken when it is inserted but becomes visible when its
// transaction commits, so a lower seq can appear after a higher one was read. Every seq skipped
// below the highest one read is remembered as a gap and asked for again by the same query
// (`seq > cursor OR seq IN (gaps)`) until it appears or GAP_WAIT_MS has passed (a rolled-back
// insert leaves a gap that never fills). SQLite commits in seq order; the same code runs there.

import type { Kysely } from 'kysely';
import pino, { type Logger } from 'pino';
import { createBackgroundJobs, type BackgroundJob, type BackgroundJobs } from '../background-jobs.js';
import type { Database } from './schema.js';
import { changedTopics, readTopicStamps } from './table-stamps.js';

export type ChangeTopic =
  | 'grant'
  | 'client'
  | 'provider_key'
  | 'llm_proxy'
  | 'membership'
  | 'user'
  | 'key_base_url_allow'
  | 'model_price'
  | 'spending_limit'
  | 'app_cap_policy';

export async function recordChange(db: Kysely<Database>, topic: ChangeTopic, subjectId: string): Promise<void> {
  await db.insertInto('change_log').values({ topic, subject_id: subjectId, created_at: Date.now() }).execute();
}

export interface ChangeFeed {
  /** Subscribe to a topic; the listener gets the subject id of every change (local and remote). */
  on(topic: ChangeTopic, listener: (subjectId: string) => void): void;
  /**
   * Told when the topic's tables changed in a way no notice may have reported (table-stamps.ts):
   * the subject is unknown, so everything of the topic a cache holds is to be read again.
   */
  onResync(topic: ChangeTopic, listener: () => void): void;
  /** Compares the tables' summaries now (tests; normally a background job). */
  resync(): Promise<void>;
  /** Tell local listeners at once, and other instances through the log. */
  publish(topic: ChangeTopic, subjectId: string): Promise<void>;
  /** Poll now (tests; normally a background job). Rejects if the database does. */
  poll(): Promise<void>;
  /** Delete rows no instance can still need (normally a background job). */
  prune(now?: number): Promise<void>;
  /** Stops this feed's jobs; resolves when a poll under way has finished. */
  stop(): Promise<void>;
}

/** Every instance reads a change within a poll interval; an hour is ample for one that paused. */
export const CHANGE_LOG_RETENTION_MS = 60 * 60_000;
/** Each instance reads the log this often: a change reaches every instance within about this. */
export const CHANGE_POLL_INTERVAL_MS = 1000;
/** How often the cached tables' summaries are compared: a lost notice reaches caches within about this. */
export const RESYNC_INTERVAL_MS = 5000;
/**
 * How long a skipped seq is asked for again. Changes are appended by single autocommitted
 * inserts, which commit within milliseconds; a minute covers lock waits and stalled fsyncs.
 */
export const GAP_WAIT_MS = 60_000;
const PRUNE_INTERVAL_MS = 10 * 60_000;
const BATCH_SIZE = 1000;
/** Most gaps asked for at once (the query's IN list); past it the oldest are given up, logged. */
const MAX_GAPS = 1000;

export interface ChangeFeedOptions {
  /** Where the poll and prune jobs run; without one the feed runs its own (tests, the CLI). */
  jobs?: BackgroundJobs;
  log?: Logger;
  intervalMs?: number;
  resyncIntervalMs?: number;
  gapWaitMs?: number;
  /** Told when each newly read change was written (ms): the feed's lag, for the metrics. */
  onRead?: (writtenAt: number) => void;
}

export async function startChangeFeed(db: Kysely<Database>, options: ChangeFeedOptions = {}): Promise<ChangeFeed> {
  const log = options.log ?? pino({ level: 'warn' });
  const jobs = options.jobs ?? createBackgroundJobs(log);
  const gapWaitMs = options.gapWaitMs ?? GAP_WAIT_MS;
  const listeners = new Map<string, Array<(id: string) => void>>();
  /** Skipped seq → when to stop asking for it. */
  const gaps = new Map<number, number>();
  let givenUp = 0;
  const addGap = (seq: number, until: number) => {
    gaps.set(seq, until);
    if (gaps.size <= MAX_GAPS) return;
    // Insertion order is the order gaps were noticed: the first key is the oldest.
    gaps.delete(gaps.keys().next().value!);
    givenUp += 1;
  };
  const reportGivenUp = () => {
    if (givenUp) log.warn({ gaps: givenUp }, 'change feed: more sequence gaps than it can await; the oldest were given up');
    givenUp = 0;
  };

  // Start from the newest row, but still await seqs missing among the latest ones: a change
  // being committed right now must not be lost to an instance that is just starting.
  const recent = await db.selectFrom('change_log').select('seq').orderBy('seq', 'desc').limit(MAX_GAPS).execute();
  const recentSeqs = recent.map((r) => Number(r.seq));
  let cursor = recentSeqs[0] ?? 0;
  const present = new Set(recentSeqs);
  for (let seq = (recentSeqs.at(-1) ?? 0) + 1; seq < cursor; seq++) if (!present.has(seq)) addGap(seq, Date.now() + gapWaitMs);
  reportGivenUp();

  const emit = (topic: string, id: string) => {
    for (const listener of listeners.get(topic) ?? []) {
      try {
        listener(id);
      } catch (error) {
        log.error({ err: error, topic }, 'change feed listener failed');
      }
    }
  };

  // Resync listeners share the topic listeners' map, under a key no change row carries.
  const resyncKey = (topic: ChangeTopic) => `resync:${topic}`;
  let stamps = await readTopicStamps(db);
  // One comparison at a time; a failed read keeps the last summaries, so the next one still sees the change.
  let resyncing: Promise<void> | undefined;
  const resync = (): Promise<void> =>
    (resyncing ??= (async () => {
      try {
        const next = await readTopicStamps(db);
        const changed = changedTopics(stamps, next);
        stamps = next;
        for (const topic of changed) emit(resyncKey(topic), '');
      } finally {
        resyncing = undefined;
      }
    })());

  const readOnce = async (): Promise<number> => {
    const startedAt = Date.now();
    const awaited = [...gaps.keys()];
    const rows = await db
      .selectFrom('change_log')
      .select(['seq', 'topic', 'subject_id', 'created_at'])
      .where((eb) => (awaited.length ? eb.or([eb('seq', '>', cursor), eb('seq', 'in', awaited)]) : eb('seq', '>', cursor)))
      .orderBy('seq')
      .limit(BATCH_SIZE)
      .execute();
    for (const row of rows) {
      const seq = Number(row.seq);
      if (seq > cursor) {
        // Only the newest MAX_GAPS of a wide jump are worth awaiting (a sequence reset, say).
        for (let skipped = Math.max(cursor + 1, seq - MAX_GAPS); skipped < seq; skipped++) addGap(skipped, startedAt + gapWaitMs);
        cursor = seq;
        options.onRead?.(Number(row.created_at));
      } else if (!gaps.delete(seq)) {
        continue;
      }
      emit(row.topic, row.subject_id);
    }
    // A gap is given up only after a successful read past its deadline still did not find it.
    for (const [seq, until] of gaps) if (until <= startedAt) gaps.delete(seq);
    reportGivenUp();
    return rows.length;
  };
  // Polls run one after another (a test's poll never interleaves with the timer's); a failed
  // poll rejects to its caller, and only the ordering chain ignores it.
  let chain: Promise<unknown> = Promise.resolve();
  const poll = (): Promise<void> => {
    const next = chain.then(async () => {
      while ((await readOnce()) === BATCH_SIZE);
    });
    chain = next.catch(() => undefined);
    return next;
  };
  const prune = async (now = Date.now()) => {
    await db.deleteFrom('change_log').where('created_at', '<', now - CHANGE_LOG_RETENTION_MS).execute();
  };

  const own: BackgroundJob[] = [
    jobs.every('change feed poll', options.intervalMs ?? CHANGE_POLL_INTERVAL_MS, poll),
    jobs.every('change log prune', PRUNE_INTERVAL_MS, () => prune()),
    jobs.every('cached tables resync', options.resyncIntervalMs ?? RESYNC_INTERVAL_MS, resync),
  ];
  return {
    on(topic, listener) {
      listeners.set(topic, [...(listeners.get(topic) ?? []), listener]);
    },
    onResync(topic, listener) {
      const key = resyncKey(topic);
      listeners.set(key, [...(listeners.get(key) ?? []), listener]);
    },
    resync,
    async publish(topic, subjectId) {
      emit(topic, subjectId);
      await recordChange(db, topic, subjectId);
    },
    poll,
    prune,
    async stop() {
      await Promise.all(own.map((job) => job.stop()));
    },
  };
}
