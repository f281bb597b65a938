// How far V8 lets the heap grow between two full garbage collections, set when the process starts.
// Under load, calls outlive young-generation GCs and are promoted, so nearly all the old generation
// is garbage: V8's default lets it grow to up to 4× what the last full GC kept (a full
// `npm run bench` peaked near 300 MB RSS with 37 MB live). Growing by half bounds it at a small CPU cost.

import { setFlagsFromString } from 'node:v8';

/** The old generation may grow to 1.5× what survived the last full GC before the next one. */
export const HEAP_GROWING_PERCENT = 50;

const FLAG = /^--heap[-_]growing[-_]percent(=|$)/;

/** An operator's own `node --heap-growing-percent=N dist/main.js` wins over ours. */
export function heapGrowthGiven(execArgv: readonly string[]): boolean {
  return execArgv.some((arg) => FLAG.test(arg));
}

/**
 * Sets V8's heap growing factor unless the command line set one. V8 reads it each time it sizes
 * the heap after a full GC, so setting it at start takes effect in this process and, since each
 * cluster worker runs main.js too, in every worker.
 */
export function limitHeapGrowth(execArgv: readonly string[] = process.execArgv, percent = HEAP_GROWING_PERCENT): boolean {
  if (heapGrowthGiven(execArgv)) return false;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return true;
}
