// `npm run bench -- --timeline` lines up steps stamped by separate processes: each call's phases
// come from the first step of each kind after the one before, only for calls inside the measured spans.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { phasesOf, PHASES, readTimelines } from '../../bench/timeline.js';
import { STEPS, type ProcessTimeline } from '../../bench/timeline-probe.js';

const timeline = (script: string, steps: Array<[keyof typeof STEPS, number]>): ProcessTimeline => ({
  script,
  steps: steps.flatMap(([step, t]) => [STEPS[step], t]),
});

/** One call at `t0`: the gateway takes `before` µs to call the upstream, the upstream `own` µs, the gateway `after` µs. */
function call(t0: number, before: number, own: number, after: number) {
  const sent = t0 + before;
  const seen = sent + 30;
  const answered = seen + own;
  const had = answered + 20;
  const finished = had + after;
  return {
    gateway: [['inboundStart', t0], ['upstreamSent', sent], ['upstreamComplete', had], ['inboundFinish', finished]] as Array<[keyof typeof STEPS, number]>,
    upstream: [['inboundStart', seen], ['inboundFinish', answered]] as Array<[keyof typeof STEPS, number]>,
  };
}

describe('bench timeline', () => {
  it('gives each phase of the calls in the measured spans, lined up across processes', () => {
    const calls = [call(1_000, 10, 40, 30), call(2_000, 60, 50, 40), call(3_000, 70, 60, 50), call(4_000, 80, 70, 60)];
    // Recorded out of order, as a process's steps may be: the line-up sorts them.
    const gateway = timeline('main.js', calls.flatMap((c) => c.gateway).reverse());
    const upstream = timeline('upstream-server.ts', calls.flatMap((c) => c.upstream));
    // The first call was warm-up: outside every span.
    const result = phasesOf(gateway, upstream, [[1_500, 2_500], [2_900, 4_500]]);
    expect(result.calls).toBe(3);
    expect(PHASES).toHaveLength(6);
    // before, to the upstream, the upstream's own time, back, after, in all: medians of 60/70/80 and so on.
    expect(result.medians).toEqual([70, 30, 60, 20, 50, 70 + 30 + 60 + 20 + 50]);
  });

  it('skips a call whose steps are not all there, and a request that never called the upstream', () => {
    const complete = call(1_000, 10, 40, 30);
    const cut = call(2_000, 10, 40, 30);
    const gateway = timeline('main.js', [
      ...complete.gateway,
      // A call whose upstream never answered: no upstream finish and nothing after it.
      ['inboundStart', 2_000],
      ['upstreamSent', 2_010],
    ]);
    const upstream = timeline('upstream-server.ts', [...complete.upstream, cut.upstream[0]!]);
    const result = phasesOf(gateway, upstream, [[0, 10_000]]);
    expect(result.calls).toBe(1);
    expect(result.medians[0]).toBe(10);
  });

  it("merges the timelines of Keyward's workers, one file each", () => {
    const dir = mkdtempSync(join(tmpdir(), 'keyward-timeline-test-'));
    try {
      writeFileSync(join(dir, 'main.js-1.json'), JSON.stringify(timeline('main.js', [['inboundStart', 1], ['inboundFinish', 2]])));
      writeFileSync(join(dir, 'main.js-2.json'), JSON.stringify(timeline('main.js', [['inboundStart', 3]])));
      writeFileSync(join(dir, 'upstream-server.ts-3.json'), JSON.stringify(timeline('upstream-server.ts', [['inboundStart', 5]])));
      const timelines = readTimelines(dir);
      expect([...timelines.keys()].sort()).toEqual(['main.js', 'upstream-server.ts']);
      expect(timelines.get('main.js')!.steps).toHaveLength(6);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
