// Registration is open, so it is rate limited per client IP: KEYWARD_REGISTRATION_RATE_LIMIT per
// minute (default 300, 0 = unlimited), answered with an OAuth error body and Retry-After.

import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { SEED_REDIRECT_URI } from '../support/oauth-client.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

const started: TestPlatform[] = [];
afterAll(async () => {
  await Promise.all(started.map((tp) => tp.close()));
});

async function platform(env: Record<string, string> = {}) {
  const tp = await startTestPlatform(env);
  started.push(tp);
  return tp;
}

const register = (tp: TestPlatform, headers: Record<string, string> = {}) =>
  fetch(`${tp.url}/api/auth/oauth2/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ client_name: 'Burst', redirect_uris: [SEED_REDIRECT_URI], token_endpoint_auth_method: 'none' }),
  });

async function burst(tp: TestPlatform, n: number): Promise<number[]> {
  const statuses = await Promise.all(
    Array.from({ length: n }, async () => {
      const response = await register(tp);
      await response.body?.cancel();
      return response.status;
    }),
  );
  return statuses;
}

describe('KEYWARD_REGISTRATION_RATE_LIMIT', () => {
  it('defaults to 300 per minute; 0 means unlimited; anything else is refused at start', () => {
    expect(loadConfig({}).registrationRateLimit).toBe(300);
    expect(loadConfig({ KEYWARD_REGISTRATION_RATE_LIMIT: '0' }).registrationRateLimit).toBe(0);
    expect(loadConfig({ KEYWARD_REGISTRATION_RATE_LIMIT: '25' }).registrationRateLimit).toBe(25);
    for (const bad of ['-1', '1.5', 'lots']) {
      expect(() => loadConfig({ KEYWARD_REGISTRATION_RATE_LIMIT: bad })).toThrow(ConfigError);
      expect(() => loadConfig({ KEYWARD_REGISTRATION_RATE_LIMIT: bad })).toThrow(/KEYWARD_REGISTRATION_RATE_LIMIT must be a whole number from 0/);
    }
  });
});

describe('registration beyond the limit', () => {
  it('answers 429 with Retry-After and a clean OAuth error body, and counts nothing else', async () => {
    const tp = await platform({ KEYWARD_REGISTRATION_RATE_LIMIT: '3' });
    expect(await burst(tp, 3)).toEqual([201, 201, 201]);

    const refused = await register(tp, { origin: 'https://app.example.com' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toMatch(/^application\/json/);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get('cache-control')).toBe('no-store');
    // A browser-only app can read the answer.
    expect(refused.headers.get('access-control-allow-origin')).toBe('*');
    const body = await refused.json();
    expect(body).toEqual({
      error: 'temporarily_unavailable',
      error_description: `too many client registrations from this address; try again in ${retryAfter} seconds`,
    });

    // Nothing was registered by the refused request, and the rest of the server is not limited.
    const clients = await tp.platform.ctx.db.selectFrom('oauth_clients').select('client_id').execute();
    expect(clients).toHaveLength(3);
    const metadata = await fetch(`${tp.url}/.well-known/oauth-authorization-server`);
    expect(metadata.status).toBe(200);
    const read = await fetch(`${tp.url}/api/auth/oauth2/register`, { method: 'OPTIONS', headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST' } });
    expect(read.status).toBe(204);
  });

  it('the default (300 per minute) lets a burst of 100 registrations from one IP through', async () => {
    const tp = await platform();
    const statuses = await burst(tp, 100);
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
  });

  it('0 turns the limit off (a burst of 320, beyond the default)', async () => {
    const tp = await platform({ KEYWARD_REGISTRATION_RATE_LIMIT: '0' });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push(...(await burst(tp, 80)));
    expect(statuses).toHaveLength(320);
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
  }, 60_000);
});
