// `npm run bench -- --timeline`: preloaded (`--import`) into the upstream, the bare pass-through and
// Keyward. Records when each process saw the steps of a call — an HTTP request arriving and its
// response finished (node:http's diagnostics channels), an upstream request's head sent and its
// answer complete (undici's) — on the machine's monotonic clock, which every process shares, and
// writes them to $KEYWARD_BENCH_TIMELINE/<script>-<pid>.json when the process exits.
// timeline.ts lines the processes' steps up call by call.

import { subscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/** Step codes, as timeline.ts reads them. */
export const STEPS = {
  inboundStart: 0,
  inboundFinish: 1,
  upstreamSent: 2,
  upstreamComplete: 3,
} as const;

/** One process's record: its script and, flat, step code then time (µs) for each step. */
export interface ProcessTimeline {
  script: string;
  steps: number[];
}

const dir = process.env.KEYWARD_BENCH_TIMELINE;
if (dir) {
  const steps: number[] = [];
  // The c=1 scenarios come first and fit (the upstream, which sees every target's calls, records
  // about 130,000 numbers of them); the throughput scenarios after them are not recorded, so the
  // peak RSS the bench reports stays Keyward's own.
  const MAX_STEPS = 500_000;
  const record = (code: number) => () => {
    if (steps.length < MAX_STEPS) steps.push(code, Number(process.hrtime.bigint() / 1000n));
  };
  subscribe('http.server.request.start', record(STEPS.inboundStart));
  subscribe('http.server.response.finish', record(STEPS.inboundFinish));
  subscribe('undici:client:sendHeaders', record(STEPS.upstreamSent));
  subscribe('undici:request:trailers', record(STEPS.upstreamComplete));
  const script = basename(process.argv[1] ?? 'unknown');
  process.once('exit', () => {
    const timeline: ProcessTimeline = { script, steps };
    writeFileSync(join(dir, `${script}-${process.pid}.json`), JSON.stringify(timeline));
  });
}
