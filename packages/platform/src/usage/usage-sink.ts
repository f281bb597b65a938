// Where usage records go: an in-memory queue, written to `usage_records` in batches on a timer,
// so no request waits for a database write. A batch the database cannot take (unreachable, full,
// busy) goes back to the front of the queue and is tried again on the next tick. A batch it
// refuses for what a record holds (a constraint, a value it cannot store) is written in halves
// until that record stands alone: the others are written, and the record itself is logged in full
// and dropped, so that one bad record never holds back the metering of every call behind it.
// Records are otherwise dropped only past `maxQueued` (a long outage) or when shutdown finds the
// database still down; every drop is logged and counted.

import { CompiledQuery, type Kysely } from 'kysely';
import type { Logger } from 'pino';
import { isRefusedData } from '../db/refused-data.js';
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
   * Insert each record with one single-row statement, the whole batch in one transaction: for
   * SQLite, which keeps that statement prepared. PostgreSQL gets one multi-row insert per batch
   * (one round trip).
   */
  rowByRow?: boolean;
}

/** How often queued records are written: also the most a SIGKILL can lose (measured by `npm run soak`). */
export const USAGE_FLUSH_INTERVAL_MS = 1000;

type InsertRows = (rows: UsageRecordTable[]) => Promise<void>;

/** One insert for the whole batch: a single statement, all or nothing. */
const multiRowInsert =
  (db: Kysely<Database>): InsertRows =>
  async (rows) =>
    void (await db.insertInto('usage_records').values(rows).execute());

/**
 * The batch in one transaction, one single-row insert per record. Kysely compiles that insert
 * once and SQLite keeps it prepared (database.ts's statement cache); a multi-row insert would have
 * Kysely build, and that cache look up, a SQL text of thousands of parameters on every batch,
 * which took about as long again as SQLite's own work (docs/performance.md, tenth round).
 */
function rowByRowInsert(db: Kysely<Database>): InsertRows {
  let single: { sql: string; columns: Array<keyof UsageRecordTable> } | undefined;
  return async (rows) => {
    if (rows.length === 0) return;
    if (!single) {
      // Every column, named by the row's keys; a null in each so that none is left out of the SQL.
      const columns = Object.keys(rows[0]!) as Array<keyof UsageRecordTable>;
      const template = Object.fromEntries(columns.map((column) => [column, null])) as unknown as UsageRecordTable;
      single = { sql: db.insertInto('usage_records').values(template).compile().sql, columns };
    }
    const { sql, columns } = single;
    await db.transaction().execute(async (tx) => {
      for (const row of rows) await tx.executeQuery(CompiledQuery.raw(sql, columns.map((column) => row[column] ?? null)));
    });
  };
}

export function createUsageSink(db: Kysely<Database>, log: Logger, options: UsageSinkOptions = {}): UsageSink {
  const flushIntervalMs = options.flushIntervalMs ?? USAGE_FLUSH_INTERVAL_MS;
  const batchSize = options.batchSize ?? 200;
  const maxQueued = options.maxQueued ?? 100_000;
  const insertRows = options.rowByRow ? rowByRowInsert(db) : multiRowInsert(db);
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
  /** Writes a batch; what could not be written for now (the database unable to take it) comes back. */
  const writeBatch = async (batch: UsageRecord[]): Promise<{ unwritten: UsageRecord[]; error?: unknown }> => {
    try {
      await insertRows(batch.map(toUsageRow));
      return { unwritten: [] };
    } catch (error) {
      if (!isRefusedData(error)) return { unwritten: batch, error };
      if (batch.length === 1) {
        observeUsageDropped(1);
        log.error({ err: error, usageRecord: toUsageRow(batch[0]!) }, 'usage record refused by the database; dropped (the others are written)');
        return { unwritten: [] };
      }
      const half = batch.length >> 1;
      const first = await writeBatch(batch.slice(0, half));
      if (first.unwritten.length > 0) return { unwritten: [...first.unwritten, ...batch.slice(half)], error: first.error };
      return writeBatch(batch.slice(half));
    }
  };
  const write = async (): Promise<void> => {
    while (queue.length > 0) {
      const { unwritten, error } = await writeBatch(queue.splice(0, batchSize));
      if (unwritten.length > 0) {
        queue.unshift(...unwritten);
        trim();
        if (!failing) log.warn({ err: error, queued: queue.length }, 'usage records could not be written; retrying');
        failing = true;
        return;
      }
      if (failing) log.info('usage records are being written again');
      failing = false;
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
