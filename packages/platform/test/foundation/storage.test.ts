import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { migrateToLatest, openStorage, type Storage } from '../../src/db/database.js';
import { migrationProvider } from '../../src/db/migrations/index.js';
import { addProviderKey, openProviderKeySecret } from '../../src/keys/provider-keys.js';
import { rankProviderKeys, usableProviderKey } from '../../src/keys/resolve-provider-key.js';
import { ensurePrimaryOrganization } from '../../src/accounts/organizations.js';
import { ACCOUNT_POLICY, deleteStaleThrottleRows } from '../../src/accounts/login-throttle.js';
import { deleteExpiredSessions } from '../../src/accounts/sessions.js';
import { loadEncryptionKey, ENCRYPTION_KEY_FILE } from '../../src/secrets/instance-secrets.js';
import { SealedBox } from '../../src/secrets/sealed-box.js';
import { createTestDatabase, testEngine } from '../support/test-database.js';

let database: Awaited<ReturnType<typeof createTestDatabase>>;
let storage: Storage;

beforeAll(async () => {
  database = await createTestDatabase();
  storage = openStorage(database);
});
afterAll(async () => {
  await storage.close();
  await database.drop();
});

describe(`migrations on ${testEngine()}`, () => {
  it('bring an empty database to the latest schema, then have nothing left to do', async () => {
    const all = Object.keys(await migrationProvider(storage.dialect).getMigrations());
    expect(await migrateToLatest(storage)).toEqual(all);
    expect(await migrateToLatest(storage)).toEqual([]);
    for (const table of ['organizations', 'users', 'memberships', 'teams', 'team_members', 'sessions', 'provider_keys', 'llm_proxies', 'instance_secrets', 'change_log']) {
      const row = await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(storage.db);
      expect(Number(row.rows[0]!.n)).toBe(0);
    }
  });

  it('enforce case-insensitive unique emails and valid scopes in the database itself', async () => {
    const now = Date.now();
    const user = { email: 'A@x.io', email_normalized: 'a@x.io', password_hash: 'h', created_at: now, disabled_at: null };
    await storage.db.insertInto('users').values({ id: 'u1', ...user }).execute();
    await expect(storage.db.insertInto('users').values({ id: 'u2', ...user, email: 'a@X.io' }).execute()).rejects.toThrow();
    const org = await ensurePrimaryOrganization(storage.db);
    await expect(
      storage.db
        .insertInto('llm_proxies')
        .values({ id: 'p', organization_id: org.id, name: 'n', scope: 'galaxy' as 'org', team_id: null, user_id: null, is_default: 0, created_at: now, updated_at: now })
        .execute(),
    ).rejects.toThrow();
  });
});

