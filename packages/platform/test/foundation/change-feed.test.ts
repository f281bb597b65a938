import { Writable } from 'node:stream';
import { sql } from 'kysely';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANGE_LOG_RETENTION_MS, startChangeFeed, type ChangeFeed } from '../../src/db/change-log.js';
import { randomBytes } from 'node:crypto';
import { migrateToLatest, openStorage, type Storage } from '../../src/db/database.js';
import { ensurePrimaryOrganization } from '../../src/accounts/organizations.js';
import { addTeamMember, createTeam } from '../../src/accounts/teams.js';
import { createUser } from '../../src/accounts/users.js';
import { addProviderKey } from '../../src/keys/provider-keys.js';
import { saveRegisteredClient } from '../../src/oauth/clients.js';
import { createLlmProxy } from '../../src/proxies/llm-proxies.js';
import { SealedBox } from '../../src/secrets/sealed-box.js';
import { createTestDatabase, testEngine } from '../support/test-database.js';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let storage: Storage;
const feeds: ChangeFeed[] = [];
beforeAll(async () => {
  database = await createTestDatabase();
  storage = openStorage(database);
  await migrateToLatest(storage);
});
afterAll(async () => {
  for (const feed of feeds) await feed.stop();
  await storage.close();
  await database.drop();
});

async function feed(options: Parameters<typeof startChangeFeed>[1] = {}) {
  const f = await startChangeFeed(storage.db, { intervalMs: 60_000, ...options });
  feeds.push(f);
  return f;
}

