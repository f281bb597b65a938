// main.ts bounds how far V8 grows the heap between full GCs (heap-growth.ts): the setting takes
// effect when set at start, in a process under a router-like load, and an operator's flag wins.

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { heapGrowthGiven } from '../../src/heap-growth.js';

const PROBE = fileURLToPath(new URL('../fixtures/heap-growth-probe.ts', import.meta.url));

async function probe(mode: 'limit' | 'default', nodeFlags: string[] = [], calls = 150_000): Promise<{ applied: boolean; peakOldSpaceMb: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, [...nodeFlags, '--import', 'tsx', PROBE, mode, String(calls)]);
  return JSON.parse(stdout);
}

describe('heap growth between full GCs', () => {
  it('set at start, keeps the old generation well below what V8 grows it to by default', async () => {
    const [limited, byDefault] = await Promise.all([probe('limit'), probe('default')]);
    expect(limited.applied).toBe(true);
    expect(byDefault.applied).toBe(false);
    // About 120 MB against 280 MB, on a quiet machine or a busy one.
    expect(limited.peakOldSpaceMb).toBeLessThan(byDefault.peakOldSpaceMb * 0.6);
  }, 30_000);

  it('leaves a heap growing factor given on the command line alone', async () => {
    expect(heapGrowthGiven(['--heap-growing-percent=200'])).toBe(true);
    expect(heapGrowthGiven(['--heap_growing_percent=200', 'dist/main.js'])).toBe(true);
    expect(heapGrowthGiven(['--max-old-space-size=512'])).toBe(false);
    expect((await probe('limit', ['--heap-growing-percent=300'], 1)).applied).toBe(false);
  }, 30_000);
});
