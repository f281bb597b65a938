// Lockout is per account AND source: an attacker who knows a user's email cannot lock them out
// from the attacker's own IP, and guessing from many IPs still gets only about one try a minute.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCOUNT_POLICY, accountKey, recordFailure } from '../../src/accounts/login-throttle.js';
import { createUser } from '../../src/accounts/users.js';
import { CookieJar, hiddenField } from '../support/cookie-jar.js';
import { startTestPlatform, testEngine, type TestPlatform } from '../support/test-platform.js';

let tp: TestPlatform;
beforeAll(async () => {
  // Client IPs come from X-Forwarded-For here, so one test can speak from many addresses.
  tp = await startTestPlatform({ KEYWARD_TRUST_PROXY: 'true' });
});
afterAll(() => tp.close());

const PASSWORD = 'the right passphrase, long enough';
let users = 0;
async function newUser(): Promise<string> {
  const email = `victim${++users}@example.com`;
  await createUser(tp.platform.ctx.db, { email, password: PASSWORD });
  return email;
}

async function signIn(email: string, password: string, ip: string): Promise<Response> {
  const jar = new CookieJar();
  const headers = { 'x-forwarded-for': ip };
  const page = await (await jar.fetch(`${tp.url}/sign-in`, { headers })).text();
  return jar.fetch(`${tp.url}/sign-in`, {
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

  it('20 concurrent wrong attempts count 20, and each of them is refused once the pause starts', async () => {
    const db = tp.platform.ctx.db;
    const key = accountKey('concurrent@example.com');
    const counts = await Promise.all(Array.from({ length: 20 }, () => recordFailure(db, key, ACCOUNT_POLICY)));
    expect(counts.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    const row = await db.selectFrom('login_throttle').selectAll().where('key', '=', key).executeTakeFirstOrThrow();
    expect(Number(row.failures)).toBe(20);
    expect(Number(row.locked_until)).toBeGreaterThan(Date.now());
  });

  it('20 concurrent wrong passwords over HTTP from one IP count 20 there', async () => {
    const email = await newUser();
    const ip = '203.0.113.99';
    const statuses = await Promise.all(Array.from({ length: 20 }, (_, i) => signIn(email, `guess ${i}`, ip).then((r) => r.status)));
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    const row = await tp.platform.ctx.db.selectFrom('login_throttle').select('failures').where('key', '=', `ip:${ip}`).executeTakeFirstOrThrow();
    expect(Number(row.failures)).toBe(statuses.filter((s) => s === 401).length);
  }, 60_000);
});