/** A pino logger whose lines land in an array. */
function capturedLog() {
  const lines: Array<{ level: number; msg: string; job?: string; err?: { message: string } }> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

async function until(check: () => boolean, ms = 5000) {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > ms) throw new Error(`not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function listen(f: ChangeFeed, topic: Parameters<ChangeFeed['on']>[0] = 'grant') {
  const seen: string[] = [];
  f.on(topic, (id) => seen.push(id));
  return seen;
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

describe('the change feed misses nothing when a lower sequence number commits after a higher one was read', () => {
  const insert = async (subjectId: string) =>
    Number(
      (await storage.db.insertInto('change_log').values({ topic: 'grant', subject_id: subjectId, created_at: Date.now() }).returning('seq').executeTakeFirstOrThrow())
        .seq,
    );

  it('delivers a row that appears below the cursor once, and only once (same code path on both engines)', async () => {
    const f = await feed();
    const seen = listen(f);
    const lateSeq = await insert('late');
    await insert('early');
    // The lower row is "not committed yet": out of sight while the higher one is read.
    await storage.db.deleteFrom('change_log').where('seq', '=', lateSeq).execute();
    await f.poll();
    expect(seen).toEqual(['early']);
    await storage.db.insertInto('change_log').values({ seq: lateSeq, topic: 'grant', subject_id: 'late', created_at: Date.now() }).execute();
    await f.poll();
    expect(seen).toEqual(['early', 'late']);
    await f.poll();
    expect(seen).toEqual(['early', 'late']);
  });

  it.runIf(testEngine() === 'postgres')('PostgreSQL: transaction A takes a lower seq, B commits a higher one, the feed reads B, then A commits → A is delivered', async () => {
    const f = await feed();
    const seen = listen(f);
    const a = new pg.Client({ connectionString: database.databaseUrl });
    await a.connect();
    try {
      await a.query('begin');
      const { rows } = await a.query('insert into change_log (topic, subject_id, created_at) values ($1, $2, $3) returning seq', ['grant', 'A', Date.now()]);
      const seqOfA = Number(rows[0].seq);
      const seqOfB = await insert('B');
      expect(seqOfB).toBeGreaterThan(seqOfA);
      await f.poll();
      expect(seen).toEqual(['B']);
      await a.query('commit');
      await f.poll();
      expect(seen).toEqual(['B', 'A']);
    } finally {
      await a.end();
    }
  });
});

describe('the change feed at startup', () => {
  it('awaits a lower seq still missing among the newest rows when it starts', async () => {
    const lateSeq = Number(
      (await storage.db.insertInto('change_log').values({ topic: 'grant', subject_id: 'in flight at start', created_at: Date.now() }).returning('seq').executeTakeFirstOrThrow()).seq,
    );
    await storage.db.insertInto('change_log').values({ topic: 'grant', subject_id: 'committed before start', created_at: Date.now() }).execute();
    await storage.db.deleteFrom('change_log').where('seq', '=', lateSeq).execute();
    const f = await feed();
    const seen = listen(f);
    await f.poll();
    expect(seen).toEqual([]);
    await storage.db.insertInto('change_log').values({ seq: lateSeq, topic: 'grant', subject_id: 'in flight at start', created_at: Date.now() }).execute();
    await f.poll();
    expect(seen).toEqual(['in flight at start']);
  });
});

describe('the change feed when the database fails', () => {
  it('logs the failed poll with its job name, retries on the next tick, and delivers what it missed', async () => {
    const { log, lines } = capturedLog();
    const f = await feed({ log, intervalMs: 50 });
    const seen = listen(f, 'user');
    await sql`alter table change_log rename to change_log_away`.execute(storage.db);
    try {
      await until(() => lines.some((l) => l.job === 'change feed poll' && l.level >= 50));
    } finally {
      await sql`alter table change_log_away rename to change_log`.execute(storage.db);
    }
    await storage.db.insertInto('change_log').values({ topic: 'user', subject_id: 'u1', created_at: Date.now() }).execute();
    await until(() => seen.includes('u1'));
    await until(() => lines.some((l) => l.job === 'change feed poll' && l.msg.includes('recovered')));
    const failures = lines.filter((l) => l.job === 'change feed poll' && l.level >= 50);
    expect(failures[0]!.err!.message).toMatch(/change_log/);
    // One line for a run of failures, not one per tick.
    expect(failures.length).toBe(1);
  });

  it('a listener that throws is logged and does not stop the others or the feed', async () => {
    const { log, lines } = capturedLog();
    const f = await feed({ log });
    f.on('membership', () => {
      throw new Error('listener bug');
    });
    const seen = listen(f, 'membership');
    await storage.db.insertInto('change_log').values({ topic: 'membership', subject_id: 'm1', created_at: Date.now() }).execute();
    await storage.db.insertInto('change_log').values({ topic: 'membership', subject_id: 'm2', created_at: Date.now() }).execute();
    await f.poll();
    expect(seen).toEqual(['m1', 'm2']);
    expect(lines.filter((l) => l.msg === 'change feed listener failed')).toHaveLength(2);
  });
});

describe(`the change feed's resync (a change whose notice was lost, ${testEngine()})`, () => {
  /** The topics `resync()` tells after each write. */
  function topicsTold(f: ChangeFeed) {
    let told: string[] = [];
    for (const topic of ['user', 'membership', 'provider_key', 'key_base_url_allow', 'llm_proxy', 'client', 'grant'] as const) {
      f.onResync(topic, () => told.push(topic));
    }
    return async (write: () => Promise<unknown>): Promise<string[]> => {
      told = [];
      await write();
      await f.resync();
      return told;
    };
  }

  it('tells the topic of each cached table written without a notice, and no other', async () => {
    const f = await feed({ resyncIntervalMs: 60_000 });
    const topicsAfter = topicsTold(f);
    const db = storage.db;
    const org = await ensurePrimaryOrganization(db);
    const user = await createUser(db, { email: 'resync@example.com', password: 'x' }, { checkStrength: false });
    const team = await createTeam(db, org.id, 'Resync');
    await f.resync();
    const box = new SealedBox(randomBytes(32));

    expect(await topicsAfter(() => db.updateTable('users').set({ disabled_at: Date.now() }).where('id', '=', user.id).execute())).toEqual(['user']);
    expect(await topicsAfter(() => db.updateTable('users').set({ disabled_at: null }).where('id', '=', user.id).execute())).toEqual(['user']);
    expect(
      await topicsAfter(() => db.insertInto('memberships').values({ organization_id: org.id, user_id: user.id, role: 'member', created_at: Date.now() }).execute()),
    ).toEqual(['membership']);
    expect(await topicsAfter(() => addTeamMember(db, team.id, user.id))).toEqual(['membership']);
    expect(await topicsAfter(() => db.deleteFrom('team_members').where('user_id', '=', user.id).execute())).toEqual(['membership']);
    const key = await topicsAfter(() => addProviderKey(db, box, { organizationId: org.id, provider: 'openai', apiKey: 'sk-resync-000000000000000000', scope: 'org' }));
    expect(key).toEqual(['provider_key']);
    expect(await topicsAfter(() => db.updateTable('provider_keys').set({ disabled_at: Date.now(), updated_at: Date.now() + 1 }).execute())).toEqual(['provider_key']);
    expect(
      await topicsAfter(() =>
        db
          .insertInto('organization_settings')
          .values({ organization_id: org.id, key_base_url_allow: '["gpu-box"]', app_cap_default_nano_usd: null, app_cap_default_period: null, app_cap_max_nano_usd: null, app_cap_max_period: null, updated_at: Date.now() })
          .execute(),
      ),
    ).toEqual(['key_base_url_allow']);
    const proxy = await createLlmProxy(db, { organizationId: org.id, name: 'Resync' });
    await f.resync();
    expect(await topicsAfter(() => db.updateTable('llm_proxies').set({ allowed_models_json: '["openai"]', updated_at: Date.now() + 7 }).where('id', '=', proxy.id).execute())).toEqual(['llm_proxy']);
    expect(await topicsAfter(() => db.deleteFrom('llm_proxies').where('id', '=', proxy.id).execute())).toEqual(['llm_proxy']);
    // Anyone may register an app: that moves nothing; disabling one does, and so does any write to a confidential client.
    expect(await topicsAfter(() => saveRegisteredClient(db, 'resync-client', { redirect_uris: ['http://127.0.0.1/cb'] }))).toEqual([]);
    expect(await topicsAfter(() => db.updateTable('oauth_clients').set({ disabled_at: Date.now() }).where('client_id', '=', 'resync-client').execute())).toEqual(['client']);
    expect(
      await topicsAfter(() =>
        db
          .insertInto('oauth_clients')
          .values({ client_id: 'resync-confidential', kind: 'confidential', name: 'c', metadata_json: '{}', secret_hash: 'sha256:x', organization_id: org.id, proxy_ids_json: '[]', key_ids_json: null, created_at: 1, updated_at: 1, disabled_at: null })
          .execute(),
      ),
    ).toEqual(['client']);
    expect(await topicsAfter(() => db.updateTable('oauth_clients').set({ key_ids_json: '["k"]', updated_at: 2 }).where('client_id', '=', 'resync-confidential').execute())).toEqual(['client']);
    // Nothing written: nothing told.
    expect(await topicsAfter(async () => undefined)).toEqual([]);
  });

  it('a failed comparison keeps the last summaries, so the next one still tells the change', async () => {
    const f = await feed({ resyncIntervalMs: 60_000 });
    const told: string[] = [];
    f.onResync('user', () => told.push('user'));
    await storage.db.updateTable('users').set({ disabled_at: 12345 }).execute();
    // The database failing one comparison: a table it cannot read.
    await sql`alter table users rename to users_away`.execute(storage.db);
    await expect(f.resync()).rejects.toThrow();
    await sql`alter table users_away rename to users`.execute(storage.db);
    expect(told).toEqual([]);
    await f.resync();
    expect(told).toEqual(['user']);
  });
});
