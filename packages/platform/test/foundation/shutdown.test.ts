// SIGTERM while an answer is streaming: the server stops taking requests, lets the stream finish,
// writes the call's usage record, closes the database and exits 0. A stream still running when
// the grace period is over is ended with an error event (503 server_shutdown) and metered as such
// before the connections are closed and the usage sink closes.

import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/db/database.js';
import { entryArgs } from '../support/built-entry.js';
import { runKeyward } from '../support/cli.js';
import { userTokens } from '../support/oauth-client.js';
import { createTestDatabase } from '../support/test-database.js';
import { freePort, serverProcessEnv, TEST_ADMIN, type TestPlatform } from '../support/test-platform.js';

const WORDS = ['one ', 'two ', 'three ', 'four ', 'five ', 'six'];

/** An OpenAI-wire upstream that streams one word every 250 ms. */
async function slowUpstream(words = WORDS): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', async () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (delta: object, finish: string | null) =>
        `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      res.write(chunk({ role: 'assistant', content: '' }, null));
      for (const word of words) {
        if (res.destroyed) return;
        await new Promise((r) => setTimeout(r, 250));
        res.write(chunk({ content: word }, null));
      }
      res.write(chunk({}, 'stop'));
      res.write(`data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4o-mini', choices: [], usage: { prompt_tokens: 3, completion_tokens: 6, total_tokens: 9 } })}\n\n`);
      res.end('data: [DONE]\n\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const database = await createTestDatabase();
let child: ChildProcess | undefined;
let upstream: Awaited<ReturnType<typeof slowUpstream>> | undefined;
afterAll(async () => {
  child?.kill('SIGKILL');
  upstream?.server.closeAllConnections();
  upstream?.server.close();
  await database.drop();
});

/** Starts `npm start` on `db` and waits until it is ready. */
async function startServer(db: typeof database, env: Record<string, string>) {
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const proc = spawn(process.execPath, entryArgs('main'), { env: serverProcessEnv(port, db, env), stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout!.on('data', (d) => (log += d));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  for (let i = 0; ; i++) {
    const ready = await fetch(`${url}/readyz`).then((r) => r.status, () => 0);
    if (ready === 200) break;
    if (i > 200) throw new Error('the server did not become ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, url, exited, log: () => log };
}

describe('graceful shutdown', () => {
  it('finishes an in-flight stream after SIGTERM, refuses new work, flushes usage and exits 0', async () => {
    upstream = await slowUpstream();
    const port = await freePort();
    const url = `http://localhost:${port}`;
    const env = serverProcessEnv(port, database, { KEYWARD_LOG_LEVEL: 'warn' });
    child = spawn(process.execPath, entryArgs('main'), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child!.once('exit', (code) => resolve(code)));
    for (let i = 0; ; i++) {
      const ready = await fetch(`${url}/readyz`).then((r) => r.status, () => 0);
      if (ready === 200) break;
      if (i > 200) throw new Error('the server did not become ready');
      await new Promise((r) => setTimeout(r, 100));
    }
    const cliEnv = { KEYWARD_DATA_DIR: database.dataDir, DATABASE_URL: database.databaseUrl ?? '' };
    const key = await runKeyward(['key', 'add', '--provider', 'openai', '--api-key', 'sk-test-shutdown-0000000000', '--base-url', `${upstream.url}/v1`, '--scope', 'org', '--json'], cliEnv);
    expect(key.code).toBe(0);
    const tokens = await userTokens({ url, admin: TEST_ADMIN } as unknown as TestPlatform);

    const response = await fetch(`${url}/v1/model-router/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'openai:gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'count' }] }),
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    let text = new TextDecoder().decode((await reader.read()).value);

    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    // No new work once shutting down: refused, or a 503.
    const late = await fetch(`${url}/healthz`).then((r) => r.status, () => 'refused');
    expect([503, 'refused']).toContain(late);

    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    for (const word of WORDS) expect(text).toContain(JSON.stringify(word).slice(1, -1));
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(await exited).toBe(0);

    const storage = openStorage(database);
    try {
      const rows = await storage.db.selectFrom('usage_records').selectAll().execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ provider: 'openai', model: 'gpt-4o-mini', status: 200 });
    } finally {
      await storage.close();
    }
  }, 90_000);
});

describe('shutdown past the grace period', () => {
  const late = createTestDatabase();
  let server: ChildProcess | undefined;
  let drip: Awaited<ReturnType<typeof slowUpstream>> | undefined;
  afterAll(async () => {
    server?.kill('SIGKILL');
    drip?.server.closeAllConnections();
    drip?.server.close();
    await (await late).drop();
  });

  it('ends a stream still running with a server_shutdown error event, meters it so, then exits 0', async () => {
    const db = await late;
    // 40 words over 10 s: far past a 1.5 s grace period.
    drip = await slowUpstream(Array.from({ length: 40 }, (_, i) => `w${i} `));
    const started = await startServer(db, { KEYWARD_LOG_LEVEL: 'info', KEYWARD_SHUTDOWN_GRACE_MS: '1500' });
    server = started.proc;
    const cliEnv = { KEYWARD_DATA_DIR: db.dataDir, DATABASE_URL: db.databaseUrl ?? '' };
    expect((await runKeyward(['key', 'add', '--provider', 'openai', '--api-key', 'sk-test-shutdown-0000000000', '--base-url', `${drip.url}/v1`, '--scope', 'org', '--json'], cliEnv)).code).toBe(0);
    const tokens = await userTokens({ url: started.url, admin: TEST_ADMIN } as unknown as TestPlatform);

    const response = await fetch(`${started.url}/v1/model-router/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json', 'x-request-id': 'cut-by-shutdown' },
      body: JSON.stringify({ model: 'openai:gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'count' }] }),
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    let text = new TextDecoder().decode((await reader.read()).value);
    server.kill('SIGTERM');
    let cut: string | undefined;
    for (;;) {
      const next = await reader.read().catch((error: Error) => ((cut = error.message), { done: true as const, value: undefined }));
      if (next.done) break;
      text += new TextDecoder().decode(next.value);
    }
    expect(await started.exited).toBe(0);

    // The stream ended cleanly, its last event the error: the client can tell it from a whole answer.
    expect(cut).toBeUndefined();
    const events = text.trim().split('\n\n');
    expect(JSON.parse(events.at(-1)!.replace(/^data: /, ''))).toMatchObject({ error: { code: 'server_shutdown', type: 'server_error' } });
    expect(text).not.toContain('[DONE]');
    expect(started.log()).not.toContain('usage record after close');

    const storage = openStorage(db);
    try {
      const rows = await storage.db.selectFrom('usage_records').selectAll().where('request_id', '=', 'cut-by-shutdown').execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ outcome: 'rejected', status: 200 });
      expect(rows[0]!.error_message).toMatch(/shutting down/);
    } finally {
      await storage.close();
    }
  }, 90_000);
});
