// `npm run bench`: the Model Router measured against the limit of any Node gateway. Four
// processes, so the numbers measure routing and not a shared event loop:
//   - upstream-server.ts: a local OpenAI-compatible upstream, its pace set per scenario (child);
//   - bare-passthrough.ts: an `http` server forwarding with an undici pool, no auth, no parsing (child);
//   - Keyward as `npm start` runs it: `node dist/main.js` (built first if src/ is newer), embedded
//     SQLite in a temp dir that this process sets up, KEYWARD_WORKERS=N with `--workers N`;
//   - load-generator.ts: the same closed-loop load against the upstream directly, the bare
//     pass-through and Keyward, in turns that alternate them (child): 5 rounds at c=1, 3 turns of
//     2 s each for the throughput scenarios, so the machine's speed drifting weighs on both alike.
// Prints both gateways per scenario and the ratio. `--quick` runs each scenario for under a third of the
// time and 500 streams instead of 2,000; `--streams N` sets the concurrent-streams scenario's size;
// compare `--workers 2` with a run without it for 1 worker against N, and `--limits` (spending and rate
// limits on every call) with a run without it for what limits cost. `--only c64,c64-stream` runs those
// scenarios alone; `--cpu-prof DIR` has each Keyward process write a CPU profile there when it stops;
// `--timeline` adds where a c=1 call's time goes in each gateway and in the upstream (timeline.ts).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { findPrimaryOrganization } from '../src/accounts/organizations.js';
import { loadConfig } from '../src/config.js';
import { addProviderKey } from '../src/keys/provider-keys.js';
import { createConfidentialClient } from '../src/oauth/clients.js';
import { startPlatform } from '../src/platform.js';
import { setLimit } from '../src/limits/spending-limits.js';
import { setModelPrice } from '../src/usage/model-prices.js';
import { findDefaultLlmProxy } from '../src/proxies/llm-proxies.js';
import { FIXTURE_V8_FLAGS, forkBenchScript, PROVIDER_KEY } from './bench-process.js';
import type { BenchJob, BenchResult, BenchScenario, TargetRun } from './load-generator.js';
import { printTimeline } from './timeline.js';
import { isBuildCurrent } from '../test/support/built-entry.js';

const here = dirname(fileURLToPath(import.meta.url));
const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    streams: { type: 'string' },
    workers: { type: 'string', default: '1' },
    limits: { type: 'boolean', default: false },
    only: { type: 'string' },
    'cpu-prof': { type: 'string' },
    timeline: { type: 'boolean', default: false },
  },
});
const workers = Number(flags.workers);
const scale = flags.quick ? 0.3 : 1;
const streams = Number(flags.streams ?? (flags.quick ? 500 : 2000));
/** Bounds the whole run: a stuck child must not hang `npm run bench`. */
const DEADLINE_MS = 240_000;

const n = (count: number) => Math.max(1, Math.round(count * scale));
const ALL = ['direct', 'bare', 'keyward'];
const GATEWAYS = ['bare', 'keyward'];
// Model names carry the upstream's pace (upstream-server.ts): d = ms before answering, i = ms between chunks, n = chunks.
const seconds = (s: number) => ({ total: 1_000_000, warmup: 1_000_000, durationMs: s * 1000 * scale, warmupMs: 1000 * scale });
const SCENARIOS: BenchScenario[] = [
  // c=1 measures steady state: each target first serves 2,000 calls of the scenario. Keyward's p50 over
  // its first 1,800 streamed calls was 1.56 ms, then 1.13, then 1.0–1.1 ms (V8 optimising its code);
  // the bare pass-through, with far less code, settles within a few hundred.
  { label: 'c1', concurrency: 1, stream: false, total: n(1500), warmup: n(2000), rounds: 5, model: 'bench-n20', only: ALL },
  { label: 'c1-stream', concurrency: 1, stream: true, total: n(1500), warmup: n(2000), rounds: 5, model: 'bench-n20', only: ALL },
  { label: 'c64', concurrency: 64, stream: false, ...seconds(6), rounds: 3, model: 'bench-d20-n20', only: GATEWAYS },
  { label: 'c64-stream', concurrency: 64, stream: true, ...seconds(6), rounds: 3, model: 'bench-d20-n20', only: GATEWAYS },
  { label: 'c256', concurrency: 256, stream: false, ...seconds(6), rounds: 3, model: 'bench-d20-n20', only: GATEWAYS },
  { label: 'c256-stream', concurrency: 256, stream: true, ...seconds(6), rounds: 3, model: 'bench-d20-n20', only: GATEWAYS },
  { label: 'streams', concurrency: streams, stream: true, total: streams, warmup: 0, model: 'bench-i50-n20', only: GATEWAYS },
].filter((scenario) => !flags.only || flags.only.split(',').includes(scenario.label));

