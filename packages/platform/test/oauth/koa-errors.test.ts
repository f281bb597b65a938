// An error in Keyward's koa middleware around oidc-provider (here the device poll's pacing, when
// the database refuses its statement) is answered 500 by koa and logged as one JSON error line
// by Keyward's logger, not printed by koa to stderr.

import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { registerPublicClient } from '../support/oauth-client.js';
import { startTestPlatform, type TestPlatform } from '../support/test-platform.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
let tp: TestPlatform;
beforeAll(async () => {
  tp = await startTestPlatform();
});
afterAll(() => tp?.close());

const form = (fields: Record<string, string>) => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(fields).toString(),
});

it('a failure in the device poll is a 500 and one JSON error line, nothing on stderr', async () => {
  const client = await registerPublicClient(tp, { metadata: { grant_types: [DEVICE_GRANT], response_types: [], redirect_uris: [] } });
  const device = (await (await fetch(`${tp.url}/api/auth/oauth2/device-authorization`, form({ client_id: client.client_id, scope: 'llm:proxy' }))).json()) as {
    device_code: string;
  };
  const stderr = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  const db = tp.platform.ctx.db;
  await sql`alter table oauth_payloads rename to oauth_payloads_away`.execute(db);
  try {
    const response = await fetch(`${tp.url}/api/auth/oauth2/token`, form({ grant_type: DEVICE_GRANT, client_id: client.client_id, device_code: device.device_code }));
    expect(response.status).toBe(500);
  } finally {
    await sql`alter table oauth_payloads_away rename to oauth_payloads`.execute(db);
    stderr.mockRestore();
  }
  const failed = tp.logs.map((line) => JSON.parse(line)).filter((line) => line.msg === 'oauth request failed');
  expect(failed).toHaveLength(1);
  expect(failed[0]).toMatchObject({ level: 50, err: { message: expect.stringMatching(/oauth_payloads/) } });
  expect(stderr).not.toHaveBeenCalled();
});
