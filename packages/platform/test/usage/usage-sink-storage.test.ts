// The usage sink against a real database, on each engine and both ways of inserting (row by row
// in one transaction, what SQLite gets; one multi-row insert, what PostgreSQL gets): every column
// stored as recorded, text PostgreSQL cannot hold made storable, and a record the database refuses
// dropped alone (logged in full) while every other record of its batch is written, once each.

import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, openStorage, type Storage } from '../../src/db/database.js';
import { toUsageRow, type UsageRecord } from '../../src/usage/usage-record.js';
import { createUsageSink } from '../../src/usage/usage-sink.js';
import { createTestDatabase } from '../support/test-database.js';
import { usageRecord } from './support/usage-record.js';

let storage: Storage;
let drop: () => Promise<void>;
beforeAll(async () => {
  const database = await createTestDatabase();
  drop = database.drop;
  storage = openStorage(database);
  await migrateToLatest(storage);
});
afterAll(async () => {
  await storage.close();
  await drop();
});

/** Records whose columns vary: every field set in some, null in others. */
const varied = (prefix: string, n: number): UsageRecord =>
  usageRecord({
    id: `${prefix}-id-${n}`,
    requestId: `${prefix}-${n}`,
    createdAt: 1_700_000_000_000 + n,
    principalKind: n % 2 ? 'user' : 'client',
    userId: n % 2 ? `user-${n}` : null,
    clientId: `client-${n % 5}`,
    organizationId: 'org-1',
    proxyId: n % 3 ? 'proxy-1' : null,
    keyId: n % 4 ? `key-${n % 4}` : null,
    stream: n % 2 === 0,
    inputTokens: n % 7 ? n * 11 : null,
    outputTokens: n % 7 ? n * 3 : null,
    cachedTokens: n % 3 ? n : null,
    reasoningTokens: n % 5 ? 2 * n : null,
    cacheWriteTokens: n % 6 ? 1 : null,
    costNanoUsd: n % 7 ? 4_000_000_000_000 + n : null,
    unpriced: n % 7 === 0,
    latencyMs: 100 + n + 0.4,
    timeToFirstTokenMs: n % 2 ? 20 + n : null,
    status: n % 9 ? 200 : 502,
    outcome: n % 9 ? 'ok' : 'upstream_error',
    errorMessage: n % 9 ? null : `the provider's answer ${n} was malformed`,
  });

/** What the database holds for these request ids, as rows (PostgreSQL's bigints come back as strings). */
async function stored(prefix: string) {
  const rows = await storage.db.selectFrom('usage_records').selectAll().where('request_id', 'like', `${prefix}-%`).orderBy('created_at').execute();
  return rows.map((row) => ({ ...row, created_at: Number(row.created_at), cost_nano_usd: row.cost_nano_usd === null ? null : Number(row.cost_nano_usd) }));
}

describe.each([true, false])('usage sink on the database, row by row: %s', (rowByRow) => {
  const sinkOn = () => createUsageSink(storage.db, pino({ level: 'silent' }), { flushIntervalMs: 60_000, batchSize: 1000, rowByRow });
  const tag = rowByRow ? 'rows' : 'multi';

  it('stores every column of every record as recorded, in one batch of 203', async () => {
    const sink = sinkOn();
    const records = Array.from({ length: 203 }, (_, n) => varied(`${tag}-all`, n));
    for (const r of records) sink.record(r);
    await sink.flush();
    expect(await stored(`${tag}-all`)).toEqual(records.map(toUsageRow));
    await sink.close();
  });

  it('stores text holding U+0000 (which PostgreSQL cannot) with the character replaced', async () => {
    const sink = sinkOn();
    sink.record({ ...varied(`${tag}-nul`, 0), model: 'gpt\u0000x', errorMessage: 'the provider said \u0000\u0000 and stopped' });
    await sink.flush();
    expect(await stored(`${tag}-nul`)).toMatchObject([{ model: 'gpt\ufffdx', error_message: 'the provider said \ufffd\ufffd and stopped' }]);
    await sink.close();
  });

  it('writes every other record of a batch the database refuses some records of, once each, and logs and drops those alone', async () => {
    const lines: Array<{ level: number; msg: string; usageRecord?: { request_id: string } }> = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const sink = createUsageSink(storage.db, log, { flushIntervalMs: 60_000, batchSize: 1000, rowByRow });
    sink.record(varied(`${tag}-taken`, 0));
    await sink.flush();
    // Record 150 reuses an id already stored, record 17 has no request id: the batch fails as a whole.
    const refused = new Set([17, 150]);
    for (let n = 0; n < 200; n++) {
      const record = varied(`${tag}-mixed`, n);
      if (n === 150) record.id = `${tag}-taken-id-0`;
      if (n === 17) record.requestId = null as unknown as string;
      sink.record(record);
    }
    await sink.flush();
    const rows = await stored(`${tag}-mixed`);
    expect(rows.map((row) => row.request_id)).toEqual(Array.from({ length: 200 }, (_, n) => n).filter((n) => !refused.has(n)).map((n) => `${tag}-mixed-${n}`));
    const dropped = lines.filter((line) => line.msg.startsWith('usage record refused by the database'));
    expect(dropped.map((line) => [line.level, line.usageRecord?.request_id])).toEqual([
      [50, null],
      [50, `${tag}-mixed-150`],
    ]);
    // Nothing is left queued: later records go straight in.
    sink.record(varied(`${tag}-after`, 0));
    await sink.flush();
    expect(await stored(`${tag}-after`)).toHaveLength(1);
    expect(lines.some((line) => line.msg.includes('retrying'))).toBe(false);
    await sink.close();
  });
});
