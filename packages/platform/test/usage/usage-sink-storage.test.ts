// The usage sink against a real database, on each engine: a batch is written all or nothing
// (on SQLite it is cut into several inserts in one transaction), and a batch refused by the
// database leaves nothing behind and stays queued.

import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, openStorage, type Storage } from '../../src/db/database.js';
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

const record = (id: string, n: number) => usageRecord({ id, requestId: `req-${n}`, createdAt: 1_700_000_000_000 + n });

const count = async (prefix: string) =>
  Number((await storage.db.selectFrom('usage_records').select((eb) => eb.fn.countAll().as('n')).where('request_id', 'like', `${prefix}%`).executeTakeFirstOrThrow()).n);

describe('usage sink on the database', () => {
  const sinkOn = () => createUsageSink(storage.db, pino({ level: 'silent' }), { flushIntervalMs: 60_000, batchSize: 1000, splitInserts: storage.dialect === 'sqlite' });

  it('writes a 203-record batch whole', async () => {
    const sink = sinkOn();
    for (let n = 0; n < 203; n++) sink.record(record(`ok-${n}`, n));
    await sink.flush();
    expect(await count('req-')).toBe(203);
    await sink.close();
  });

  it('leaves nothing of a batch the database refuses part-way, keeps it queued, and writes it whole once it can', async () => {
    const sink = sinkOn();
    // Record 150 reuses an id already stored: on SQLite that is in the 64-row insert that follows a 128-row one.
    for (let n = 0; n < 200; n++) sink.record({ ...record(n === 150 ? 'ok-0' : `later-${n}`, 10_000 + n), requestId: `refused-${n}` });
    await sink.flush();
    expect(await count('refused-')).toBe(0);
    expect(await count('req-')).toBe(203);
    await storage.db.deleteFrom('usage_records').where('id', '=', 'ok-0').execute();
    await sink.flush();
    expect(await count('refused-')).toBe(200);
    await sink.close();
  });
});
