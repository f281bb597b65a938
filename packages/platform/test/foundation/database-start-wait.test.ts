// A PostgreSQL server that is away when an instance starts (restarting, failing over) is waited
// for with backoff, logged, for KEYWARD_DATABASE_START_WAIT_MS, and then the start fails; errors
// that are not "unreachable" fail at once.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPostgresBin, startThrowawayPostgres, type ThrowawayPostgres } from '../../../../scripts/postgres.mjs';
import { loadConfig } from '../../src/config.js';
import { isDatabaseUnavailable, retryWhileDatabaseUnavailable } from '../../src/db/wait-for-database.js';
import { startPlatform } from '../../src/platform.js';
import { prepareDatabase } from '../../src/worker-processes.js';

function capturedLog() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

describe('which errors mean "the database is not reachable right now"', () => {
  it.each([
    ['connection refused', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['starting up (57P03)', Object.assign(new Error('the database system is starting up'), { code: '57P03' })],
    ['shutting down (57P01)', Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })],
    ['connection exception class 08', Object.assign(new Error('x'), { code: '08006' })],
    ['connection lost mid-query', new Error('Connection terminated unexpectedly')],
    ['refused on IPv4 and IPv6', Object.assign(new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' })]), { code: '' })],
    ['wrapped by the migrator', new Error('migration failed', { cause: Object.assign(new Error('y'), { code: 'ECONNRESET' }) })],
  ])('%s: retried', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });
  it.each([
    ['a wrong password (28P01)', Object.assign(new Error('password authentication failed'), { code: '28P01' })],
    ['a missing database (3D000)', Object.assign(new Error('database "x" does not exist'), { code: '3D000' })],
    ['a syntax error', Object.assign(new Error('syntax error'), { code: '42601' })],
  ])('%s: not retried', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});

describe('retrying while the database is unavailable', () => {
  const refused = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });

  it('backs off (doubling, at most 5 s) and gives up once the wait is over, with the last error', async () => {
    const { log, lines } = capturedLog();
    const waits: number[] = [];
    let clock = 0;
    const realNow = Date.now;
    Date.now = () => realNow.call(Date) + clock;
    try {
      await expect(
        retryWhileDatabaseUnavailable(async () => Promise.reject(refused()), {
          waitMs: 12_000,
          log,
          sleep: async (ms) => {
            waits.push(ms);
            clock += ms;
          },
        }),
      ).rejects.toThrow('ECONNREFUSED');
    } finally {
      Date.now = realNow;
    }
    expect(waits.slice(0, 5)).toEqual([250, 500, 1000, 2000, 4000]);
    expect(Math.max(...waits)).toBeLessThanOrEqual(5000);
    expect(waits.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(11_990);
    expect(waits.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(12_000);
    expect(lines.filter((l) => l.includes('database unavailable at start; retrying'))).toHaveLength(waits.length);
    expect(lines.at(-1)).toContain('database still unavailable; giving up');
  });

  it('fails at once on any other error', async () => {
    const { log } = capturedLog();
    let tries = 0;
    await expect(
      retryWhileDatabaseUnavailable(
        async () => {
          tries++;
          throw Object.assign(new Error('password authentication failed'), { code: '28P01' });
        },
        { waitMs: 60_000, log, sleep: async () => undefined },
      ),
    ).rejects.toThrow('password authentication failed');
    expect(tries).toBe(1);
  });
});

describe.skipIf(!findPostgresBin())('an instance starting while PostgreSQL is down (throwaway cluster)', () => {
  let pg: ThrowawayPostgres;
  let dataDir: string;
  beforeAll(async () => {
    pg = (await startThrowawayPostgres())!;
    dataDir = await mkdtemp(join(tmpdir(), 'keyward-start-wait-'));
  }, 60_000);
  afterAll(async () => {
    pg?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const config = (wait: number) =>
    loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      KEYWARD_DATA_DIR: dataDir,
      DATABASE_URL: pg.url,
      KEYWARD_ADMIN_EMAIL: 'admin@example.com',
      KEYWARD_ADMIN_PASSWORD: 'a long enough admin password',
      KEYWARD_DATABASE_START_WAIT_MS: String(wait),
    });

  it('waits for the server that comes up a few seconds later, then starts', async () => {
    pg.pause();
    const { log, lines } = capturedLog();
    const starting = startPlatform(config(60_000), log);
    await new Promise((r) => setTimeout(r, 3000));
    pg.resume();
    const platform = await starting;
    try {
      expect(lines.filter((l) => l.includes('database unavailable at start; retrying')).length).toBeGreaterThan(1);
      expect(lines.some((l) => l.includes('database reachable; starting'))).toBe(true);
      const response = await platform.app.inject({ method: 'GET', url: '/healthz' });
      expect(response.statusCode).toBe(200);
      expect(await platform.ctx.db.selectFrom('users').select('email').execute()).toEqual([{ email: 'admin@example.com' }]);
    } finally {
      await platform.close();
    }
  }, 60_000);

  it('with KEYWARD_WORKERS, the primary preparing the database waits for it too', async () => {
    pg.pause();
    const { log, lines } = capturedLog();
    const preparing = prepareDatabase(config(60_000), log);
    await new Promise((r) => setTimeout(r, 2000));
    pg.resume();
    await preparing;
    expect(lines.filter((l) => l.includes('database unavailable at start; retrying')).length).toBeGreaterThan(1);
    expect(lines.some((l) => l.includes('database reachable; starting'))).toBe(true);
  }, 60_000);

  it('gives up after KEYWARD_DATABASE_START_WAIT_MS', async () => {
    pg.pause();
    try {
      const { log, lines } = capturedLog();
      const started = Date.now();
      await expect(startPlatform(config(2000), log)).rejects.toThrow(/ECONNREFUSED/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(lines.some((l) => l.includes('database still unavailable; giving up'))).toBe(true);
    } finally {
      pg.resume();
    }
  }, 30_000);
});
