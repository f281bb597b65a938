// Where usage records go: an in-memory queue, written to `usage_records` in batches on a timer,
// so no request waits for a database write. Flushed on close; a failed batch is retried once on
// the next tick and then logged, never thrown at a caller.

import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.js';
import { toUsageRow, type UsageRecord } from './usage-record.js';

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
}

export function createUsageSink(db: Kysely<Database>, log: Logger, options: UsageSinkOptions = {}): UsageSink {
  const flushIntervalMs = options.flushIntervalMs ?? 1000;
  const batchSize = options.batchSize ?? 200;
  const maxQueued = options.maxQueued ?? 100_000;
  let queue: UsageRecord[] = [];
  let retry: UsageRecord[] = [];
  let writing: Promise<void> | undefined;
  let closed = false;
  const listeners: Array<(record: UsageRecord) => void> = [];

  const write = async (): Promise<void> => {
    const batch = [...retry, ...queue];
    const hadRetry = retry.length;
    retry = [];
    queue = [];
    // SQLite and PostgreSQL both take a few hundred rows per insert comfortably.
    for (let i = 0; i < batch.length; i += 200) {
      const slice = batch.slice(i, i + 200);
      try {
        await db.insertInto('usage_records').values(slice.map(toUsageRow)).execute();
      } catch (error) {
        if (hadRetry > 0 && i < hadRetry) {
          log.error({ err: error, dropped: slice.length }, 'usage records could not be written twice; dropped');
        } else {
          retry.push(...slice);
          log.warn({ err: error, records: slice.length }, 'usage records could not be written; will retry');
        }
      }
    }
  };
  const flush = (): Promise<void> => {
    if (writing) return writing.then(() => (queue.length || retry.length ? flush() : undefined));
    if (queue.length === 0 && retry.length === 0) return Promise.resolve();
    writing = write().finally(() => {
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
      if (queue.length > maxQueued) {
        const dropped = queue.length - maxQueued;
        queue = queue.slice(dropped);
        log.error({ dropped }, 'usage queue full (database unreachable?); oldest records dropped');
      }
      if (queue.length >= batchSize || closed) void flush();
    },
    flush,
    async close() {
      closed = true;
      clearInterval(timer);
      await flush();
      if (retry.length) await flush();
    },
    onRecord(listener) {
      listeners.push(listener);
    },
  };
}
