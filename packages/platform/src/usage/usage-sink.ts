// Where usage records go: an in-memory queue, written to `usage_records` in batches on a timer,
// so no request waits for a database write. A batch the database refuses goes back to the front
// of the queue and is tried again on the next tick; records are dropped only past `maxQueued`
// (a long outage) or when shutdown finds the database still down, and both are logged.

import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import { observeCall, observeUsageDropped, trackUsageQueue } from '../metrics/metrics.js';
import { toUsageRow, type UsageRecord, type UsageRecordTable } from './usage-record.js';

export interface UsageSink {
  record(record: UsageRecord): void;
  /** Write everything queued now (tests, shutdown). */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Hook for tests and later consumers (pricing, limits): called for every record, synchronously. */
  onRecord(listener: (record: UsageRecord) => void): void;
}

export interface UsageSinkOptions {
  flushIntervalMs?: number;
  /** Flush early when this many records are waiting. */
  batchSize?: number;
  /** Past this many queued records (database down), the oldest are dropped and counted in the log. */
  maxQueued?: number;
  /**
   * Cut each batch into inserts of 128, 64, … rows (in one transaction), so a few SQL texts serve
   * every batch: for SQLite, which keeps prepared statements. PostgreSQL gets one insert per batch.
   */
  splitInserts?: boolean;
}

/** How often queued records are written: also the most a SIGKILL can lose (measured by `npm run soak`). */
export const USAGE_FLUSH_INTERVAL_MS = 1000;

/** The row counts a batch is cut into: powers of two, so a few SQL texts serve every batch and SQLite reuses their prepared statements. */
const LARGEST_INSERT = 128;

/** One batch, all or nothing: in one transaction when it takes more than one statement. */
async function insertRows(db: Kysely<Database>, rows: UsageRecordTable[], split: boolean): Promise<void> {
  if (!split) return void (await db.insertInto('usage_records').values(rows).execute());
  const pieces: UsageRecordTable[][] = [];
  for (let at = 0; at < rows.length; ) {
    const size = 2 ** Math.floor(Math.log2(Math.min(rows.length - at, LARGEST_INSERT)));
    pieces.push(rows.slice(at, at + size));
    at += size;
  }
  if (pieces.length === 1) return void (await db.insertInto('usage_records').values(pieces[0]!).execute());
  await db.transaction().execute(async (tx) => {
    for (const piece of pieces) await tx.insertInto('usage_records').values(piece).execute();
  });
}

export function createUsageSink(db: Kysely<Database>, log: Logger, options: UsageSinkOptions = {}): UsageSink {
  const flushIntervalMs = options.flushIntervalMs ?? USAGE_FLUSH_INTERVAL_MS;
  const batchSize = options.batchSize ?? 200;
  const maxQueued = options.maxQueued ?? 100_000;
  const splitInserts = options.splitInserts ?? false;
  let queue: UsageRecord[] = [];
  let writing: Promise<void> | undefined;
  let failing = false;
  let closed = false;
  const listeners: Array<(record: UsageRecord) => void> = [observeCall];
  const untrackQueue = trackUsageQueue(() => queue.length);

  const trim = () => {
    if (queue.length <= maxQueued) return;
    const dropped = queue.length - maxQueued;
    queue = queue.slice(dropped);
    observeUsageDropped(dropped);
    log.error({ dropped }, 'usage queue full (database unreachable?); oldest records dropped');
  };
  const write = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch = queue.splice(0, batchSize);
      try {
        await insertRows(db, batch.map(toUsageRow), splitInserts);
        if (failing) log.info('usage records are being written again');
        failing = false;
      } catch (error) {
        queue.unshift(...batch);
        trim();
        if (!failing) log.warn({ err: error, queued: queue.length }, 'usage records could not be written; retrying');
        failing = true;
        return;
      }
    }
  };
  const flush = (): Promise<void> => {
    writing ??= write().finally(() => {
      writing = undefined;
    });
    return writing;
  };
  const timer = setInterval(() => void flush(), flushIntervalMs);
  timer.unref();

  return {
    record(record) {
      for (const listener of listeners) {
        try {
          listener(record);
        } catch (error) {
          log.warn({ err: error }, 'usage listener failed');
        }
      }
      if (closed) {
        log.warn({ requestId: record.requestId }, 'usage record after close; writing it alone');
      }
      queue.push(record);
      trim();
      if ((queue.length >= batchSize && !failing) || closed) void flush();
    },
    flush,
    async close() {
      closed = true;
      clearInterval(timer);
      await writing;
      await flush();
      untrackQueue();
      if (queue.length) {
        observeUsageDropped(queue.length);
        log.error({ dropped: queue.length }, 'usage records could not be written before shutdown; dropped');
      }
    },
    onRecord(listener) {
      listeners.push(listener);
    },
  };
}
