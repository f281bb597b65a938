// Lockout is per account AND source: an attacker who knows a user's email cannot lock them out
// from the attacker's own IP, and guessing from many IPs still gets only about one try a minute.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_FROM_IP_POLICY, ACCOUNT_POLICY, IP_POLICY, accountKey, reserveAttempt } from '../../src/accounts/login-throttle.js';
import { createUser } from '../../src/accounts/users.js';
import { CookieJar, hiddenField } from '../support/cookie-jar.js';
import { createTestDatabase, startTestPlatform, testEngine, type TestPlatform } from '../support/test-platform.js';

let tp: TestPlatform;
/** A second instance on the same database (PostgreSQL only: the embedded SQLite serves one). */
let other: TestPlatform | undefined;
beforeAll(async () => {
  const database = await createTestDatabase();
  // Client IPs come from X-Forwarded-For here, so one test can speak from many addresses.
  tp = await startTestPlatform({ KEYWARD_TRUST_PROXY: 'true' }, database);
  if (testEngine() === 'postgres') other = await startTestPlatform({ KEYWARD_TRUST_PROXY: 'true', PUBLIC_URL: tp.url }, database);
}, 60_000);
afterAll(async () => {
  await other?.stop();
  await tp?.close();
});

const PASSWORD = 'the right passphrase, long enough';
let users = 0;
async function newUser(): Promise<string> {
  const email = `victim${++users}@example.com`;
  await createUser(tp.platform.ctx.db, { email, password: PASSWORD });
  return email;
}

async function signIn(email: string, password: string, ip: string, instance: TestPlatform = tp): Promise<Response> {
  const jar = new CookieJar();
  const headers = { 'x-forwarded-for': ip };
  const page = await (await jar.fetch(`${instance.url}/sign-in`, { headers })).text();
  return jar.fetch(`${instance.url}/sign-in`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, password, csrf: hiddenField(page, 'csrf') }).toString(),
  });
}

describe(`sign-in throttling per account and source (${testEngine()})`, () => {
  it("an attacker's failures lock the attacker's IP out of that account, not the victim signing in from elsewhere", async () => {
    const email = await newUser();
    const statuses: number[] = [];
    for (let i = 0; i < 8; i++) statuses.push((await signIn(email, `guess ${i}`, '203.0.113.66')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]);
    // Locked even with the right password, from the attacker's IP.
    const attacker = await signIn(email, PASSWORD, '203.0.113.66');
    expect(attacker.status).toBe(429);
    expect(Number(attacker.headers.get('retry-after'))).toBeGreaterThan(60);
    // The victim, from their own IP, gets in.
    expect((await signIn(email, PASSWORD, '198.51.100.7')).status).toBe(303);
  });

  it('a distributed attempt is slowed per account (never locked for long), so guesses stay bounded', async () => {
    const email = await newUser();
    // Twenty IPs, one wrong guess each: under every per-IP limit.
    for (let i = 0; i < 20; i++) expect((await signIn(email, `guess ${i}`, `192.0.2.${i + 1}`)).status).toBe(401);
    // The account now refuses every source for a short, growing pause.
    const slowed = await signIn(email, `guess 21`, '192.0.2.200');
    expect(slowed.status).toBe(429);
    const retryAfter = Number(slowed.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(await slowed.text()).toMatch(/Try again in \d+ seconds?\./);
    // Slowed, not locked: after the pause the victim gets in from anywhere.
    await new Promise((resolve) => setTimeout(resolve, retryAfter * 1000 + 100));
    expect((await signIn(email, PASSWORD, '198.51.100.8')).status).toBe(303);
  });

  it('the account-wide pause doubles with each failure up to a minute: about 60 guesses an hour from any number of IPs', () => {
    expect([19, 20, 21, 22, 25, 26, 27, 100].map((n) => ACCOUNT_POLICY.refuseAfter(n))).toEqual([
      0, 1000, 2000, 4000, 32_000, 60_000, 60_000, 60_000,
    ]);
  });

  it("each policy's refusesFrom is the first count its refuseAfter refuses at", () => {
    for (const policy of [ACCOUNT_FROM_IP_POLICY, IP_POLICY, ACCOUNT_POLICY]) {
      expect(policy.refuseAfter(policy.refusesFrom - 1)).toBe(0);
      expect(policy.refuseAfter(policy.refusesFrom)).toBeGreaterThan(0);
    }
  });

  it('25 concurrent attempts on one account: exactly 20 are let through and counted, the rest refused before any check', async () => {
    const db = tp.platform.ctx.db;
    const key = accountKey('concurrent@example.com');
    const counts = await Promise.all(Array.from({ length: 25 }, () => reserveAttempt(db, key, ACCOUNT_POLICY)));
    const admitted = counts.filter((count): count is number => count !== undefined);
    expect(admitted.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const row = await db.selectFrom('login_throttle').selectAll().where('key', '=', key).executeTakeFirstOrThrow();
    expect(Number(row.failures)).toBe(20);
    expect(Number(row.locked_until)).toBeGreaterThan(Date.now());
  });

  it('20 concurrent wrong passwords over HTTP from one IP: five are checked, the others refused; the IP counts the five', async () => {
    const email = await newUser();
    const ip = '203.0.113.99';
    const statuses = await Promise.all(Array.from({ length: 20 }, (_, i) => signIn(email, `guess ${i}`, ip).then((r) => r.status)));
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(15);
    const row = await tp.platform.ctx.db.selectFrom('login_throttle').select('failures').where('key', '=', `ip:${ip}`).executeTakeFirstOrThrow();
    expect(Number(row.failures)).toBe(5);
  }, 60_000);

  it.runIf(testEngine() === 'postgres')('20 concurrent wrong passwords from one IP across two instances sharing PostgreSQL: five are checked', async () => {
    const email = await newUser();
    const ip = '203.0.113.102';
    const statuses = await Promise.all(Array.from({ length: 20 }, (_, i) => signIn(email, `guess ${i}`, ip, i % 2 ? other! : tp).then((r) => r.status)));
    expect(statuses.filter((s) => s === 401)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(15);
  }, 60_000);

  it('a burst with the right password among wrong ones checks no more passwords than the lockout allows', async () => {
    const email = await newUser();
    const ip = '203.0.113.100';
    const passwords = Array.from({ length: 12 }, (_, i) => (i === 9 ? PASSWORD : `guess ${i}`));
    const statuses = await Promise.all(passwords.map((password) => signIn(email, password, ip).then((r) => r.status)));
    // Checked: a 401 (wrong) or a 303 (right); never more than the five tries an account gets from one IP.
    expect(statuses.filter((s) => s === 401 || s === 303).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(7);
  }, 60_000);

  it('a right password gives its attempt back: the IP and account-wide counts hold only the failures', async () => {
    const email = await newUser();
    const ip = '203.0.113.101';
    for (let i = 0; i < 3; i++) expect((await signIn(email, `guess ${i}`, ip)).status).toBe(401);
    expect((await signIn(email, PASSWORD, ip)).status).toBe(303);
    const rows = await tp.platform.ctx.db.selectFrom('login_throttle').selectAll().where('key', 'in', [`ip:${ip}`, accountKey(email), `account-ip:${ip}|${email}`]).execute();
    const failures = Object.fromEntries(rows.map((row) => [row.key, Number(row.failures)]));
    expect(failures).toEqual({ [`ip:${ip}`]: 3, [accountKey(email)]: 3 });
    expect(rows.every((row) => row.locked_until === null || Number(row.locked_until) <= Date.now())).toBe(true);
  });
});