describe('provider-key secrets at rest', () => {
  const secret = 'sk-proj-SUPERSECRET-abcdefghijklmnopqrstuvwxyz0123';

  it('are sealed with AES-256-GCM: unreadable in the database, readable with the key, bound to their row', async () => {
    const box = new SealedBox(await loadEncryptionKey({ dataDir: database.dataDir }));
    const org = await ensurePrimaryOrganization(storage.db);
    const key = await addProviderKey(storage.db, box, { organizationId: org.id, provider: 'openai', apiKey: secret, scope: 'org' });
    expect(key.last4).toBe('0123');
    expect(JSON.stringify(key)).not.toContain('SUPERSECRET');

    const row = await storage.db.selectFrom('provider_keys').selectAll().where('id', '=', key.id).executeTakeFirstOrThrow();
    expect(JSON.stringify(row)).not.toContain('SUPERSECRET');
    expect(openProviderKeySecret(box, row)).toBe(secret);
    // The same sealed value under another row's id does not open.
    expect(() => openProviderKeySecret(box, { ...row, id: 'another-key' })).toThrow();

    if (storage.dialect === 'sqlite') {
      await sql`pragma wal_checkpoint(TRUNCATE)`.execute(storage.db);
      for (const file of ['keyward.sqlite', 'keyward.sqlite-wal']) {
        const bytes = await readFile(join(database.dataDir, file)).catch(() => Buffer.alloc(0));
        expect(bytes.includes(Buffer.from('SUPERSECRET'))).toBe(false);
      }
    } else {
      const dump = await sql<{ t: string }>`select provider_keys::text as t from provider_keys`.execute(storage.db);
      expect(dump.rows.map((r) => r.t).join('\n')).not.toContain('SUPERSECRET');
    }
  });

  it('use a data-encryption key generated once, in a 0600 file inside a 0700 data dir', async () => {
    const file = join(database.dataDir, ENCRYPTION_KEY_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const again = await loadEncryptionKey({ dataDir: database.dataDir });
    expect(again.toString('base64') + '\n').toBe(await readFile(file, 'utf8'));
  });

  it('refuse a malformed KEYWARD_ENCRYPTION_KEY', async () => {
    await expect(loadEncryptionKey({ dataDir: database.dataDir, encryptionKey: 'c2hvcnQ=' })).rejects.toThrow(/32 bytes/);
  });
});

describe('provider keys made in the same millisecond', () => {
  it('rank oldest first however the database returns them', async () => {
    const box = new SealedBox(await loadEncryptionKey({ dataDir: database.dataDir }));
    const org = await ensurePrimaryOrganization(storage.db);
    const clock = vi.spyOn(Date, 'now').mockReturnValue(1_800_000_000_000);
    const made: string[] = [];
    try {
      for (let i = 0; i < 12; i++) {
        const key = await addProviderKey(storage.db, box, { organizationId: org.id, provider: 'gemini', apiKey: `gm-same-ms-${i}-${'x'.repeat(20)}`, scope: 'org' });
        made.push(key.id);
      }
    } finally {
      clock.mockRestore();
    }
    const rows = await storage.db.selectFrom('provider_keys').selectAll().where('id', 'in', made).execute();
    const keys = rows.map((row) => usableProviderKey(box, row, [])!).reverse();
    expect(rankProviderKeys(keys, 'gemini', { kind: 'user', userId: 'nobody', teamIds: new Set() }).map((k) => k.id)).toEqual(made);
  });
});

describe('reads every instance makes of the registered apps every few seconds', () => {
  /** The plan of a query, as text; on PostgreSQL with sequential scans priced out, so a usable index shows. */
  async function plan(query: string): Promise<string> {
    if (storage.dialect === 'sqlite') return JSON.stringify((await sql.raw(`explain query plan ${query}`).execute(storage.db)).rows);
    return storage.db.connection().execute(async (db) => {
      await sql`set enable_seqscan = off`.execute(db);
      try {
        return JSON.stringify((await sql.raw(`explain ${query}`).execute(db)).rows);
      } finally {
        await sql`set enable_seqscan = on`.execute(db);
      }
    });
  }

  it('use a partial index, not a scan of every app anyone registered', async () => {
    expect(await plan("select count(*), sum(updated_at) from oauth_clients where kind = 'confidential' or disabled_at is not null")).toContain('oauth_clients_governed');
    expect(await plan('select client_id from oauth_clients where disabled_at is not null')).toContain('oauth_clients_governed');
  });

  it('the console lists them, and the prune of unused ones sweeps them, in order of registration by index', async () => {
    const page = "select client_id from oauth_clients where organization_id is null or organization_id = 'o' order by created_at desc, client_id desc limit 51 offset 50";
    expect(await plan(page)).toContain('oauth_clients_created');
    if (storage.dialect === 'sqlite') expect(await plan(page)).not.toContain('TEMP B-TREE');
    const candidates = "select created_at, client_id from oauth_clients where kind = 'public' and disabled_at is null and created_at < 9 and (created_at, client_id) > (1, 'kwa_x') order by created_at, client_id limit 500";
    expect(await plan(candidates)).toContain('oauth_clients_created');
    expect(await plan("select 1 from oauth_payloads where client_id = 'kwa_x' and model <> 'RegistrationAccessToken'")).toContain('oauth_payloads_client');
    // People's own caps are a row per person and app: asked per candidate, it must not be a scan of them all.
    expect(await plan("select 1 from spending_limits where client_id = 'kwa_x'")).toContain('spending_limits_client');
  });
});

describe('housekeeping', () => {
  it('deletes expired sessions and spent lockout counters, and nothing still in force', async () => {
    const now = Date.now();
    const org = await ensurePrimaryOrganization(storage.db);
    const user = { id: 'hk-user', email: 'hk@x.io', email_normalized: 'hk@x.io', password_hash: 'h', created_at: now, disabled_at: null };
    await storage.db.insertInto('users').values(user).execute();
    await storage.db.insertInto('memberships').values({ organization_id: org.id, user_id: user.id, role: 'member', created_at: now }).execute();
    await storage.db
      .insertInto('sessions')
      .values([
        { id_hash: 'expired', user_id: user.id, created_at: now - 10, expires_at: now - 1 },
        { id_hash: 'live', user_id: user.id, created_at: now, expires_at: now + 60_000 },
      ])
      .execute();
    const old = now - ACCOUNT_POLICY.windowMs * 10;
    await storage.db
      .insertInto('login_throttle')
      .values([
        { key: 'ip:spent', failures: 3, window_started_at: old, locked_until: null },
        { key: 'ip:lock-over', failures: 50, window_started_at: old, locked_until: now - 1 },
        { key: 'account:still-locked', failures: 5, window_started_at: old, locked_until: now + 60_000 },
        { key: 'ip:counting', failures: 2, window_started_at: now - 1000, locked_until: null },
      ])
      .execute();
    await deleteExpiredSessions(storage.db, now);
    await deleteStaleThrottleRows(storage.db, now);
    expect((await storage.db.selectFrom('sessions').select('id_hash').execute()).map((r) => r.id_hash)).toEqual(['live']);
    expect((await storage.db.selectFrom('login_throttle').select('key').orderBy('key').execute()).map((r) => r.key)).toEqual([
      'account:still-locked',
      'ip:counting',
    ]);
  });
});