/** With --timeline: where each process writes its steps, and the preload that records them. */
let timelineDir: string | undefined;
const TIMELINE_PROBE = new URL('./timeline-probe.ts', import.meta.url).href;
const timelineEnv = () => (timelineDir ? { KEYWARD_BENCH_TIMELINE: timelineDir } : {});

/** Forks a bench script with the fixtures' flags (this process's `--import tsx` is inherited; with --timeline, the probe). */
function forkScript(name: string, args: string[] = [], { probed = true } = {}): { child: ChildProcess; firstMessage: Promise<any> } {
  return forkBenchScript(name, args, {
    env: { ...process.env, ...(probed ? timelineEnv() : {}) },
    execArgv: [...FIXTURE_V8_FLAGS, ...process.execArgv, ...(timelineDir && probed ? ['--import', TIMELINE_PROBE] : [])],
  });
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

function printTable(results: BenchResult[], peakRssMb: number) {
  const get = (label: string, target: string): TargetRun | undefined => results.find((r) => r.scenario.label === label)?.runs.find((r) => r.target === target);
  const ms = (v: number) => `${v.toFixed(2)} ms`;
  const rps = (r: TargetRun | undefined) => (r ? (r.latencies.length / r.elapsedMs) * 1000 : NaN);
  const rows: string[] = [];
  const row = (name: string, bare: string, keyward: string, ratio: string, target: string) => {
    // A scenario left out with --only has no row.
    if (!(bare.includes('NaN') && keyward.includes('NaN'))) rows.push(`| ${name} | ${bare} | ${keyward} | ${ratio} | ${target} |`);
  };
  const ratio = (k: number, b: number) => (Number.isFinite(k / b) ? `${(k / b).toFixed(2)}×` : 'n/a');
  const added = (label: string, target: string, p: number, of: 'latencies' | 'ttfb') => {
    const direct = get(label, 'direct');
    const run = get(label, target);
    return run && direct ? percentile(run[of], p) - percentile(direct[of], p) : NaN;
  };
  for (const [name, label, p, of, goal] of [
    ['c=1, added latency p50', 'c1', 50, 'latencies', '≤ 1.5×'],
    ['c=1, added latency p99', 'c1', 99, 'latencies', ''],
    ['c=1 stream, added latency p50', 'c1-stream', 50, 'latencies', ''],
    ['c=1 stream, added time to first byte p50', 'c1-stream', 50, 'ttfb', '≤ 1.5×'],
    ['c=1 stream, added time to first byte p99', 'c1-stream', 99, 'ttfb', ''],
  ] as const) {
    const b = added(label, 'bare', p, of);
    const k = added(label, 'keyward', p, of);
    row(name, ms(b), ms(k), ratio(k, b), goal);
  }
  for (const [name, label, goal] of [
    ['c=64, 20 ms upstream: requests/s', 'c64', ''],
    ['c=64 stream (20 chunks), 20 ms upstream: requests/s', 'c64-stream', '≥ 0.75×'],
    ['c=256, 20 ms upstream: requests/s', 'c256', '≥ 0.75×'],
    ['c=256 stream (20 chunks), 20 ms upstream: requests/s', 'c256-stream', ''],
  ] as const) {
    const b = rps(get(label, 'bare'));
    const k = rps(get(label, 'keyward'));
    row(name, b.toFixed(0), k.toFixed(0), ratio(k, b), goal);
  }
  // CPU time per call: less at the mercy of the machine's other load than requests/s (batching still moves it).
  for (const [name, label] of [
    ['c=1: CPU per request', 'c1'],
    ['c=1 stream: CPU per request', 'c1-stream'],
    ['c=64: CPU per request', 'c64'],
    ['c=64 stream: CPU per request', 'c64-stream'],
    ['c=256: CPU per request', 'c256'],
    ['c=256 stream: CPU per request', 'c256-stream'],
  ] as const) {
    const perRequest = (r: TargetRun | undefined) => (r ? r.cpuMs / r.latencies.length : NaN);
    const b = perRequest(get(label, 'bare'));
    const k = perRequest(get(label, 'keyward'));
    if (Number.isFinite(b) || Number.isFinite(k)) row(name, ms(b), ms(k), ratio(k, b), '');
  }
  for (const label of ['c64-stream', 'c256-stream']) {
    const b = get(label, 'bare');
    const k = get(label, 'keyward');
    if (b && k) row(`${label.replace('-stream', '').replace('c', 'c=')} stream: time to first byte p50`, ms(percentile(b.ttfb, 50)), ms(percentile(k.ttfb, 50)), ratio(percentile(k.ttfb, 50), percentile(b.ttfb, 50)), '');
  }
  const sb = get('streams', 'bare');
  const sk = get('streams', 'keyward');
  if (sb && sk) {
    row(`${streams} concurrent streams (20 chunks, 50 ms apart): failures`, String(sb.failures), String(sk.failures), '', '0');
    row(`${streams} concurrent streams: duration p50 / p99`, `${ms(percentile(sb.latencies, 50))} / ${ms(percentile(sb.latencies, 99))}`, `${ms(percentile(sk.latencies, 50))} / ${ms(percentile(sk.latencies, 99))}`, '', '');
  }
  // --timeline loads the probe through tsx, whose module loader runs in a thread of its own.
  const probed = timelineDir ? "; --timeline adds tsx's loader thread, about 25 MB: compare a run without it" : '';
  row(workers === 1 ? `Keyward peak RSS (its process${probed})` : `Keyward peak RSS (${workers} workers together${probed})`, '', `${peakRssMb.toFixed(0)} MB`, '', '< 250 MB');
  console.log('| scenario | bare pass-through | Keyward | ratio | target |');
  console.log('|---|---|---|---|---|');
  for (const line of rows) console.log(line);
  for (const result of results) {
    for (const run of result.runs) {
      if (run.failures) console.log(`\n${result.scenario.label} / ${run.target}: ${run.failures} failed; first: ${run.firstFailure}`);
    }
  }
}

interface RunningKeyward {
  address: string;
  proxyId: string;
  token: string;
  /** Resident memory of the process(es) serving Keyward now, in bytes. */
  rss(): number;
  /** The process(es) serving Keyward, whose CPU time the load generator measures. */
  pids: number[];
  close(): Promise<void>;
}

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });

