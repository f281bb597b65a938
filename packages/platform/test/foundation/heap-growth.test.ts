// main.ts bounds how far V8 grows the heap between full GCs (heap-growth.ts): the setting takes
// effect when set at start, in a process under a router-like load, and an operator's flag wins.

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { heapGrowthGiven } from '../../src/heap-growth.js';

const PROBE = fileURLToPath(new URL('../fixtures/heap-growth-probe.ts', import.meta.url));

async function probe(mode: 'limit' | 'default', nodeFlags: string[] = []): Promise<{ applied: boolean; peakOldSpaceMb: number }> {
  const { stdout } = await promisify(execFile)(process.execPath, [...nodeFlags, '--import', 'tsx', PROBE, mode, '2500']);
  return JSON.parse(stdout);
}

describe('heap growth between full GCs', () => {
  it('set at start, keeps the old generation well below what V8 grows it to by default', async () => {
    // One after the other: two probes sharing the cores would slow V8's GC and blur its own choice.
    const limited = await probe('limit');
    const byDefault = await probe('default');
    expect(limited.applied).toBe(true);
    expect(byDefault.applied).toBe(false);
    // Quiet, the default peaks at 2.3–2.8× the limited one; under load, nearer 1.6×.
    expect(limited.peakOldSpaceMb).toBeLessThan(byDefault.peakOldSpaceMb * 0.75);
  }, 30_000);

  it('leaves a heap growing factor given on the command line alone', async () => {
    expect(heapGrowthGiven(['--heap-growing-percent=200'])).toBe(true);
    expect(heapGrowthGiven(['--heap_growing_percent=200', 'dist/main.js'])).toBe(true);
    expect(heapGrowthGiven(['--max-old-space-size=512'])).toBe(false);
    expect((await probe('limit', ['--heap-growing-percent=300'])).applied).toBe(false);
  }, 30_000);
});
