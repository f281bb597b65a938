// The bench's client, in its own process (forked by router-overhead.ts) so that generating load
// does not compete with the platform for its event loop. Receives the two targets and the
// scenarios over IPC, sends the same requests to both, and answers with the sorted latencies.

import { Pool } from 'undici';

export interface BenchTarget {
  origin: string;
  path: string;
  headers: Record<string, string>;
  model: string;
}

export interface BenchScenario {
  concurrency: number;
  stream: boolean;
  total: number;
  warmup: number;
}

export interface BenchJob {
  direct: BenchTarget;
  routed: BenchTarget;
  scenarios: BenchScenario[];
}

export interface BenchResult {
  scenario: BenchScenario;
  direct: number[];
  routed: number[];
}

async function once(pool: Pool, target: BenchTarget, stream: boolean): Promise<number> {
  const started = performance.now();
  const { statusCode, body } = await pool.request({
    method: 'POST',
    path: target.path,
    headers: { 'content-type': 'application/json', ...target.headers },
    body: JSON.stringify({ model: target.model, messages: [{ role: 'user', content: 'Say the pangram.' }], stream, ...(stream ? { stream_options: { include_usage: true } } : {}) }),
  });
  await body.text();
  if (statusCode !== 200) throw new Error(`HTTP ${statusCode} from ${target.origin}${target.path}`);
  return performance.now() - started;
}

async function run(pool: Pool, target: BenchTarget, stream: boolean, concurrency: number, total: number): Promise<number[]> {
  const latencies: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        next += 1;
        latencies.push(await once(pool, target, stream));
      }
    }),
  );
  return latencies.sort((a, b) => a - b);
}

async function runJob(job: BenchJob): Promise<BenchResult[]> {
  const directPool = new Pool(job.direct.origin, { connections: 128 });
  const routedPool = new Pool(job.routed.origin, { connections: 128 });
  const results: BenchResult[] = [];
  try {
    for (const scenario of job.scenarios) {
      // Warm both paths (connections, JIT, caches) before measuring.
      await run(directPool, job.direct, scenario.stream, scenario.concurrency, scenario.warmup);
      await run(routedPool, job.routed, scenario.stream, scenario.concurrency, scenario.warmup);
      const direct = await run(directPool, job.direct, scenario.stream, scenario.concurrency, scenario.total);
      const routed = await run(routedPool, job.routed, scenario.stream, scenario.concurrency, scenario.total);
      results.push({ scenario, direct, routed });
    }
  } finally {
    await directPool.close();
    await routedPool.close();
  }
  return results;
}

process.once('message', (job: BenchJob) => {
  runJob(job).then(
    (results) => process.send?.({ results }, undefined, {}, () => process.exit(0)),
    (error: unknown) => process.send?.({ error: error instanceof Error ? error.message : String(error) }, undefined, {}, () => process.exit(1)),
  );
});
