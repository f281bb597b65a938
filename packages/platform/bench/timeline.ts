// `npm run bench -- --timeline`: where a c=1 call's time goes, per gateway. Lines up the steps that
// timeline-probe.ts recorded in the gateway and in the upstream, call by call (at c=1 the calls do
// not overlap, so each step is the first of its kind after the one before), within the spans the
// load generator measured, and gives the median of each phase.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TargetRun } from './load-generator.js';
import { STEPS, type ProcessTimeline } from './timeline-probe.js';

export const PHASES = [
  ['in the gateway, before calling the upstream', 'request arrived → upstream request head sent'],
  ['to the upstream', 'head sent → upstream saw the request'],
  ["the upstream's own time", 'upstream saw the request → its response finished'],
  ['back to the gateway', "upstream's response finished → the gateway had all of it"],
  ['in the gateway, after the upstream', "the gateway had the upstream's answer → its response finished"],
  ['the gateway in all', 'request arrived → its response finished'],
] as const;

/** Median µs of each phase (PHASES' order) over the calls found, and how many were found. */
export interface PhaseMedians {
  calls: number;
  medians: number[];
}

interface StepTimes {
  inboundStart: number[];
  inboundFinish: number[];
  upstreamSent: number[];
  upstreamComplete: number[];
}

function stepTimes(timeline: ProcessTimeline): StepTimes {
  const times: StepTimes = { inboundStart: [], inboundFinish: [], upstreamSent: [], upstreamComplete: [] };
  const lists = [times.inboundStart, times.inboundFinish, times.upstreamSent, times.upstreamComplete];
  for (let i = 0; i < timeline.steps.length; i += 2) lists[timeline.steps[i]!]?.push(timeline.steps[i + 1]!);
  for (const list of lists) list.sort((a, b) => a - b);
  return times;
}

/** The first time in `sorted` at or after `t`. */
function firstFrom(sorted: number[], t: number): number | undefined {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return sorted[lo];
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[sorted.length >> 1] ?? NaN;
};

/** Each phase of the gateway's calls that started within `spans`, lined up with the upstream's steps. */
export function phasesOf(gateway: ProcessTimeline, upstream: ProcessTimeline, spans: Array<[number, number]>): PhaseMedians {
  const g = stepTimes(gateway);
  const u = stepTimes(upstream);
  const phases: number[][] = PHASES.map(() => []);
  for (const arrived of g.inboundStart) {
    if (!spans.some(([from, to]) => arrived >= from && arrived <= to)) continue;
    const sent = firstFrom(g.upstreamSent, arrived);
    const seen = sent === undefined ? undefined : firstFrom(u.inboundStart, sent);
    const answered = seen === undefined ? undefined : firstFrom(u.inboundFinish, seen);
    const had = answered === undefined ? undefined : firstFrom(g.upstreamComplete, answered);
    const finished = had === undefined ? undefined : firstFrom(g.inboundFinish, had);
    if (sent === undefined || seen === undefined || answered === undefined || had === undefined || finished === undefined) continue;
    const steps = [sent - arrived, seen - sent, answered - seen, had - answered, finished - had, finished - arrived];
    steps.forEach((value, i) => phases[i]!.push(value));
  }
  return { calls: phases[0]!.length, medians: phases.map(median) };
}

/**
 * The timelines the probe wrote into `dir`, by script name (`upstream-server.ts`,
 * `bare-passthrough.ts`, `main.js`). Keyward's workers (`--workers N`) write one each: merged, as
 * c=1 calls follow one another whichever worker serves them.
 */
export function readTimelines(dir: string): Map<string, ProcessTimeline> {
  const byScript = new Map<string, ProcessTimeline>();
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.json')) continue;
    const timeline = JSON.parse(readFileSync(join(dir, name), 'utf8')) as ProcessTimeline;
    const known = byScript.get(timeline.script);
    byScript.set(timeline.script, known ? { script: timeline.script, steps: known.steps.concat(timeline.steps) } : timeline);
  }
  return byScript;
}

/** The table: one column per gateway and scenario, one row per phase. */
export function printTimeline(dir: string, runs: Array<{ label: string; bare?: TargetRun; keyward?: TargetRun }>): void {
  const timelines = readTimelines(dir);
  const upstream = timelines.get('upstream-server.ts');
  const bare = timelines.get('bare-passthrough.ts');
  const keyward = timelines.get('main.js');
  if (!upstream || !bare || !keyward) {
    console.log(`\n--timeline: a process wrote no timeline (found: ${[...timelines.keys()].join(', ') || 'none'})`);
    return;
  }
  const columns: Array<{ name: string; phases: PhaseMedians }> = [];
  for (const run of runs) {
    if (run.bare) columns.push({ name: `${run.label} bare`, phases: phasesOf(bare, upstream, run.bare.spans) });
    if (run.keyward) columns.push({ name: `${run.label} Keyward`, phases: phasesOf(keyward, upstream, run.keyward.spans) });
  }
  console.log('\nWhere a c=1 call goes, median µs (--timeline; each process stamps its own steps on the shared monotonic clock):\n');
  console.log(`| phase | ${columns.map((c) => c.name).join(' | ')} |`);
  console.log(`|---|${columns.map(() => '---|').join('')}`);
  PHASES.forEach(([name, detail], i) => {
    console.log(`| ${name} (${detail}) | ${columns.map((c) => (Number.isFinite(c.phases.medians[i]) ? c.phases.medians[i]!.toFixed(0) : 'n/a')).join(' | ')} |`);
  });
  console.log(`| calls lined up | ${columns.map((c) => String(c.phases.calls)).join(' | ')} |`);
}