/** The processes whose parent is `pid` (the cluster's workers), from /proc. */
function childPids(pid: number): string[] {
  return readdirSync('/proc').filter((entry) => {
    if (!/^\d+$/.test(entry)) return false;
    try {
      return Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1]) === pid;
    } catch {
      return false; // The process went away while we looked.
    }
  });
}

/** Resident memory of one process, in bytes, from /proc. */
function processRss(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0; // Gone meanwhile.
  }
}

/** Keyward runs as production runs it (`node dist/main.js`): rebuilt first when a source is newer than the build. */
function ensureBuilt(): string {
  const main = join(here, '../dist/main.js');
  if (!isBuildCurrent('main')) {
    console.log('bench: dist/ is older than src/; running npm run build');
    execFileSync('npm', ['run', 'build'], { cwd: join(here, '../../..'), stdio: 'inherit' });
  }
  return main;
}

async function clientToken(address: string, client: { client_id: string; client_secret: string }): Promise<string> {
  const tokenResponse = await fetch(`${address}/api/auth/oauth2/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(client.client_id)}:${encodeURIComponent(client.client_secret)}`).toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'llm:proxy' }),
  });
  const { access_token: token } = (await tokenResponse.json()) as { access_token: string };
  if (!token) throw new Error('could not get a client-credentials token');
  return token;
}

/**
 * Keyward with an org key for the bench upstream and a client-credentials token, set up in this
 * process, then served by `node dist/main.js` with KEYWARD_WORKERS (plain node, no TypeScript
 * loader, as `npm start` runs it), so its RSS and CPU are production's.
 */
