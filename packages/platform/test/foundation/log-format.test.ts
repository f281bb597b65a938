// Logs: JSON lines by default, one readable line per event on a terminal or with
// KEYWARD_LOG_FORMAT=pretty; redaction holds in both.

import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { chooseLogFormat, formatLogLine, prettyDestination } from '../../src/log-format.js';
import { loggerOptions } from '../../src/logger.js';
import { entryArgs } from '../support/built-entry.js';
import { createTestDatabase } from '../support/test-database.js';
import { freePort } from '../support/test-platform.js';

describe('log format selection', () => {
  it('is pretty on a terminal and JSON otherwise, unless KEYWARD_LOG_FORMAT says', () => {
    expect(chooseLogFormat(undefined, true)).toBe('pretty');
    expect(chooseLogFormat(undefined, false)).toBe('json');
    expect(chooseLogFormat('json', true)).toBe('json');
    expect(chooseLogFormat('pretty', false)).toBe('pretty');
  });
  it('refuses an unknown format with a clear error', () => {
    expect(() => loadConfig({ KEYWARD_LOG_FORMAT: 'yaml' })).toThrow(ConfigError);
    expect(() => loadConfig({ KEYWARD_LOG_FORMAT: 'yaml' })).toThrow(/KEYWARD_LOG_FORMAT must be json or pretty/);
    expect(loadConfig({ KEYWARD_LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
  });
});

describe('a readable line', () => {
  it('has time, level, message and fields on one line, with secrets still redacted', () => {
    let out = '';
    const sink = new Writable({ write: (chunk, _enc, done) => ((out += chunk), done()) });
    const log = pino(loggerOptions('info'), prettyDestination(sink));
    log.info({ reqId: 'r-1', req: { method: 'POST', url: '/v1/x', headers: { authorization: 'Bearer sk-secret-token' } }, responseTime: 1.5 }, 'request completed');
    expect(out).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  request completed reqId=r-1 req\.method=POST req\.url=\/v1\/x req\.headers\.authorization=\[redacted\] responseTime=1\.5\n$/);
    expect(out).not.toContain('sk-secret-token');
  });
  it('shows an error with its type and message, and the stack below for errors', () => {
    const line = formatLogLine(JSON.stringify({ level: 50, time: '2026-01-01T10:00:00.000Z', msg: 'failed', err: { type: 'TypeError', message: 'bad thing', stack: 'TypeError: bad thing\n    at x' } }), false);
    expect(line.split('\n')[0]).toBe('10:00:00.000 ERROR failed err="TypeError: bad thing"');
    expect(line).toContain('    TypeError: bad thing');
  });
});

describe('the running platform', () => {
  const databases: Array<Awaited<ReturnType<typeof createTestDatabase>>> = [];
  afterAll(async () => {
    for (const db of databases) await db.drop();
  });

  /** Starts main.ts with stdout piped (not a terminal) and returns its first stdout line. */
  async function firstLine(extraEnv: Record<string, string>): Promise<string> {
    const database = await createTestDatabase();
    databases.push(database);
    const { KEYWARD_LOG_FORMAT: _inherited, ...inherited } = process.env;
    const env = { ...inherited, PORT: String(await freePort()), HOST: '127.0.0.1', KEYWARD_DATA_DIR: database.dataDir, DATABASE_URL: database.databaseUrl ?? '', KEYWARD_LOG_LEVEL: 'info', ...extraEnv };
    const child = spawn(process.execPath, entryArgs('main'), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      for await (const chunk of child.stdout) {
        out += chunk;
        if (out.includes('\n')) return out.slice(0, out.indexOf('\n'));
      }
      throw new Error('no log line before exit');
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  }

  it('writes JSON lines when stdout is not a terminal, and readable lines with KEYWARD_LOG_FORMAT=pretty', async () => {
    const json = await firstLine({});
    expect(JSON.parse(json)).toMatchObject({ level: 30, service: 'keyward' });
    const pretty = await firstLine({ KEYWARD_LOG_FORMAT: 'pretty' });
    expect(pretty).toMatch(/^\d\d:\d\d:\d\d\.\d{3} INFO  \S/);
    expect(() => JSON.parse(pretty)).toThrow();
  }, 60_000);
});
