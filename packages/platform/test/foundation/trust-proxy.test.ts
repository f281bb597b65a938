// KEYWARD_TRUST_PROXY: which X-Forwarded-For entries are believed. The first entry is whatever the
// caller wrote (nginx's $proxy_add_x_forwarded_for appends the address it saw to what it was
// sent), so `true` means one proxy in front and the client is the last entry, never the first:
// otherwise each request could pick the IP that the sign-in lockout counts and the audit records.
import { afterAll, describe, expect, it } from 'vitest';
import { createUser } from '../../src/accounts/users.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { CookieJar, hiddenField } from '../support/cookie-jar.js';
import { startTestPlatform, testEngine, type TestPlatform } from '../support/test-platform.js';

const trustProxy = (value: string) => loadConfig({ KEYWARD_TRUST_PROXY: value }).trustProxy;

describe('KEYWARD_TRUST_PROXY, read', () => {
  it('is off by default, one hop for true, a hop count, or a list of addresses and CIDR ranges', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    for (const off of ['', 'false', 'no', '0']) expect(trustProxy(off)).toBe(false);
    for (const one of ['true', 'TRUE', 'yes', '1']) expect(trustProxy(one)).toBe(1);
    expect(trustProxy('2')).toBe(2);
    expect(trustProxy('10.0.0.0/8, 127.0.0.1,::1, fd00::/8')).toEqual(['10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8']);
  });

  it('refuses anything else with a message naming the setting', () => {
    for (const bad of ['maybe', '11', '10.0.0.0/33', '::1/129', 'example.com', '10.0.0.1/8/1', '10.0.0.1,']) {
      expect(() => trustProxy(bad), bad).toThrow(ConfigError);
      expect(() => trustProxy(bad), bad).toThrow(/KEYWARD_TRUST_PROXY/);
    }
  });
});

const PASSWORD = 'the right passphrase, long enough';
const platforms: TestPlatform[] = [];
afterAll(async () => {
  for (const tp of platforms) await tp.close();
});

async function platform(trust: string): Promise<TestPlatform> {
  const tp = await startTestPlatform({ KEYWARD_TRUST_PROXY: trust });
  platforms.push(tp);
  return tp;
}

async function wrongPassword(tp: TestPlatform, email: string, forwardedFor: string): Promise<number> {
  const jar = new CookieJar();
  const headers = { 'x-forwarded-for': forwardedFor };
  const page = await (await jar.fetch(`${tp.url}/sign-in`, { headers })).text();
  const answer = await jar.fetch(`${tp.url}/sign-in`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ email, password: 'a wrong guess', csrf: hiddenField(page, 'csrf') }).toString(),
  });
  return answer.status;
}

/** Five wrong passwords lock one source out of an account; the lockout's audit entry names the source. */
async function lockoutSource(tp: TestPlatform, forwardedFor: (attempt: number) => string): Promise<{ statuses: number[]; sourceIp: string | null }> {
  const email = `victim-${platforms.length}@example.com`;
  await createUser(tp.platform.ctx.db, { email, password: PASSWORD });
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push(await wrongPassword(tp, email, forwardedFor(i)));
  const entry = await tp.platform.ctx.db
    .selectFrom('audit_log')
    .select('source_ip')
    .where('action', '=', 'user.locked_out')
    .where('target_label', '=', email)
    .executeTakeFirst();
  return { statuses, sourceIp: entry?.source_ip ?? null };
}

describe(`KEYWARD_TRUST_PROXY, applied to the client IP (${testEngine()})`, () => {
  it('true: the address the one proxy saw (the last entry), whatever the caller put before it', async () => {
    const tp = await platform('true');
    const { statuses, sourceIp } = await lockoutSource(tp, (i) => `203.0.113.${i + 1}, 198.51.100.9`);
    // Each request claimed another first address; all came through the proxy from one client.
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    expect(sourceIp).toBe('198.51.100.9');
  });

  it('a hop count: the address the outermost of that many proxies saw', async () => {
    const tp = await platform('2');
    const { statuses, sourceIp } = await lockoutSource(tp, (i) => `192.0.2.${i + 1}, 203.0.113.66, 198.51.100.9`);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    expect(sourceIp).toBe('203.0.113.66');
  });

  it("a list: the nearest address that is not one of the proxies'", async () => {
    const tp = await platform('127.0.0.1, 198.51.100.0/24');
    const { statuses, sourceIp } = await lockoutSource(tp, (i) => `192.0.2.${i + 1}, 203.0.113.66, 198.51.100.9`);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
    expect(sourceIp).toBe('203.0.113.66');
  });

  it('off: X-Forwarded-For is not read at all', async () => {
    const tp = await platform('false');
    const { sourceIp } = await lockoutSource(tp, (i) => `203.0.113.${i + 1}`);
    expect(sourceIp).toBe('127.0.0.1');
  });
});
