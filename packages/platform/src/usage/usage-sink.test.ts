import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { UsageRecord } from './usage-record.js';
import { createUsageSink } from './usage-sink.js';
import { usageRecord } from '../../test/usage/support/usage-record.js';

/**
 * A database whose inserts fail while `down` is set, refuse (as PostgreSQL refuses a NOT NULL
 * violation) any batch holding one of `refuse`'s request ids, go down after `downAfter` more
 * inserts, and which remembers what it stored.
 */
function fakeDatabase() {
  const stored: string[] = [];
  const state = { down: false, stored, refuse: new Set<string>(), downAfter: Infinity, inserts: 0 };
  const db = {
    insertInto: () => ({
      values: (rows: Array<{ request_id: string }>) => ({
        execute: async () => {
          state.inserts += 1;
          if (state.inserts > state.downAfter) state.down = true;
          if (state.down) throw new Error('connection refused');
          if (rows.some((r) => state.refuse.has(r.request_id))) throw Object.assign(new Error('null value in column violates not-null constraint'), { code: '23502' });
          stored.push(...rows.map((r) => r.request_id));
        },
      }),
    }),
  };
  return { db: db as never, state };
}

function logCapture() {
  const lines: Array<{ level: number; msg: string; dropped?: number }> = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { log, lines };
}

const record = (n: number): UsageRecord => usageRecord({ id: `id-${n}`, requestId: `req-${n}` });

describe('the usage sink', () => {
  it('keeps records through a database outage and writes them, in order, when it is back', async () => {
    const { db, state } = fakeDatabase();
    const { log, lines } = logCapture();
    const sink = createUsageSink(db, log, { flushIntervalMs: 60_000, batchSize: 3 });
    state.down = true;
    for (let n = 0; n < 7; n++) sink.record(record(n));
    for (let attempt = 0; attempt < 5; attempt++) await sink.flush();
    expect(state.stored).toEqual([]);
    expect(lines.filter((l) => l.msg.includes('could not be written; retrying'))).toHaveLength(1);
    state.down = false;
    await sink.flush();
    expect(state.stored).toEqual(['req-0', 'req-1', 'req-2', 'req-3', 'req-4', 'req-5', 'req-6']);
    await sink.close();
  });

  it('drops a record the database refuses for what it holds, alone, and writes the rest of its batch in order', async () => {
    const { db, state } = fakeDatabase();
    const { log, lines } = logCapture();
    const sink = createUsageSink(db, log, { flushIntervalMs: 60_000, batchSize: 10 });
    state.refuse = new Set(['req-2', 'req-7', 'req-13']);
    for (let n = 0; n < 15; n++) sink.record(record(n));
    await sink.flush();
    expect(state.stored).toEqual(['req-0', 'req-1', 'req-3', 'req-4', 'req-5', 'req-6', 'req-8', 'req-9', 'req-10', 'req-11', 'req-12', 'req-14']);
    expect(lines.filter((l) => l.msg.startsWith('usage record refused by the database')).map((l) => l.level)).toEqual([50, 50, 50]);
    expect(lines.some((l) => l.msg.includes('retrying'))).toBe(false);
    await sink.close();
  });

  it('keeps what it has not written when the database goes down while it sets a refused record apart, and writes it once, later', async () => {
    const { db, state } = fakeDatabase();
    const { log } = logCapture();
    const sink = createUsageSink(db, log, { flushIntervalMs: 60_000, batchSize: 8 });
    state.refuse = new Set(['req-6']);
    // The batch fails, its first half goes in, then the database is gone.
    state.downAfter = 2;
    for (let n = 0; n < 8; n++) sink.record(record(n));
    await sink.flush();
    expect(state.stored).toEqual(['req-0', 'req-1', 'req-2', 'req-3']);
    state.down = false;
    state.downAfter = Infinity;
    await sink.flush();
    expect(state.stored).toEqual(['req-0', 'req-1', 'req-2', 'req-3', 'req-4', 'req-5', 'req-7']);
    await sink.close();
  });

  it('drops only the oldest records past maxQueued, and says how many', async () => {
    const { db, state } = fakeDatabase();
    const { log, lines } = logCapture();
    const sink = createUsageSink(db, log, { flushIntervalMs: 60_000, maxQueued: 5 });
    state.down = true;
    for (let n = 0; n < 8; n++) sink.record(record(n));
    state.down = false;
    await sink.close();
    expect(state.stored).toEqual(['req-3', 'req-4', 'req-5', 'req-6', 'req-7']);
    expect(lines.filter((l) => l.msg.includes('oldest records dropped')).reduce((sum, l) => sum + (l.dropped ?? 0), 0)).toBe(3);
  });

  it('writes everything queued on close, and logs what a dead database made it lose', async () => {
    const { db, state } = fakeDatabase();
    const { log, lines } = logCapture();
    const sink = createUsageSink(db, log, { flushIntervalMs: 60_000 });
    sink.record(record(1));
    await sink.close();
    expect(state.stored).toEqual(['req-1']);

    const dead = fakeDatabase();
    dead.state.down = true;
    const lost = createUsageSink(dead.db, log, { flushIntervalMs: 60_000 });
    lost.record(record(2));
    await lost.close();
    expect(lines.some((l) => l.msg.includes('before shutdown; dropped') && l.dropped === 1)).toBe(true);
  });
});
