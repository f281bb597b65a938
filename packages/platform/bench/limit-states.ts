// How steady the bench's limit is from one process to the next: starts the bare pass-through as
// N fresh processes in turn, alternately with the V8 flags the bench gives it and without, and
// measures each one alone (c=256 with a 20 ms upstream, then c=1) with the bench's own upstream
// and load generator. Prints each process's CPU per request and p50 latency, so a process that is
// faster or slower than the others for its whole life shows as one line apart.
//
//   node --import tsx packages/platform/bench/limit-states.ts [--processes 8] [--flags "--no-allocation-site-pretenuring"]
//
// It found why the bare pass-through was sometimes a quarter cheaper per request than usual: V8's
// allocation-site pretenuring, decided per process (docs/performance.md, twelfth round).

import { parseArgs } from 'node:util';
import { FIXTURE_V8_FLAGS, forkBenchScript, PROVIDER_KEY } from './bench-process.js';
import type { BenchJob, BenchResult } from './load-generator.js';

const { values: flags } = parseArgs({
  options: {
    processes: { type: 'string', default: '8' },
    flags: { type: 'string', default: FIXTURE_V8_FLAGS.join(' ') },
  },
});
const start = (name: string, args: string[], v8Flags: string[]) => forkBenchScript(name, args, { execArgv: [...v8Flags, ...process.execArgv] });

async function main() {
  const v8Flags = flags.flags.split(' ').filter(Boolean);
  const upstream = start('upstream-server.ts', [], v8Flags);
  const { port } = (await upstream.firstMessage) as { port: number };
  const origin = `http://127.0.0.1:${port}`;
  try {
    console.log(`| process | flags | c=256: CPU per request | c=256: p50 | c=1: CPU per request | c=1: p50 |\n|---|---|---|---|---|---|`);
    for (let i = 0; i < Number(flags.processes); i++) {
      for (const withFlags of [false, true]) {
        const bare = start('bare-passthrough.ts', [origin], withFlags ? v8Flags : []);
        const { port: barePort } = (await bare.firstMessage) as { port: number };
        const job: BenchJob = {
          targets: [
            { name: 'bare', origin: `http://127.0.0.1:${barePort}`, path: '/v1/chat/completions', headers: { authorization: `Bearer ${PROVIDER_KEY}` }, modelPrefix: '', pids: [bare.child.pid!] },
          ],
          scenarios: [
            { label: 'c256', concurrency: 256, stream: false, total: 1_000_000, warmup: 1_000_000, durationMs: 2000, warmupMs: 1000, model: 'bench-d20-n20' },
            { label: 'c1', concurrency: 1, stream: false, total: 3000, warmup: 2000, model: 'bench-n20' },
          ],
        };
        const load = start('load-generator.ts', [], v8Flags);
        load.child.send(job);
        const answer = (await load.firstMessage) as { results?: BenchResult[]; error?: string };
        bare.child.kill();
        if (!answer.results) throw new Error(`load generator failed: ${answer.error}`);
        const cells = answer.results.flatMap(({ runs: [run] }) => {
          const p50 = run!.latencies[Math.floor(run!.latencies.length / 2)]!;
          return [`${(run!.cpuMs / run!.latencies.length).toFixed(3)} ms`, `${p50.toFixed(2)} ms`];
        });
        console.log(`| ${i + 1} | ${withFlags ? v8Flags.join(' ') : '(none)'} | ${cells.join(' | ')} |`);
      }
    }
  } finally {
    upstream.child.kill();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
