// The bench's client, in its own process (forked by router-overhead.ts) so that generating load
// does not compete with the gateways for their event loops. Receives the targets and the
// scenarios over IPC, runs each scenario against each target in turn (closed loop: each of
// `concurrency` callers sends its next request when the previous one is read to the end; the c=1
// scenarios in rounds that alternate the targets), and answers with sorted latencies, times to
// first byte, elapsed time and failures.

import { readFileSync } from 'node:fs';
import { Pool } from 'undici';

export interface BenchTarget {
  name: string;
  origin: string;
  path: string;
  headers: Record<string, string>;
  /** Prefix for the upstream model name (`openai:` through the router, nothing otherwise). */
  modelPrefix: string;
  /** The processes serving this target, whose CPU time each run measures (from /proc). */
  pids?: number[];
}

export interface BenchScenario {
  label: string;
  concurrency: number;
  stream: boolean;
  /** Requests to send (the run also ends at `durationMs`, when given). */
  total: number;
  warmup: number;
  /** Bounds a throughput run in time, so a loaded machine does not stretch the bench. */
  durationMs?: number;
  warmupMs?: number;
  /** The upstream's pace, encoded in the model name (see upstream-server.ts). */
  model: string;
  /** Targets this scenario runs against (names); all when absent. */
  only?: string[];
  /**
   * The measured calls are sent in this many rounds, each round calling every target in turn (the
   * first target rotating), so that the machine's speed drifting during the scenario weighs on
   * every target alike instead of on whichever ran last: `total / rounds` calls per turn, or for a
   * time-bounded scenario `durationMs / rounds` of it. Each target's turns are pooled into one run.
   */
  rounds?: number;
}

export interface BenchJob {
  targets: BenchTarget[];
  scenarios: BenchScenario[];
}

export interface TargetRun {
  target: string;
  latencies: number[];
  ttfb: number[];
  elapsedMs: number;
  /** CPU time (user + system) the target's processes spent during the run, in ms; NaN where /proc is not readable. */
  cpuMs: number;
  failures: number;
  firstFailure?: string;
  /** When the run's calls were made, on the monotonic clock every process shares (µs): one span per run, one per round. */
  spans: Array<[number, number]>;
}

export interface BenchResult {
  scenario: BenchScenario;
  runs: TargetRun[];
}

interface Sample {
  latency: number;
  ttfb: number;
}

async function once(pool: Pool, target: BenchTarget, scenario: BenchScenario): Promise<Sample> {
  const started = performance.now();
  const { statusCode, body } = await pool.request({
    method: 'POST',
    path: target.path,
    headers: { 'content-type': 'application/json', ...target.headers },
    body: JSON.stringify({
      model: target.modelPrefix + scenario.model,
      messages: [{ role: 'user', content: 'Say the pangram.' }],
      stream: scenario.stream,
      ...(scenario.stream ? { stream_options: { include_usage: true } } : {}),
    }),
  });
  let ttfb = 0;
  let text = '';
  for await (const chunk of body) {
    if (!ttfb) ttfb = performance.now() - started;
    text += chunk;
  }
  if (statusCode !== 200) throw new Error(`HTTP ${statusCode} from ${target.name}: ${text.slice(0, 200)}`);
  if (scenario.stream && !text.includes('[DONE]')) throw new Error(`stream from ${target.name} ended without [DONE]`);
  return { latency: performance.now() - started, ttfb };
}

const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

const TICK_MS = 10; // USER_HZ is 100 on Linux.

/** User + system CPU time of the processes, in ms, from /proc/PID/stat (fields 14 and 15). */
function cpuTimeMs(pids: number[] | undefined): number {
  if (!pids?.length) return NaN;
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      return NaN;
    }
  }
  return ticks * TICK_MS;
}

const openPool = (target: BenchTarget, scenario: BenchScenario) =>
  new Pool(target.origin, { connections: scenario.concurrency, keepAliveTimeout: 60_000, headersTimeout: 60_000, bodyTimeout: 60_000 });

/** Runs `total` calls (or until `durationMs`); on `given`'s connections when given (left open), else on a pool of its own. */
async function run(target: BenchTarget, scenario: BenchScenario, total: number, durationMs: number | undefined, given?: Pool): Promise<TargetRun> {
  const pool = given ?? openPool(target, scenario);
  const samples: Sample[] = [];
  let failures = 0;
  let firstFailure: string | undefined;
  let next = 0;
  const cpuBefore = cpuTimeMs(target.pids);
  const spanStart = monotonicMicros();
  const started = performance.now();
  const endsAt = durationMs === undefined ? Infinity : started + durationMs;
  try {
    await Promise.all(
      Array.from({ length: scenario.concurrency }, async () => {
        while (next < total && performance.now() < endsAt) {
          next += 1;
          try {
            samples.push(await once(pool, target, scenario));
          } catch (error) {
            failures += 1;
            firstFailure ??= error instanceof Error ? error.message : String(error);
          }
        }
      }),
    );
  } finally {
    if (!given) await pool.close();
  }
  const elapsedMs = performance.now() - started;
  const cpuMs = cpuTimeMs(target.pids) - cpuBefore;
  return {
    target: target.name,
    latencies: samples.map((s) => s.latency).sort((a, b) => a - b),
    ttfb: samples.map((s) => s.ttfb).sort((a, b) => a - b),
    elapsedMs,
    cpuMs,
    failures,
    ...(firstFailure ? { firstFailure } : {}),
    spans: [[spanStart, monotonicMicros()]],
  };
}

