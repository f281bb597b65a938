import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANGE_LOG_RETENTION_MS, startChangeFeed, type ChangeFeed } from '../../src/db/change-log.js';
import { migrateToLatest, openStorage, type Storage } from '../../src/db/database.js';
import { createTestDatabase } from '../support/test-database.js';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let storage: Storage;
const feeds: ChangeFeed[] = [];
beforeAll(async () => {
  database = await createTestDatabase();
  storage = openStorage(database);
  await migrateToLatest(storage);
});
afterAll(async () => {
  for (const feed of feeds) feed.stop();
  await storage.close();
  await database.drop();
});

async function feed() {
  const f = await startChangeFeed(storage.db, 60_000);
  feeds.push(f);
  return f;
}

describe('the change feed', () => {
  it('tells local listeners at once and other instances at their next poll, never replaying the past', async () => {
    await (await feed()).publish('provider_key', 'before-b-started');
    const a = await feed();
    const b = await feed();
    const seenByA: string[] = [];
    const seenByB: string[] = [];
    a.on('provider_key', (id) => seenByA.push(id));
    b.on('provider_key', (id) => seenByB.push(id));
    b.on('grant', () => seenByB.push('wrong topic'));

    await a.publish('provider_key', 'k1');
    expect(seenByA).toEqual(['k1']);
    expect(seenByB).toEqual([]);
    await b.poll();
    expect(seenByB).toEqual(['k1']);
    await b.poll();
    expect(seenByB).toEqual(['k1']);
  });

  it('prunes rows older than the retention, keeps recent ones', async () => {
    const f = await feed();
    const now = Date.now();
    await storage.db.insertInto('change_log').values({ topic: 'grant', subject_id: 'old', created_at: now - CHANGE_LOG_RETENTION_MS - 1 }).execute();
    await f.publish('grant', 'recent');
    await f.prune(now);
    const left = await storage.db.selectFrom('change_log').select('subject_id').execute();
    expect(left.map((r) => r.subject_id)).toContain('recent');
    expect(left.map((r) => r.subject_id)).not.toContain('old');
  });
});
