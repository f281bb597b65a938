// JSON log lines go to stdout off the event loop: a reader that is slow or stuck never blocks a
// call, lines past the waiting cap are dropped and counted, and several processes sharing stdout
// (KEYWARD_WORKERS) never cut into each other's lines.

import { execFileSync, spawn } from 'node:child_process';
import { constants, createReadStream, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { jsonLogDestination, loggerOptions } from '../../src/logger.js';
import { metricsRegistry } from '../../src/metrics/metrics.js';

const writerScript = fileURLToPath(new URL('./support/log-writer.ts', import.meta.url));

async function droppedLines(): Promise<number> {
  const metric = await metricsRegistry.getSingleMetric('keyward_log_lines_dropped_total')!.get();
  return metric.values[0]?.value ?? 0;
}

describe('the JSON log destination', () => {
  it('keeps every line whole when several processes (workers) write to one pipe at full speed', async () => {
    const writers = 3;
    const count = 4000;
    // One shell whose stdout is the pipe; its children (the writers) inherit it, as workers do.
    const commands = Array.from({ length: writers }, (_, i) => `node --import tsx ${JSON.stringify(writerScript)} w${i} ${count} 1500 &`).join(' ');
    const child = spawn('sh', ['-c', `${commands} wait`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const chunks: Buffer[] = [];
    // A slow reader: the pipe fills, so the writers' writes meet a full pipe and each other.
    child.stdout.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), 1);
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    const lines = Buffer.concat(chunks).toString('utf8').split('\n').filter(Boolean);
    const broken = lines.filter((line) => {
      try {
        JSON.parse(line);
        return false;
      } catch {
        return true;
      }
    });
    expect(broken).toEqual([]);
    expect(lines).toHaveLength(writers * count);
    // Each writer's lines arrive in the order it wrote them.
    for (let w = 0; w < writers; w++) {
      const numbers = lines.map((line) => JSON.parse(line) as { writer: string; n: number }).filter((line) => line.writer === `w${w}`).map((line) => line.n);
      expect(numbers).toEqual(Array.from({ length: count }, (_, i) => i));
    }
  }, 120_000);

  it('never blocks on a reader that does not read: lines past the cap are dropped and counted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-log-'));
    const fifo = join(dir, 'stuck');
    execFileSync('mkfifo', [fifo]);
    // Opened for reading and writing so the open does not wait for a reader; nobody ever reads.
    const fd = openSync(fifo, constants.O_RDWR | constants.O_NONBLOCK);
    const destination = jsonLogDestination(fd, { maxLength: 256 * 1024 });
    const log = pino(loggerOptions('info'), destination);
    const before = await droppedLines();
    const started = performance.now();
    // About 2 MB of lines: the pipe (64 KiB) and the cap (256 KiB) fill, the rest is dropped.
    for (let i = 0; i < 2000; i++) log.info({ n: i, filler: 'y'.repeat(1000) }, 'line');
    const tookMs = performance.now() - started;
    // The event loop still turns.
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(tookMs).toBeLessThan(2000);
    expect((await droppedLines()) - before).toBeGreaterThan(1000);
    // A reader at last: what waited is written, then the destination ends and closes the descriptor.
    const reader = createReadStream(fifo);
    reader.resume();
    await new Promise((resolve) => {
      destination.once('close', resolve);
      destination.end();
    });
    reader.destroy();
    rmSync(dir, { recursive: true, force: true });
  }, 30_000);
});