/** One target's rounds as one run: samples pooled (and sorted), time, CPU and failures added up. */
function mergeRuns(parts: TargetRun[]): TargetRun {
  const merged: TargetRun = { target: parts[0]!.target, latencies: [], ttfb: [], elapsedMs: 0, cpuMs: 0, failures: 0, spans: [] };
  for (const part of parts) {
    merged.latencies.push(...part.latencies);
    merged.ttfb.push(...part.ttfb);
    merged.elapsedMs += part.elapsedMs;
    merged.cpuMs += part.cpuMs;
    merged.failures += part.failures;
    merged.spans.push(...part.spans);
    if (part.firstFailure) merged.firstFailure ??= part.firstFailure;
  }
  merged.latencies.sort((a, b) => a - b);
  merged.ttfb.sort((a, b) => a - b);
  return merged;
}

/** Unmeasured calls at the start of each target's turn in a round. */
const ROUND_REWARM_CALLS = 400;

/** Unmeasured time at the start of each target's turn in a round of a time-bounded scenario. */
const ROUND_REWARM_MS = 250;

/**
 * A scenario in rounds: every target warmed up, then `rounds` turns of total/rounds calls (or
 * durationMs/rounds) each. A fixed-count scenario keeps one pool per target throughout. A
 * time-bounded one opens a pool for each turn and closes it after, so that only the target being
 * measured has connections open: idle connections to the other target, held by this process,
 * raised Keyward's CPU per call at c=256 by a third (docs/performance.md, tenth round).
 */
async function runInRounds(targets: BenchTarget[], scenario: BenchScenario, rounds: number): Promise<TargetRun[]> {
  const timed = scenario.durationMs !== undefined;
  const pools = timed ? [] : targets.map((target) => openPool(target, scenario));
  try {
    // Warm the paths (connections, JIT, caches) before measuring.
    for (const [i, target] of targets.entries()) if (scenario.warmup) await run(target, scenario, scenario.warmup, scenario.warmupMs, pools[i]);
    const parts: TargetRun[][] = targets.map(() => []);
    const perRound = timed ? scenario.total : Math.max(1, Math.round(scenario.total / rounds));
    const perRoundMs = timed ? scenario.durationMs! / rounds : undefined;
    // A process that sat idle while the others ran starts its turn with cold CPU caches (and, in a
    // time-bounded scenario, a new pool's connections to open): a few unmeasured calls, or a
    // moment of load, first, so each turn measures the target warm, as one long run would.
    const rewarm = timed ? scenario.total : Math.min(ROUND_REWARM_CALLS, scenario.warmup);
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < targets.length; k++) {
        const i = (round + k) % targets.length;
        const pool = pools[i] ?? openPool(targets[i]!, scenario);
        try {
          if (rewarm) await run(targets[i]!, scenario, rewarm, timed ? ROUND_REWARM_MS : undefined, pool);
          parts[i]!.push(await run(targets[i]!, scenario, perRound, perRoundMs, pool));
        } finally {
          if (!pools[i]) await pool.close();
        }
      }
    }
    return parts.map(mergeRuns);
  } finally {
    await Promise.all(pools.map((pool) => pool.close()));
  }
}

async function runJob(job: BenchJob): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  for (const scenario of job.scenarios) {
    const targets = job.targets.filter((target) => !scenario.only || scenario.only.includes(target.name));
    if (scenario.rounds && scenario.rounds > 1) {
      results.push({ scenario, runs: await runInRounds(targets, scenario, scenario.rounds) });
      continue;
    }
    const runs: TargetRun[] = [];
    for (const target of targets) {
      // Warm the path (connections, JIT, caches) before measuring.
      if (scenario.warmup) await run(target, scenario, scenario.warmup, scenario.warmupMs);
      runs.push(await run(target, scenario, scenario.total, scenario.durationMs));
    }
    results.push({ scenario, runs });
  }
  return results;
}

process.once('message', (job: BenchJob) => {
  runJob(job).then(
    (results) => process.send?.({ results }, undefined, {}, () => process.exit(0)),
    (error: unknown) => process.send?.({ error: error instanceof Error ? error.message : String(error) }, undefined, {}, () => process.exit(1)),
  );
});
