// The background-job runner: every timer Keyward keeps runs through it, so a failure is logged
// and retried instead of disappearing, and shutdown stops them all.

import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { createBackgroundJobs } from '../../src/background-jobs.js';

function capturedLog() {
  const lines: Array<{ level: number; msg: string; job?: string; failures?: number; err?: { message: string } }> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('background jobs', () => {
  it('a failing job is logged once with its name and error, retried every tick, and its recovery logged', async () => {
    const { log, lines } = capturedLog();
    const jobs = createBackgroundJobs(log);
    let calls = 0;
    jobs.every('flaky job', 20, async () => {
      calls += 1;
      if (calls <= 3) throw new Error(`boom ${calls}`);
    });
    // Ticks, not a fixed sleep: a loaded machine fires timers late.
    for (const started = Date.now(); calls < 5 && Date.now() - started < 10_000; ) await sleep(20);
    await jobs.stop();
    expect(calls).toBeGreaterThanOrEqual(5);
    const failed = lines.filter((l) => l.job === 'flaky job' && l.level === 50);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.err!.message).toBe('boom 1');
    expect(failed[0]!.msg).toContain('retrying every 20 ms');
    expect(lines.filter((l) => l.job === 'flaky job' && l.msg.includes('recovered'))).toEqual([expect.objectContaining({ failures: 3, level: 30 })]);
  });

  it('never runs a job twice at once, and stop waits for the run under way and ends the ticks', async () => {
    const { log } = capturedLog();
    const jobs = createBackgroundJobs(log);
    let running = 0;
    let overlapped = false;
    let runs = 0;
    let finished = 0;
    const job = jobs.every('slow job', 5, async () => {
      running += 1;
      runs += 1;
      overlapped ||= running > 1;
      await sleep(40);
      running -= 1;
      finished += 1;
    });
    await Promise.all([job.runNow(), job.runNow()]);
    await sleep(60);
    await jobs.stop();
    expect(overlapped).toBe(false);
    expect(finished).toBe(runs);
    const after = runs;
    await sleep(50);
    expect(runs).toBe(after);
  });

  it('runNow never rejects: the failure goes to the log', async () => {
    const { log, lines } = capturedLog();
    const jobs = createBackgroundJobs(log);
    const job = jobs.every('manual job', 60_000, async () => {
      throw new Error('nope');
    });
    await expect(job.runNow()).resolves.toBeUndefined();
    await jobs.stop();
    expect(lines.some((l) => l.job === 'manual job' && l.err?.message === 'nope')).toBe(true);
  });
});
