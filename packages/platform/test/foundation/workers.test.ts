// KEYWARD_WORKERS=2: two worker processes serve the port; calls succeed on both, a revoked
// token is refused by both (the change feed reaches each), and SIGTERM stops everything cleanly.

import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { entryArgs } from '../support/built-entry.js';
import { runKeyward } from '../support/cli.js';
import { userTokens } from '../support/oauth-client.js';
import { createTestDatabase } from '../support/test-database.js';
import { freePort, serverProcessEnv, TEST_ADMIN, type TestPlatform } from '../support/test-platform.js';
import type { MockUpstream } from '../upstreams/mock-upstream.js';
import { startOpenAIUpstream } from '../upstreams/openai-upstream.js';

const database = await createTestDatabase();
let child: ChildProcess | undefined;
let upstream: MockUpstream | undefined;
afterAll(async () => {
  child?.kill('SIGKILL');
  await upstream?.close();
  await database.drop();
});

/** One call on a fresh connection, so the cluster hands it to the next worker in turn. */
async function chat(url: string, token: string): Promise<number> {
  const response = await fetch(`${url}/v1/model-router/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', connection: 'close' },
    body: JSON.stringify({ model: 'openai:gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  });
  await response.arrayBuffer();
  return response.status;
}

describe('KEYWARD_WORKERS=2', () => {
  it('serves calls from two workers, both refuse a revoked token, and SIGTERM stops them', async () => {
    upstream = await startOpenAIUpstream();
    const port = await freePort();
    const url = `http://localhost:${port}`;
    const env = serverProcessEnv(port, database, { KEYWARD_LOG_LEVEL: 'info', KEYWARD_LOG_FORMAT: 'json', KEYWARD_WORKERS: '2' });
    child = spawn(process.execPath, entryArgs('main'), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let logs = '';
    child.stdout!.on('data', (c) => (logs += c));
    child.stderr!.on('data', (c) => (logs += c));
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    // Both workers listening: two "listening" lines.
    for (let i = 0; (logs.match(/Keyward is listening/g) ?? []).length < 2; i++) {
      if (i > 600) throw new Error(`the workers did not start:\n${logs}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    const key = await runKeyward(['key', 'add', '--provider', 'openai', '--api-key', 'sk-test-workers-000000000000', '--base-url', `${upstream.baseUrl}/v1`, '--scope', 'org', '--json'], {
      KEYWARD_DATA_DIR: database.dataDir,
      DATABASE_URL: database.databaseUrl ?? '',
    });
    expect(key.code).toBe(0);
    const tokens = await userTokens({ url, admin: TEST_ADMIN } as unknown as TestPlatform);
    // Each worker finds the key added by the CLI through the change feed, then answers.
    for (let i = 0; i < 6; i++) {
      let status = 0;
      for (let tries = 0; tries < 50 && status !== 200; tries++) {
        status = await chat(url, tokens.access_token);
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe(200);
    }

    const revoked = await fetch(`${url}/api/auth/oauth2/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.access_token, client_id: tokens.client.client_id }),
    });
    expect(revoked.status).toBe(200);
    // Within the 5 s the contract allows, every worker refuses it: six calls in a row, alternating workers.
    const deadline = Date.now() + 5000;
    let refusedInARow = 0;
    while (refusedInARow < 6 && Date.now() < deadline) {
      refusedInARow = (await chat(url, tokens.access_token)) === 401 ? refusedInARow + 1 : 0;
    }
    expect(refusedInARow).toBe(6);

    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(logs).toContain('stopping worker processes');
  }, 120_000);
});