async function startKeyward(env: Record<string, string>, upstreamUrl: string): Promise<RunningKeyward> {
  const main = ensureBuilt();
  const platform = await startPlatform(loadConfig(env));
  const ctx = platform.ctx;
  const org = (await findPrimaryOrganization(ctx.db))!;
  const proxy = (await findDefaultLlmProxy(ctx.db))!;
  await addProviderKey(ctx.db, ctx.box, { organizationId: org.id, provider: 'openai', apiKey: PROVIDER_KEY, baseUrl: `${upstreamUrl}/v1`, scope: 'org' });
  const client = await createConfidentialClient(ctx, { name: 'bench', proxyIds: [proxy.id] });
  if (flags.limits) {
    // Limits that bind every call and never stop one: the cost of checking, reserving and settling.
    // The bench models get a price, or a budget would (rightly) refuse them as unpriced.
    for (const model of new Set(SCENARIOS.map((scenario) => scenario.model))) {
      await setModelPrice(ctx, { provider: 'openai', model, inputUsdPerMtok: '0.15', outputUsdPerMtok: '0.6' });
    }
    await setLimit(ctx, { organizationId: org.id, scope: 'org', usd: '1000000', period: 'month', requestsPerMinute: 1_000_000_000, tokensPerMinute: 1_000_000_000_000 });
    await setLimit(ctx, { organizationId: org.id, scope: 'client', clientId: client.client_id, usd: '1000000', period: 'day', requestsPerMinute: 1_000_000_000 });
  }
  await platform.close();
  const port = await freePort();
  const profile = flags['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', flags['cpu-prof']] : [];
  const probe = timelineDir ? ['--import', 'tsx', '--import', TIMELINE_PROBE] : [];
  const child = spawn(process.execPath, [...profile, ...probe, main], {
    env: { ...process.env, ...env, ...timelineEnv(), PORT: String(port), KEYWARD_WORKERS: String(workers), KEYWARD_LOG_FORMAT: 'json' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const address = `http://127.0.0.1:${port}`;
  // The log level is the bench's (warn), so no "listening" line: ready, and every worker forked.
  for (let i = 0; ; i++) {
    if (i > 600 || child.exitCode !== null) throw new Error('Keyward did not start');
    const ready = await fetch(`${address}/readyz`).then((r) => r.status === 200, () => false);
    if (ready && (workers === 1 || childPids(child.pid!).length >= workers)) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  // Forked workers listen a moment after the first one answers.
  if (workers > 1) await new Promise((r) => setTimeout(r, 2000));
  const servingPids = () => (workers === 1 ? [child.pid!] : childPids(child.pid!).map(Number));
  return {
    address,
    proxyId: proxy.id,
    token: await clientToken(address, client),
    rss: () => servingPids().reduce((sum, pid) => sum + processRss(pid), 0),
    pids: workers === 1 ? [child.pid!] : [child.pid!, ...servingPids()],
    close: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      if (flags['cpu-prof']) console.log(`CPU profile(s) of Keyward written to ${flags['cpu-prof']}`);
    },
  };
}

async function main() {
  const deadline = setTimeout(() => {
    console.error(`bench: still running after ${DEADLINE_MS / 1000} s; giving up`);
    process.exit(1);
  }, DEADLINE_MS);
  deadline.unref();
  const children: ChildProcess[] = [];
  let results: BenchResult[] | undefined;
  const dataDir = await mkdtemp(join(tmpdir(), 'keyward-bench-'));
  if (flags.timeline) timelineDir = await mkdtemp(join(tmpdir(), 'keyward-timeline-'));
  const loadBefore = loadavg();
  try {
    const upstream = forkScript('upstream-server.ts');
    children.push(upstream.child);
    const { port } = (await upstream.firstMessage) as { port: number };
    const upstreamUrl = `http://127.0.0.1:${port}`;
    const bare = forkScript('bare-passthrough.ts', [upstreamUrl]);
    children.push(bare.child);
    const { port: barePort } = (await bare.firstMessage) as { port: number };

    const logLevel = process.env.KEYWARD_LOG_LEVEL ?? 'warn';
    const keyward = await startKeyward(
      {
        PORT: '0',
        HOST: '127.0.0.1',
        KEYWARD_DATA_DIR: dataDir,
        KEYWARD_ADMIN_EMAIL: 'bench@example.com',
        KEYWARD_ADMIN_PASSWORD: 'a long bench password 123',
        KEYWARD_LOG_LEVEL: logLevel,
        KEYWARD_LOG_FORMAT: 'json',
      },
      upstreamUrl,
    );
    try {
      const upstreamHeaders = { authorization: `Bearer ${PROVIDER_KEY}` };
      const job: BenchJob = {
        targets: [
          { name: 'direct', origin: upstreamUrl, path: '/v1/chat/completions', headers: upstreamHeaders, modelPrefix: '' },
          { name: 'bare', origin: `http://127.0.0.1:${barePort}`, path: '/v1/chat/completions', headers: upstreamHeaders, modelPrefix: '', pids: [bare.child.pid!] },
          {
            name: 'keyward',
            origin: keyward.address,
            path: `/v1/model-router/${keyward.proxyId}/chat/completions`,
            headers: { authorization: `Bearer ${keyward.token}` },
            modelPrefix: 'openai:',
            pids: keyward.pids,
          },
        ],
        scenarios: SCENARIOS,
      };
      const started = Date.now();
      let peakRss = keyward.rss();
      const rssSampler = setInterval(() => (peakRss = Math.max(peakRss, keyward.rss())), 100);
      // The client is not probed: what it would add, it would add to every target alike.
      const load = forkScript('load-generator.ts', [], { probed: false });
      children.push(load.child);
      load.child.send(job);
      const answer = (await load.firstMessage) as { results?: BenchResult[]; error?: string };
      clearInterval(rssSampler);
      if (!answer.results) throw new Error(`load generator failed: ${answer.error}`);
      results = answer.results;

      const cpu = cpus();
      const load1 = (l: number[]) => l.map((v) => v.toFixed(2)).join(', ');
      console.log(
        `\nKeyward (${workers === 1 ? '1 process' : `KEYWARD_WORKERS=${workers}`}) against a bare Node pass-through — ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, Node ${process.version}, SQLite, log level ${logLevel}` +
          `${flags.quick ? ', --quick' : ''}; upstream, bare pass-through, Keyward and load generator in separate processes (all but Keyward with ${FIXTURE_V8_FLAGS.join(' ')}); ${((Date.now() - started) / 1000).toFixed(1)} s; ` +
          `load average before ${load1(loadBefore)}, after ${load1(loadavg())}\n`,
      );
      printTable(answer.results, peakRss / 2 ** 20);
      console.log(
        '\n"Added" is the p50/p99 minus that of calling the upstream directly (c=1, upstream answers at once; the upstream, the bare pass-through and Keyward called in turn, 5 rounds). Latency is measured to the last byte; ' +
          'requests/s over time-bounded closed-loop runs (6 s per gateway, in 3 turns of 2 s that alternate the gateways, after 1 s of warm-up). Both gateways open at most 256 connections to the upstream (per worker for Keyward). ' +
          "CPU per request: user + system time of the gateway's process(es) over the run, divided by the calls. " +
          'Peak RSS of the process(es) serving Keyward (`node dist/main.js`; with several workers, the workers together).',
      );
    } finally {
      await keyward.close();
    }
    if (timelineDir && results) {
      // Each process writes its steps as it exits: Keyward has; the upstream and the bare pass-through exit when let go.
      await Promise.all([upstream.child, bare.child].map((child) => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : (child.once('exit', resolve), child.disconnect())))));
      const runsOf = (label: string) => results!.find((r) => r.scenario.label === label)?.runs;
      printTimeline(
        timelineDir,
        ['c1', 'c1-stream'].flatMap((label) => {
          const runs = runsOf(label);
          return runs ? [{ label, bare: runs.find((r) => r.target === 'bare'), keyward: runs.find((r) => r.target === 'keyward') }] : [];
        }),
      );
    }
  } finally {
    for (const child of children) if (child.exitCode === null) child.kill();
    await rm(dataDir, { recursive: true, force: true });
    if (timelineDir) await rm(timelineDir, { recursive: true, force: true });
    clearTimeout(deadline);
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
