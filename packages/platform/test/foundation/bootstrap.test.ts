import { afterEach, describe, expect, it } from 'vitest';
import { bootstrap, GENERATED_ADMIN_EMAIL } from '../../src/accounts/bootstrap.js';
import { verifyPassword } from '../../src/accounts/passwords.js';
import { findUserByEmail } from '../../src/accounts/users.js';
import { migrateToLatest, openStorage, type Storage } from '../../src/db/database.js';
import { createTestDatabase, testEngine } from '../support/test-database.js';

let cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function emptyStorage(): Promise<Storage> {
  const database = await createTestDatabase();
  const storage = openStorage(database);
  cleanup.push(() => database.drop(), () => storage.close());
  await migrateToLatest(storage);
  return storage;
}

describe('first start', () => {
  it('with KEYWARD_ADMIN_EMAIL and KEYWARD_ADMIN_PASSWORD creates the organization, that admin and the Default LLM Proxy', async () => {
    const { db } = await emptyStorage();
    const result = await bootstrap(db, { adminEmail: 'Root@Example.com', adminPassword: 'a sound passphrase' });
    expect(result).toEqual({ createdAdmin: 'Root@Example.com' });
    const user = (await findUserByEmail(db, 'root@example.com'))!;
    expect(await verifyPassword(user.password_hash, 'a sound passphrase')).toBe(true);
    const membership = await db.selectFrom('memberships').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow();
    expect(membership.role).toBe('admin');
    const proxies = await db.selectFrom('llm_proxies').selectAll().execute();
    expect(proxies).toHaveLength(1);
    expect(proxies[0]).toMatchObject({ name: 'Default LLM Proxy', scope: 'org', is_default: 1, organization_id: membership.organization_id });
    expect(proxies[0]!.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('is idempotent: a second start creates nothing', async () => {
    const { db } = await emptyStorage();
    const env = { adminEmail: 'root@example.com', adminPassword: 'a sound passphrase' };
    await bootstrap(db, env);
    expect(await bootstrap(db, env)).toEqual({});
    expect(await db.selectFrom('users').selectAll().execute()).toHaveLength(1);
    expect(await db.selectFrom('organizations').selectAll().execute()).toHaveLength(1);
    expect(await db.selectFrom('llm_proxies').selectAll().execute()).toHaveLength(1);
  });

  it('accepts a weak password the operator chose, and says it is weak', async () => {
    const { db } = await emptyStorage();
    const result = await bootstrap(db, { adminEmail: 'root@example.com', adminPassword: 'password123' });
    expect(result.createdAdmin).toBe('root@example.com');
    expect(result.weakAdminPassword).toMatch(/too common/);
  });

  it('with neither set and an empty database, generates a password for admin@localhost', async () => {
    const { db } = await emptyStorage();
    const result = await bootstrap(db, { adminEmail: undefined, adminPassword: undefined });
    expect(result.generatedAdmin?.email).toBe(GENERATED_ADMIN_EMAIL);
    expect(result.generatedAdmin!.password.length).toBeGreaterThanOrEqual(20);
    const user = (await findUserByEmail(db, GENERATED_ADMIN_EMAIL))!;
    expect(await verifyPassword(user.password_hash, result.generatedAdmin!.password)).toBe(true);
    // Printed once: the next start generates nothing.
    expect(await bootstrap(db, { adminEmail: undefined, adminPassword: undefined })).toEqual({});
  });

  // Several instances sharing one PostgreSQL database (the embedded SQLite serves one instance).
  it.runIf(testEngine() === 'postgres')('run by two instances at once on an empty database, happens once', async () => {
    const database = await createTestDatabase();
    const [a, b] = [openStorage(database), openStorage(database)];
    cleanup.push(() => database.drop(), () => a.close(), () => b.close());
    await migrateToLatest(a);
    const env = { adminEmail: 'root@example.com', adminPassword: 'a sound passphrase' };
    const results = await Promise.all([bootstrap(a.db, env, 'postgres'), bootstrap(b.db, env, 'postgres')]);
    expect(results.filter((r) => r.createdAdmin)).toHaveLength(1);
    expect(await a.db.selectFrom('organizations').selectAll().execute()).toHaveLength(1);
    expect(await a.db.selectFrom('users').selectAll().execute()).toHaveLength(1);
    expect(await a.db.selectFrom('llm_proxies').selectAll().execute()).toHaveLength(1);
  });

  it('refuses one of the two admin variables without the other', async () => {
    const { db } = await emptyStorage();
    await expect(bootstrap(db, { adminEmail: 'root@example.com', adminPassword: undefined })).rejects.toThrow(/must be set together/);
  });
});
