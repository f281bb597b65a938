// An error nothing caught, in the running server: one fatal JSON line on stdout (not a bare stack
// on stderr), then exit 1. The crash is set off from outside by a preload that only this test adds:
// on SIGUSR2 it throws, or rejects a promise nobody awaits.

import { spawn } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { entryArgs } from '../support/built-entry.js';
import { createTestDatabase } from '../support/test-database.js';
import { freePort, serverProcessEnv } from '../support/test-platform.js';

const database = await createTestDatabase();
afterAll(() => database.drop());

const CRASHES = {
  uncaughtException: "process.on('SIGUSR2', () => { throw new Error('deliberate crash') })",
  unhandledRejection: "process.on('SIGUSR2', () => { Promise.reject(new Error('deliberate crash')) })",
};

describe('an error nothing caught', () => {
  it.each(Object.entries(CRASHES))('%s: logs one fatal JSON line and exits 1', async (origin, preload) => {
    const port = await freePort();
    const env = serverProcessEnv(port, database, { KEYWARD_LOG_LEVEL: 'warn', KEYWARD_LOG_FORMAT: 'json' });
    const child = spawn(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(preload)}`, ...entryArgs('main')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      for (let i = 0; ; i++) {
        if ((await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.status, () => 0)) === 200) break;
        if (i > 200) throw new Error(`the server did not become ready: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      child.kill('SIGUSR2');
      expect(await exited).toBe(1);
    } finally {
      child.kill('SIGKILL');
    }
    const lines = stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, any>);
    const fatal = lines.filter((line) => line.level === 60);
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatchObject({ service: 'keyward', origin, err: { type: 'Error', message: 'deliberate crash', stack: expect.stringContaining('Error: deliberate crash') } });
    expect(fatal[0]!.msg).toMatch(/exiting$/);
    // Node's own report of the error (its stack on stderr) is not printed: the log line replaces it.
    expect(stderr).not.toContain('deliberate crash');
  }, 30_000);
});
